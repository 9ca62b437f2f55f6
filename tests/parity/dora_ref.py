#!/usr/bin/env python3
"""dora_ref.py — independent NumPy side of the DoRA tests, written from PEFT's formulas
(huggingface/peft src/peft/tuners/lora/dora.py and variants.py), not from ft's code:

  V = W + s * B @ A          s = lora_alpha / r (rsLoRA: lora_alpha / sqrt(r))
  n = ||V||, per output row (torch.linalg.norm(V, dim=1) for an (out, in) nn.Linear weight)
  forward  y = b + (mag / n) * (V @ x)        (the bias is not rescaled)
  merge    W' = (mag / n)[:, None] * V         (bias unchanged)

  make-adapter DIR MODEL_DIR SEED R ALPHA RSLORA TARGETS   a PEFT DoRA adapter as PEFT saves it:
      lora_A/lora_B non-zero, "...lora_magnitude_vector" (1-D, out) = ||W||_row * U(0.7, 1.3),
      adapter_config.json "use_dora": true
  expect-merge MODEL_DIR OUT_DIR AD                          merged f32 weights == W' above
  forward-check MODEL_DIR AD                                  y(x) by the forward formula == x @ W'^T + b
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import merge_ref  # noqa: E402  (the LoRA adapter writer)
from merge_ref import load_model, scale  # noqa: E402  (HF weights, PEFT scale)


def make_adapter(out, model_dir, seed, r, alpha, rslora, targets):
    def magnitude(rng, W):   # ||W||_row * U(0.7, 1.3), drawn after the module's A and B
        W = W.astype(np.float64)
        return {".lora_magnitude_vector": (np.linalg.norm(W, axis=1) * rng.uniform(0.7, 1.3, W.shape[0])).astype(np.float32)}
    merge_ref.make_adapter(out, model_dir, seed, r, alpha, rslora, targets, extra=magnitude,
                           metadata={"format": "pt"}, use_dora=True)


def dora_merged(model_dir, ad):
    """The base's weights with every DoRA target replaced by (mag / ||V||_row) * V, in float64."""
    w = {k: v.astype(np.float64) for k, v in load_model(model_dir).items()}
    c = json.load(open(os.path.join(ad, "adapter_config.json")))
    assert c.get("use_dora") is True
    s = scale(c)
    t = load_file(os.path.join(ad, "adapter_model.safetensors"))
    targets = []
    for k, A in t.items():
        if not k.endswith(".lora_A.weight"):
            continue
        mod = k[: -len(".lora_A.weight")]
        B = t[mod + ".lora_B.weight"].astype(np.float64)
        mag = t[mod + ".lora_magnitude_vector"].astype(np.float64)
        name = mod[len("base_model.model."):] + ".weight"
        V = w[name] + s * (B @ A.astype(np.float64))
        n = np.linalg.norm(V, axis=1)
        w[name] = (mag / n)[:, None] * V
        targets.append((name, mod, A.astype(np.float64), B, mag, s))
    return w, targets


def expect_merge(model_dir, out_dir, ad):
    base = load_model(model_dir)
    got = load_model(out_dir)
    exp, targets = dora_merged(model_dir, ad)
    assert set(got) <= set(exp) and set(exp) - set(got) <= {"lm_head.weight"}, set(exp) ^ set(got)
    worst = 0.0
    for k in got:
        d = float(np.max(np.abs(got[k] - exp[k])))
        worst = max(worst, d)
        assert d <= 1e-5 * max(1.0, float(np.max(np.abs(exp[k])))), (k, d)
    changed = sorted(k for k in got if not np.array_equal(got[k], base[k]))
    assert changed == sorted(n for n, *_ in targets), changed   # exactly the targets; biases untouched
    print(f"DoRA merge matches NumPy: max abs diff {worst:.3g}, {len(changed)} weights changed")


def forward_check(model_dir, ad):
    """The forward formula on random inputs equals the merged linear (what ft-eval compares end to end)."""
    w = {k: v.astype(np.float64) for k, v in load_model(model_dir).items()}
    merged, targets = dora_merged(model_dir, ad)
    rng = np.random.default_rng(0)
    worst = 0.0
    for name, mod, A, B, mag, s in targets:
        W = w[name]
        b = w.get(name.replace(".weight", ".bias"), np.zeros(W.shape[0]))
        x = rng.normal(0, 1, (5, W.shape[1]))
        n = np.linalg.norm(W + s * B @ A, axis=1)
        y = b + (mag / n) * (x @ W.T + s * (x @ A.T) @ B.T)
        worst = max(worst, float(np.max(np.abs(y - (x @ merged[name].T + b)))))
    assert worst < 1e-9, worst
    print(f"DoRA forward formula == merged linear on {len(targets)} targets (max diff {worst:.2g})")


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "make-adapter":
        make_adapter(*a)
    elif cmd == "expect-merge":
        expect_merge(*a)
    elif cmd == "forward-check":
        forward_check(*a)
    else:
        sys.exit(f"unknown command {cmd}")
