# LoRA fine-tune of a tiny model, then ft-eval: the base model's ppl equals ft-train's step-0
# eval_loss (the fresh adapter is the identity) and `ft-eval --adapter OUT` equals the final
# eval_loss (the saved adapter reproduces the trained model); the loss went down.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 200
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 2 40
ft-train --model tiny --data train.tok --val val.tok --method lora --lora-targets all-linear -o out --seq-len 64 \
  --batch 4 --epochs 2 --lr 1e-2 --eval-every 10 --log log.jsonl -q
for f in adapter_config.json adapter_model.safetensors train_config.json; do [ -f out/$f ] || fail "out/$f missing"; done
ft-eval --model tiny ppl val.tok >base.json
ft-eval --model tiny --adapter out ppl val.tok >tuned.json
"$FT_PY" - <<'PY'
import json
ev = [j for j in map(json.loads, open("log.jsonl")) if "eval_loss" in j]
base, tuned = json.load(open("base.json"))["loss"], json.load(open("tuned.json"))["loss"]
assert ev[0]["step"] == 0 and abs(ev[0]["eval_loss"] - base) < 1e-5, (ev[0], base)
assert abs(ev[-1]["eval_loss"] - tuned) < 1e-5, (ev[-1], tuned)
assert tuned < base - 0.5, (base, tuned)
steps = [j for j in map(json.loads, open("log.jsonl")) if "loss" in j]
for k in ("step", "epoch", "loss", "lr", "grad_norm", "tokens_per_s", "elapsed_s"):
    assert k in steps[0], k
# PEFT layout, read by the reference safetensors library
from safetensors.numpy import load_file
t = load_file("out/adapter_model.safetensors")
a = t["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"]
b = t["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"]
assert a.shape == (8, 64) and b.shape == (32, 8), (a.shape, b.shape)
assert len(t) == 2 * 7 * 2
cfg = json.load(open("out/adapter_config.json"))
assert cfg["peft_type"] == "LORA" and cfg["r"] == 8 and cfg["lora_alpha"] == 16
assert sorted(cfg["target_modules"]) == sorted(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
PY
