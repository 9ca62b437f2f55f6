#!/usr/bin/env python3
"""lora_config_ref.py — the NumPy side of tests/parity/lora-config.sh: PEFT's LoraConfig rules
written out again in Python from PEFT's source (tuners_utils.check_target_module_exists and
utils.other.get_pattern_key, with Python's `re`), independent of ft's C code.

  make-adapter DIR MODEL_DIR SEED CONFIG_JSON   a PEFT LoRA adapter dir for MODEL_DIR's layers: for
                                                every module the config selects, lora_A (r, in) and
                                                lora_B (out, r) ~ N(0, 0.3) with r from rank_pattern
                                                (and lora_B.bias ~ N(0, 0.3) with lora_bias;
                                                modules_to_save: W + N(0, 0.3) copies)
  merge MODEL_DIR ADAPTER_DIR OUT_DIR           OUT_DIR = MODEL_DIR with W += s*B@A, bias += s*b
                                                (a bias tensor is created where the base has none,
                                                so model_ref.py's forward adds it)
  expect-shapes ADAPTER_DIR MODEL_DIR           every tensor's shape is what PEFT would build
"""
import json
import os
import re
import shutil
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

LINEARS = [("self_attn", "q_proj"), ("self_attn", "k_proj"), ("self_attn", "v_proj"), ("self_attn", "o_proj"),
           ("mlp", "gate_proj"), ("mlp", "up_proj"), ("mlp", "down_proj")]


def modules(L):
    return [f"model.layers.{l}.{g}.{n}" for l in range(L) for g, n in LINEARS]


def selected(c, key):
    """PEFT's check_target_module_exists for a module name key."""
    if any(re.match(rf"(^|.*\.){m}($|\..*)", key) for m in c.get("modules_to_save") or []):
        return False
    ex = c.get("exclude_modules")
    if ex:
        if isinstance(ex, str):
            if re.fullmatch(ex, key):
                return False
        elif key in ex or any(key.endswith("." + e) for e in ex):
            return False
    tm = c.get("target_modules")
    if tm == "all-linear":
        tm = sorted({n for _, n in LINEARS})
    if tm is None:
        return True
    if isinstance(tm, str):
        return re.fullmatch(tm, key) is not None
    if key in tm:
        return True
    found = any(key.endswith("." + t) for t in tm)
    lt, lp = c.get("layers_to_transform"), c.get("layers_pattern")
    if lt is not None and (lt != [] if isinstance(lt, list) else True) and found:
        idx = None
        if not lp:
            idx = re.match(r".*?\.[^.]*\.(\d+)\.", key)
        else:
            for p in [lp] if isinstance(lp, str) else lp:
                idx = re.match(rf".*?\.{p}\.(\d+)\.", key)
                if idx is not None:
                    break
        if idx is None:
            return False
        i = int(idx.group(1))
        return i == lt if isinstance(lt, int) else i in lt
    return found


def pattern_key(keys, name):
    for k in keys:
        if re.match(rf"(.*\.)?({k})$", name):
            return k
    return name


def r_alpha(c, name):
    rp, ap = c.get("rank_pattern") or {}, c.get("alpha_pattern") or {}
    r = rp.get(pattern_key(rp.keys(), name), c["r"])
    a = ap.get(pattern_key(ap.keys(), name), c.get("lora_alpha", 8))
    return r, a, a / (np.sqrt(r) if c.get("use_rslora") else r)


def n_layers(model_dir):
    return json.load(open(os.path.join(model_dir, "config.json")))["num_hidden_layers"]


def make_adapter(out, model_dir, seed, config):
    rng = np.random.default_rng(seed)
    w = load_file(os.path.join(model_dir, "model.safetensors"))
    c = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "lora_dropout": 0.0, "bias": "none", "use_rslora": False,
         "base_model_name_or_path": model_dir}
    c.update(config)
    t = {}
    for name in modules(n_layers(model_dir)):
        if not selected(c, name):
            continue
        W = w[name + ".weight"]
        r, _, _ = r_alpha(c, name)
        pre = "base_model.model." + name
        t[pre + ".lora_A.weight"] = (rng.standard_normal((r, W.shape[1])) * 0.3).astype(np.float32)
        t[pre + ".lora_B.weight"] = (rng.standard_normal((W.shape[0], r)) * 0.3).astype(np.float32)
        if c.get("lora_bias"):
            t[pre + ".lora_B.bias"] = (rng.standard_normal(W.shape[0]) * 0.3).astype(np.float32)
    for k, W in sorted(w.items()):   # modules_to_save: full copies (PEFT's _set_trainable: key.endswith(entry))
        if any(k.rsplit(".", 1)[0].endswith(m) for m in c.get("modules_to_save") or []):
            t["base_model.model." + k] = (W + rng.standard_normal(W.shape) * 0.3).astype(np.float32)
    os.makedirs(out, exist_ok=True)
    save_file(t, os.path.join(out, "adapter_model.safetensors"), metadata={"format": "pt"})
    json.dump(c, open(os.path.join(out, "adapter_config.json"), "w"), indent=2)
    print(f"{out}: {len(t)} tensors")


def merge(model_dir, ad, out):
    c = json.load(open(os.path.join(ad, "adapter_config.json")))
    t = load_file(os.path.join(ad, "adapter_model.safetensors"))
    w = {k: v.astype(np.float64) for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()}
    n = 0
    for name in modules(n_layers(model_dir)):
        pre = "base_model.model." + name
        if pre + ".lora_A.weight" not in t:
            continue
        assert selected(c, name), f"{name} has tensors but the config does not select it"
        r, _, s = r_alpha(c, name)
        A, B = t[pre + ".lora_A.weight"].astype(np.float64), t[pre + ".lora_B.weight"].astype(np.float64)
        assert A.shape[0] == r, (name, A.shape, r)
        w[name + ".weight"] = w[name + ".weight"] + s * (B @ A)
        if pre + ".lora_B.bias" in t:
            w[name + ".bias"] = w.get(name + ".bias", 0.0) + s * t[pre + ".lora_B.bias"].astype(np.float64)
        n += 1
    for k, v in t.items():   # modules_to_save copies replace the base's tensors
        if ".lora_" not in k:
            assert k.startswith("base_model.model.") and k[len("base_model.model."):] in w, k
            w[k[len("base_model.model."):]] = v.astype(np.float64)
            n += 1
    shutil.copytree(model_dir, out)
    save_file({k: v.astype(np.float32) for k, v in w.items()}, os.path.join(out, "model.safetensors"))
    print(f"{out}: {n} modules merged")


def expect_shapes(ad, model_dir):
    c = json.load(open(os.path.join(ad, "adapter_config.json")))
    t = load_file(os.path.join(ad, "adapter_model.safetensors"))
    w = load_file(os.path.join(model_dir, "model.safetensors"))
    want = {}
    for name in modules(n_layers(model_dir)):
        if not selected(c, name):
            continue
        r, _, _ = r_alpha(c, name)
        out_, in_ = w[name + ".weight"].shape
        pre = "base_model.model." + name
        want[pre + ".lora_A.weight"] = (r, in_)
        want[pre + ".lora_B.weight"] = (out_, r)
        if c.get("lora_bias"):
            want[pre + ".lora_B.bias"] = (out_,)
    got = {k: tuple(v.shape) for k, v in t.items()}
    assert got == want, f"tensors differ from PEFT's layout:\n got  {sorted(got.items())}\n want {sorted(want.items())}"
    print(f"{ad}: {len(got)} tensors, shapes as PEFT builds them")


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "make-adapter":
        make_adapter(a[0], a[1], int(a[2]), json.loads(a[3]))
    elif cmd == "merge":
        merge(a[0], a[1], a[2])
    elif cmd == "expect-shapes":
        expect_shapes(a[0], a[1])
    else:
        sys.exit(__doc__)
