# ft-train --method prompt (PEFT PROMPT_TUNING) on a tiny model: the loss goes down, the saved
# prompt_embeddings (N, C) reproduce the trained model in ft-eval; with --prompt-init TEXT the
# saved config records the text.
. "$FT_ROOT/tests/cli/train_methods.sh.inc"
check_run $((8 * 64)) "" --method prompt --num-virtual-tokens 8 --prompt-init "abc abc" --lr 3e-2
"$FT_PY" - <<'PY'
import json
from safetensors.numpy import load_file
t = load_file("out/adapter_model.safetensors")
cfg = json.load(open("out/adapter_config.json"))
assert cfg["peft_type"] == "PROMPT_TUNING" and cfg["num_virtual_tokens"] == 8, cfg
assert cfg.get("prompt_tuning_init_text") == "abc abc", cfg
assert list(t) == ["prompt_embeddings"] and t["prompt_embeddings"].shape == (8, 64), {k: v.shape for k, v in t.items()}
PY
