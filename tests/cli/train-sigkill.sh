# ft-train crash safety: SIGKILL at arbitrary moments of a run that checkpoints every step
# (so kills land inside checkpoint writes) never leaves a checkpoint --resume would load
# half-written: every resume succeeds and the final adapter equals the uninterrupted run's.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 64 --intermediate 128 --layers 2 --vocab 300 --seed 4
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 2 300
args=(--model tiny --data train.tok --method lora --lora-targets all-linear --lora-r 16 --seq-len 128 --batch 4
      --max-steps 30 --lr 5e-3 --save-every 1 --seed 9 -q)
ft-train "${args[@]}" -o ref
kills=0
for delay in 0.15 0.3 0.2 0.35 0.25; do
  ft-train "${args[@]}" -o run --resume &
  pid=$!
  sleep $delay
  kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null || true
  ls run/checkpoints/.tmp-* >/dev/null 2>&1 && echo "a partial checkpoint was left (ignored by --resume)" >&2
done
[ $kills -gt 0 ] || skip "every run finished before SIGKILL (machine too fast for this case)"
ft-train "${args[@]}" -o run --resume -v 2>resume.err || { cat resume.err >&2; fail "resume after SIGKILL failed"; }
cmp ref/adapter_model.safetensors run/adapter_model.safetensors || fail "adapter after kills + resume differs"
