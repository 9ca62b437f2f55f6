# ft-train on the real SmolLM2-135M-Instruct (GGUF Q4_1, tied embeddings, GQA 9/3): a 2-step
# LoRA run on one json-extract record lowers its loss, and ft-eval with the saved adapter
# reproduces ft-train's final eval_loss. Skips when the model is not cached.
. "$FT_ROOT/tests/lib.sh"
need_py
M=$(model_path) || true
[ -n "$M" ] && [ -f "$M" ] || skip "SmolLM2 not cached (make model)"
export OMP_NUM_THREADS=1
head -1 "$FT_ROOT/examples/json-extract/train.jsonl" | ft-template -m "$M" | ft-tokenize --tokenizer "$M" -o d.tok
ft-train --model "$M" --data d.tok --val d.tok --method lora --lora-targets q,v,down --lora-r 4 --lr 3e-3 \
  --seq-len 96 --batch 1 --max-steps 2 --eval-every 2 --no-shuffle --log log.jsonl -o out -q
ft-eval --model "$M" --adapter out ppl d.tok >tuned.json
"$FT_PY" - <<'PY'
import json
ev = [j["eval_loss"] for j in map(json.loads, open("log.jsonl")) if "eval_loss" in j]
assert len(ev) == 2 and ev[1] < ev[0], ev
tuned = json.load(open("tuned.json"))["loss"]
assert abs(tuned - ev[1]) < 1e-4 * max(1, ev[1]), (tuned, ev)
PY
