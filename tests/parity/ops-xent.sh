# ops-xent.sh — CPU fused LM head + cross-entropy (loss, dh, dw; masked rows) vs a NumPy float64 reference.
source "$FT_ROOT/tests/lib.sh"
need_py
bin="${FT_UNIT:-$FT_ROOT/build/tests}/test_ops_attn"
[ -x "$bin" ] || skip "no $bin (run make)"
for seed in 1 2; do
  mkdir -p "d$seed"
  "$bin" --dump xent "d$seed" "$seed" || fail "dump failed"
  "$FT_PY" "$FT_ROOT/tests/parity/ops_ref.py" xent "d$seed" || fail "xent differs from NumPy (seed $seed)"
done
