# ft-train --method lora --dora on a tiny model: step 0 is the base, the loss goes down,
# ft-eval --adapter reproduces the trained model, the PEFT file holds A, B and the magnitude
# (one per output row of each target).
. "$FT_ROOT/tests/cli/train_methods.sh.inc"
# q,v,down: per layer r*(in+out) + out each: q 8*(64+64)+64, v 8*(64+32)+32, down 8*(128+64)+64
check_run $((2 * (8 * 128 + 64 + 8 * 96 + 32 + 8 * 192 + 64))) "" --method lora --dora --lora-targets q,v,down --lr 1e-2
step0_is_base
"$FT_PY" - <<'PY'
import json
from safetensors.numpy import load_file
t = load_file("out/adapter_model.safetensors")
cfg = json.load(open("out/adapter_config.json"))
assert cfg["peft_type"] == "LORA" and cfg["use_dora"] is True, cfg
mags = [k for k in t if "lora_magnitude_vector" in k]
assert len(mags) == 2 * 3, mags
PY
