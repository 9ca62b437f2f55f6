# ft-train --precision bf16 (lib/train/precision.c, kernels/cpu/cpu_bf16_ops.c): on a tiny model
# big enough for the bf16 products (hidden 128: every linear and the LM head), LoRA and full
# fine-tuning losses follow the f32 run's step by step within a bf16 tolerance while not being
# identical to them (the bf16 path really ran); the precision is said in the log, train_config.json
# and the checkpoint; --resume keeps it, and refuses an explicit other one; bad values and
# bf16 off the cpu device are usage errors.
# Tolerance: bf16 keeps 8 significant bits (relative rounding <= 2^-9 ~ 2e-3 per operand); the loss
# averages ~500 tokens' log-probabilities whose logit errors are sums of ~128 independently
# rounded products, so per-step losses agree to ~1e-4 relative in practice. We allow 3e-3 relative:
# below the per-operand rounding itself, far below the 0.1+ a broken product (wrong transpose,
# stale weight image, lost accumulation) moves a loss.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=2
unset FT_PRECISION
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 128 --intermediate 256 --layers 2 --vocab 500 --seed 4
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 2 200
for method in lora full; do
  args=(--model tiny --data train.tok --method $method --lora-targets all-linear --lora-r 16 --seq-len 128 --batch 4
        --max-steps 10 --lr 2e-3 --seed 3)
  ft-train "${args[@]}" --precision f32 -o $method-f32 --log $method-f32.jsonl 2>f32.err
  expect_in "precision f32 (--precision)" f32.err
  ft-train "${args[@]}" --precision bf16 -o $method-bf16 --log $method-bf16.jsonl --save-every 5 2>bf16.err
  expect_in "precision bf16 (--precision)" bf16.err
  grep -q '"precision": "bf16"' $method-bf16/train_config.json || fail "$method: train_config.json does not say bf16"
  "$FT_PY" - $method <<'PY'
import json, sys
m = sys.argv[1]
def losses(p): return [j["loss"] for j in map(json.loads, open(p)) if "loss" in j]
a, b = losses(m + "-f32.jsonl"), losses(m + "-bf16.jsonl")
assert len(a) == len(b) == 10, (len(a), len(b))
worst = max(abs(x - y) / abs(x) for x, y in zip(a, b))
assert worst <= 3e-3, (m, worst, a, b)
assert a != b, (m, "bf16 losses identical to f32: the bf16 path did not run")
assert sum(b[-3:]) < sum(b[:3]), (m, b)   # and it trains
PY
done
# --resume keeps the checkpoint's precision when none is asked; an explicit other one is refused
args=(--model tiny --data train.tok --method lora --lora-targets all-linear --seq-len 128 --batch 4 --seed 3)
ft-train "${args[@]}" --max-steps 4 --save-every 2 --precision bf16 -o res -q
grep -q '"precision": "bf16"' res/checkpoints/*/state.json || fail "the checkpoint does not record its precision"
ft-train "${args[@]}" --max-steps 6 --resume -o res 2>res.err
expect_in "precision bf16 (the checkpoint's)" res.err
grep -q '"precision": "bf16"' res/train_config.json || fail "resumed run's train_config.json does not say bf16"
expect_exit 1 ft-train "${args[@]}" --max-steps 8 --resume --precision f32 -o res
expect_in "trained at --precision bf16, not f32" err
# FT_PRECISION is the default, the flag wins
FT_PRECISION=bf16 ft-train "${args[@]}" --max-steps 1 -o envp 2>env.err
expect_in "precision bf16 (--precision)" env.err
FT_PRECISION=bf16 ft-train "${args[@]}" --max-steps 1 --precision f32 -o envf 2>envf.err
expect_in "precision f32 (--precision)" envf.err
expect_exit 1 ft-train "${args[@]}" --max-steps 1 --precision fp8 -o bad
expect_in "--precision fp8: expected f32, bf16 or auto" err
expect_exit 1 ft-train "${args[@]}" --max-steps 1 --precision bf16 --device guard -o bad2
expect_in "runs on the cpu device only" err
