# ft-train resume: N steps uninterrupted vs. stopped by SIGTERM part-way and --resume'd to N:
# the per-step losses, lrs and grad norms and the final adapter bytes are identical (LoRA dropout
# on: its masks follow from the seed, the step and the micro-batch).
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1   # small shapes: threads only contend on a shared machine
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 64 --intermediate 128 --layers 2 --vocab 300 --seed 3
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 400
args=(--model tiny --data train.tok --method lora --lora-targets all-linear --seq-len 128 --batch 4
      --max-steps 40 --lr 5e-3 --warmup 0.1 --save-every 7 --seed 5 --lora-dropout 0.1 -q)
ft-train "${args[@]}" -o full --log full.jsonl
# interrupted run: SIGTERM once a few steps are logged
ft-train "${args[@]}" -o part --log part.jsonl -v 2>term.err &
pid=$!
for _ in $(seq 1 400); do
  [ -f part.jsonl ] && [ "$(wc -l <part.jsonl)" -ge 8 ] && break
  sleep 0.01
done
kill -TERM $pid
wait $pid || fail "SIGTERM: ft-train exited $?"
[ "$(wc -l <part.jsonl)" -lt 40 ] || skip "the run finished before SIGTERM arrived (machine too fast for this case)"
expect_in "stopped by signal" term.err
ft-train "${args[@]}" -o part --log part.jsonl --resume -v 2>resume.err
expect_in "resuming from" resume.err
"$FT_PY" - <<'PY'
import json
def rows(p):
    return [(j["step"], j["loss"], j["lr"], j["grad_norm"]) for j in map(json.loads, open(p)) if "loss" in j]
a, b = rows("full.jsonl"), rows("part.jsonl")
assert len(a) == 40, len(a)
assert a == b, next((x, y) for x, y in zip(a, b) if x != y) if len(a) == len(b) else (len(a), len(b))
PY
cmp full/adapter_model.safetensors part/adapter_model.safetensors || fail "final adapters differ"
