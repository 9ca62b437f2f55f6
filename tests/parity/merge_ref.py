#!/usr/bin/env python3
"""merge_ref.py — independent NumPy side of the ft-merge tests.

  make-adapter DIR MODEL_DIR SEED R ALPHA RSLORA TARGETS   random PEFT LoRA adapter (A and B non-zero)
  expect-merge MODEL_DIR OUT_DIR AD1 W1 [AD2 W2 ...]       merged f32 weights == W + sum w*s*B@A
  logits-close A.f32 B.f32 V TOL                            max |a-b| <= TOL (prints it)
  gguf-matches MERGED.gguf SOURCE.gguf HF_MERGED_DIR        metadata carried, tensors == HF merge (Q/K permuted)
  gguf-adapter FILE.gguf ADAPTER_DIR N_HEAD N_KV            llama.cpp LoRA layout checks
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from make_tiny_model import gguf_name, permute  # noqa: E402  (llama.cpp naming and Q/K permutation)

PREFIX = "base_model.model.model.layers.{}.{}.{}"
GROUP = {"q_proj": "self_attn", "k_proj": "self_attn", "v_proj": "self_attn", "o_proj": "self_attn",
         "gate_proj": "mlp", "up_proj": "mlp", "down_proj": "mlp"}


def load_model(d):
    w = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"):
            w.update(load_file(os.path.join(d, f)))
    return {k: v.astype(np.float32) for k, v in w.items()}


def scale(c):
    """PEFT's LoRA scale from adapter_config.json: lora_alpha / r (rsLoRA: lora_alpha / sqrt(r))."""
    return c["lora_alpha"] / (np.sqrt(c["r"]) if c.get("use_rslora") else c["r"])


def make_adapter(out, model_dir, seed, r, alpha, rslora, targets, extra=None, metadata=None, **config):
    """A PEFT adapter dir: lora_A/lora_B ~ N(0, 0.3) for every target of every layer; extra(rng, W)
    (optional) gives more tensors {suffix: array} of the module, drawn after its A and B; config:
    more adapter_config.json keys."""
    rng = np.random.default_rng(int(seed))
    r, alpha = int(r), float(alpha)
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    w = load_model(model_dir)
    t = {}
    for l in range(cfg["num_hidden_layers"]):
        for m in targets.split(","):
            W = w[f"model.layers.{l}.{GROUP[m]}.{m}.weight"]
            o, i = W.shape
            key = PREFIX.format(l, GROUP[m], m)
            t[key + ".lora_A.weight"] = rng.normal(0, 0.3, (r, i)).astype(np.float32)
            t[key + ".lora_B.weight"] = rng.normal(0, 0.3, (o, r)).astype(np.float32)
            for suffix, v in (extra(rng, W) if extra else {}).items():
                t[key + suffix] = v
    os.makedirs(out, exist_ok=True)
    save_file(t, os.path.join(out, "adapter_model.safetensors"), metadata=metadata)
    json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha,
               "target_modules": targets.split(","), "lora_dropout": 0.0, "use_rslora": rslora == "1",
               **config, "base_model_name_or_path": model_dir, "bias": "none", "fan_in_fan_out": False},
              open(os.path.join(out, "adapter_config.json"), "w"))


def expect_merge(model_dir, out_dir, pairs):
    base = load_model(model_dir)
    got = load_model(out_dir)
    exp = dict(base)
    for ad, wt in pairs:
        c = json.load(open(os.path.join(ad, "adapter_config.json")))
        s = scale(c)
        t = load_file(os.path.join(ad, "adapter_model.safetensors"))
        for k, A in t.items():
            if not k.endswith("lora_A.weight"):
                continue
            B = t[k.replace("lora_A", "lora_B")]
            name = k[len("base_model.model."):].replace(".lora_A.weight", ".weight")
            exp[name] = exp[name] + float(wt) * s * (B.astype(np.float64) @ A.astype(np.float64)).astype(np.float32)
    assert set(got) == set(exp) - ({"lm_head.weight"} if "lm_head.weight" not in got else set()), set(exp) ^ set(got)
    worst = 0.0
    for k in got:
        d = float(np.max(np.abs(got[k] - exp[k])))
        worst = max(worst, d)
        assert d <= 1e-5 * max(1.0, float(np.max(np.abs(exp[k])))), (k, d)
    changed = sum(1 for k in got if not np.array_equal(got[k], base[k]))
    assert changed > 0, "nothing was merged"
    print(f"merged weights match NumPy: max abs diff {worst:.3g} over {len(got)} tensors ({changed} changed)")


def logits_close(a, b, V, tol):
    x = np.fromfile(a, dtype="<f4").reshape(-1, int(V))
    y = np.fromfile(b, dtype="<f4").reshape(-1, int(V))
    assert x.shape == y.shape and x.size > 0, (x.shape, y.shape)
    d = float(np.max(np.abs(x - y)))
    print(f"logits max abs diff {d:.3g} (tolerance {tol}), |logit| max {float(np.max(np.abs(x))):.3g}")
    assert d <= float(tol), d


def raw_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        hdr = json.loads(f.read(n))
        data = f.read()
    hdr.pop("__metadata__", None)
    return {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in hdr.items()}


def bf16_of(f32_dir, bf16_dir):
    """Every bf16 weight is the round-to-nearest-even bf16 of the f32 merge, bit for bit."""
    want = load_model(f32_dir)
    got = {}
    for f in os.listdir(bf16_dir):
        if f.endswith(".safetensors"):
            got.update(raw_safetensors(os.path.join(bf16_dir, f)))
    assert set(got) == set(want), set(got) ^ set(want)
    for k, (dt, shape, b) in got.items():
        assert dt == "BF16", (k, dt)
        u = want[k].astype(np.float32).view(np.uint32).astype(np.uint64)
        rne = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
        g = np.frombuffer(b, dtype="<u2").reshape(shape)
        assert np.array_equal(g, rne.reshape(shape)), k
    print(f"bf16 merge: {len(got)} tensors are the exact bf16 rounding of the f32 merge")


def gguf_matches(merged, source, hf_dir):
    from gguf import GGUFReader
    m, s = GGUFReader(merged), GGUFReader(source)
    cfg = json.load(open(os.path.join(hf_dir, "config.json")))
    skip = {"general.file_type", "general.alignment"}
    for k, f in s.fields.items():
        if k in skip or k.startswith("GGUF."):
            continue
        assert k in m.fields, f"metadata {k} not carried over"
        assert f.contents() == m.fields[k].contents(), k
    hf = load_model(hf_dir)
    mt = {t.name: t for t in m.tensors}
    for k, v in hf.items():
        t = mt[gguf_name(k)]
        a = np.array(t.data, dtype=np.float32).reshape(v.shape)
        if ".q_proj." in k:
            v = permute(v, cfg["num_attention_heads"])
        elif ".k_proj." in k:
            v = permute(v, cfg["num_key_value_heads"])
        assert np.array_equal(a, v), k
    print(f"GGUF: {len(s.fields)} metadata fields carried, {len(hf)} tensors bit-identical to the HF merge")


def gguf_adapter(path, ad, n_head, n_kv):
    from gguf import GGUFReader
    g = GGUFReader(path)
    val = lambda k: g.fields[k].contents()
    c = json.load(open(os.path.join(ad, "adapter_config.json")))
    assert val("general.type") == "adapter" and val("adapter.type") == "lora"
    alpha = c["lora_alpha"] * (np.sqrt(c["r"]) if c.get("use_rslora") else 1.0)
    assert abs(val("adapter.lora.alpha") - alpha) < 1e-4 * alpha, (val("adapter.lora.alpha"), alpha)
    t = load_file(os.path.join(ad, "adapter_model.safetensors"))
    gt = {x.name: x for x in g.tensors}
    n = 0
    for k, A in t.items():
        if not k.endswith("lora_A.weight"):
            continue
        B = t[k.replace("lora_A", "lora_B")]
        base = gguf_name(k[len("base_model.model."):].replace(".lora_A.weight", ".weight"))
        ga = np.array(gt[base + ".lora_a"].data, dtype=np.float32).reshape(A.shape)
        gb = np.array(gt[base + ".lora_b"].data, dtype=np.float32).reshape(B.shape)
        if ".q_proj." in k:
            B = permute(B, int(n_head))
        elif ".k_proj." in k:
            B = permute(B, int(n_kv))
        assert np.array_equal(ga, A) and np.array_equal(gb, B), k
        n += 1
    print(f"GGUF adapter: {n} A/B pairs in llama.cpp layout, alpha {val('adapter.lora.alpha'):.4g}")


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "make-adapter":
        make_adapter(*a)
    elif cmd == "expect-merge":
        expect_merge(a[0], a[1], list(zip(a[2::2], a[3::2])))
    elif cmd == "logits-close":
        logits_close(*a)
    elif cmd == "gguf-matches":
        gguf_matches(*a)
    elif cmd == "bf16-of":
        bf16_of(*a)
    elif cmd == "gguf-adapter":
        gguf_adapter(*a)
    else:
        sys.exit(f"unknown command {cmd}")
