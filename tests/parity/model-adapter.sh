#!/usr/bin/env bash
# model-adapter.sh — ft-eval --adapter runs a PEFT LoRA adapter through the forward's LoRA hook:
# the logits equal those of the base weights merged in NumPy (W + alpha/r * B @ A), written as
# a separate HF dir. The adapter (r 4, alpha 8, q/v/down of both layers) is written by this test
# in PEFT's layout with random A and B.
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf base --seed 31
"$FT_PY" - <<'P'
import json, os, shutil
import numpy as np
from safetensors.numpy import load_file, save_file
rng = np.random.default_rng(5)
w = load_file("base/model.safetensors")
r, alpha = 4, 8.0
ad, merged = {}, dict(w)
for l in range(2):
    for mod in ("self_attn.q_proj", "self_attn.v_proj", "mlp.down_proj"):
        W = w[f"model.layers.{l}.{mod}.weight"]
        A = (rng.standard_normal((r, W.shape[1])) * 0.2).astype(np.float32)
        B = (rng.standard_normal((W.shape[0], r)) * 0.2).astype(np.float32)
        pre = f"base_model.model.model.layers.{l}.{mod}"
        ad[pre + ".lora_A.weight"], ad[pre + ".lora_B.weight"] = A, B
        merged[f"model.layers.{l}.{mod}.weight"] = (W.astype(np.float64) + alpha / r * (B.astype(np.float64) @ A)).astype(np.float32)
os.makedirs("adapter")
save_file(ad, "adapter/adapter_model.safetensors")
json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.0,
           "target_modules": ["q_proj", "v_proj", "down_proj"], "bias": "none", "use_rslora": False,
           "base_model_name_or_path": "base"}, open("adapter/adapter_config.json", "w"))
shutil.copytree("base", "merged")
save_file(merged, "merged/model.safetensors")
P
"$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" write-ftok d.tok '[[5,17,99,200,3,4,250,251,10],[7,8,9,10,11,12]]'
ft-eval --model base --adapter adapter ppl --dump-logits a.f32 d.tok >a.json || fail "ppl with --adapter"
ft-eval --model merged ppl --dump-logits m.f32 d.tok >m.json || fail "ppl on merged"
ft-eval --model base ppl --dump-logits b.f32 d.tok >b.json || fail "ppl on base"
"$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" diff a.f32 m.f32 1e-4 || fail "adapter logits differ from merged weights"
"$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" diff a.f32 b.f32 1e-2 && fail "the adapter changed nothing"
true
