# Full fine-tuning of a tiny model (untied, GQA): the loss decreases, OUT is an HF model dir
# (config.json, model.safetensors with every weight, tokenizer files) that ft-eval loads and
# whose ppl equals ft-train's final eval_loss; --config FILE.json with OUT/train_config.json
# reproduces the run bit for bit.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --vocab 300 --seed 2
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 3 150
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 4 30
ft-train --model tiny --data train.tok --val val.tok --method full -o out --seq-len 64 --batch 2 --grad-accum 2 \
  --epochs 2 --lr 3e-3 --warmup 2 --schedule linear --weight-decay 0.01 --eval-every 100 --log log.jsonl -q
for f in config.json model.safetensors tokenizer.json tokenizer_config.json train_config.json; do
  [ -f out/$f ] || fail "out/$f missing"
done
ft-eval --model out ppl val.tok >tuned.json
"$FT_PY" - <<'PY'
import json
from safetensors.numpy import load_file
log = [json.loads(l) for l in open("log.jsonl")]
steps = [j["loss"] for j in log if "loss" in j]
ev = [j["eval_loss"] for j in log if "eval_loss" in j]
assert sum(steps[-3:]) / 3 < sum(steps[:3]) / 3 - 0.3, steps
assert ev[-1] < ev[0], ev
tuned = json.load(open("tuned.json"))["loss"]
assert abs(tuned - ev[-1]) < 1e-5, (tuned, ev[-1])
a, b = load_file("tiny/model.safetensors"), load_file("out/model.safetensors")
assert sorted(a) == sorted(b), set(a) ^ set(b)
assert all(a[k].shape == b[k].shape for k in a)
assert any(abs(a[k] - b[k]).max() > 0 for k in a)
c0, c1 = json.load(open("tiny/config.json")), json.load(open("out/config.json"))
for k in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
          "vocab_size", "tie_word_embeddings"):
    assert c0.get(k) == c1.get(k), (k, c0.get(k), c1.get(k))
PY
# the effective configuration replays the run
ft-train --config out/train_config.json -o replay --log replay.jsonl -q
cmp out/model.safetensors replay/model.safetensors || fail "--config train_config.json did not reproduce the run"
