# ft-train --method prefix (PEFT PREFIX_TUNING) on a tiny model, with and without PEFT's
# reparameterization MLP: the loss goes down and the saved prompt_embeddings — the prefix
# keys and values (N, L*2*Hkv*D) — reproduce the trained model in ft-eval.
. "$FT_ROOT/tests/cli/train_methods.sh.inc"
check_run $((6 * 2 * 2 * 32)) "" --method prefix --num-virtual-tokens 6 --lr 3e-2
mv out out-plain
# with the MLP: embedding (6, token_dim) + Linear(token_dim, 16) + tanh + Linear(16, 2*2*token_dim), where
# PEFT sets token_dim to the KV width (Hkv*D = 32) for GQA models (_prepare_prompt_learning_config)
check_run $((6 * 32 + 32 * 16 + 16 + 16 * 128 + 128)) "" --method prefix --num-virtual-tokens 6 --prefix-projection \
  --prefix-hidden 16 --lr 1e-2
"$FT_PY" - <<'PY'
import json
from safetensors.numpy import load_file
for d in ("out-plain", "out"):
    t = load_file(d + "/adapter_model.safetensors")
    cfg = json.load(open(d + "/adapter_config.json"))
    assert cfg["peft_type"] == "PREFIX_TUNING" and cfg["num_virtual_tokens"] == 6, cfg
    assert list(t) == ["prompt_embeddings"] and t["prompt_embeddings"].shape == (6, 2 * 2 * 32), (d, {k: v.shape for k, v in t.items()})
PY
