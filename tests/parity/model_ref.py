#!/usr/bin/env python3
"""model_ref.py — an independent NumPy reference of the Llama/Qwen2/Qwen3/Gemma 3 forward pass (float64),
reading weights with the `safetensors` and `gguf` Python packages (GGUF dequantized by
gguf.quants, Q/K rows un-permuted the way llama.cpp's converter permuted them).

  model_ref.py write-ftok OUT.tok TOKENS_JSON        write records (list of lists) as FTOK
  model_ref.py compare MODEL DATA.tok DUMP.f32 TOL   compare ft-eval ppl --dump-logits output
                                                     with the reference; prints the max abs diff
  model_ref.py ppl MODEL DATA.tok                    reference {"loss","tokens","records"} (mask honoured)
  model_ref.py gguf2hf MODEL.gguf DIR               write the GGUF's weights as an HF dir (f32 safetensors,
                                                     Q/K un-permuted, config.json from the metadata)
  model_ref.py diff A.f32 B.f32 TOL                  max abs diff of two raw f32 dumps (exit 1 if > TOL)
  model_ref.py generate HF_DIR PROMPTS.jsonl N       greedy generation of up to N tokens per record
                                                     (HF tokenizers + jinja2 chat template), JSONL out
"""
import json
import math
import os
import struct
import sys

import numpy as np


# ---- weights -------------------------------------------------------------------------------
def load_hf(d):
    from safetensors.numpy import load_file
    cfg = json.load(open(os.path.join(d, "config.json")))
    w = {}
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    for f in files:
        p = os.path.join(d, f)
        try:
            t = load_file(p)
        except TypeError:
            t = load_bf16(p)
        for k, v in t.items():
            w[k] = v.astype(np.float32)   # exact; forward() computes in float64
    c = {
        "arch": cfg["model_type"], "V": cfg["vocab_size"], "C": cfg["hidden_size"], "L": cfg["num_hidden_layers"],
        "H": cfg["num_attention_heads"], "Hkv": cfg.get("num_key_value_heads", cfg["num_attention_heads"]),
        "eps": cfg.get("rms_norm_eps", 1e-6), "theta": cfg.get("rope_theta", 10000.0),
        "scaling": cfg.get("rope_scaling"),
    }
    c["D"] = cfg.get("head_dim", c["C"] // c["H"])
    c["inv_freq"] = inv_freq_hf(c)
    if c["arch"] == "gemma3_text":
        # Gemma3RMSNorm: x * (1 + w); sliding layers: (l + 1) % pattern != 0 (or layer_types)
        for k in w:
            if k.endswith("norm.weight"):
                w[k] = w[k] + np.float32(1)
        gemma_params(c, cfg.get("sliding_window"), cfg.get("rope_local_base_freq", 10000.0),
                     cfg.get("query_pre_attn_scalar", c["D"]))
        lt = cfg.get("layer_types")
        if lt:
            c["swa"] = [t == "sliding_attention" for t in lt]
        else:
            pat = cfg.get("sliding_window_pattern", 6)
            c["swa"] = [(l + 1) % pat != 0 for l in range(c["L"])]
    if "lm_head.weight" not in w:
        w["lm_head.weight"] = w["model.embed_tokens.weight"]
    return c, w


def gemma_params(c, window, local_base, qpas):
    c["gemma"] = True
    c["window"] = window or 0
    c["local_inv_freq"] = inv_freq_hf({"D": c["D"], "theta": local_base})
    c["qscale"] = 1.0 / math.sqrt(qpas)


def load_bf16(p):
    raw = open(p, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        buf = raw[8 + n + a:8 + n + b]
        if v["dtype"] == "BF16":
            u = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            out[k] = u.view(np.float32).reshape(v["shape"])
        else:
            out[k] = np.frombuffer(buf, dtype={"F32": "<f4", "F16": "<f2"}[v["dtype"]]).reshape(v["shape"])
    return out


def inv_freq_hf(c):
    D = c["D"]
    inv = 1.0 / (c["theta"] ** (np.arange(0, D, 2, dtype=np.float64) / D))
    s = c.get("scaling")
    if not s:
        return inv
    t = s.get("rope_type", s.get("type"))
    if t == "linear":
        return inv / s["factor"]
    if t == "llama3":
        old, lo, hi, fac = s["original_max_position_embeddings"], s["low_freq_factor"], s["high_freq_factor"], s["factor"]
        wl = 2 * math.pi / inv
        out = np.where(wl > old / lo, inv / fac, inv)
        sm = (old / wl - lo) / (hi - lo)
        smoothed = (1 - sm) * out / fac + sm * out
        med = ~(wl < old / hi) & ~(wl > old / lo)
        return np.where(med, smoothed, out)
    return inv


GG = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
      "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
      "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
      "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm"}
# Gemma 3 (llama.cpp LLM_ARCH_GEMMA3): ffn_norm is the pre-MLP norm, plus the two post-norms
GG_GEMMA3 = dict(GG, ffn_norm="pre_feedforward_layernorm", post_attention_norm="post_attention_layernorm",
                 post_ffw_norm="post_feedforward_layernorm")


def load_gguf(p):
    import gguf
    r = gguf.GGUFReader(p)

    def f(k, d=None):
        fld = r.fields.get(k)
        return d if fld is None else fld.contents()

    arch = f("general.architecture")
    c = {"arch": arch, "C": f(arch + ".embedding_length"), "L": f(arch + ".block_count"),
         "H": f(arch + ".attention.head_count"), "eps": f(arch + ".attention.layer_norm_rms_epsilon", 1e-6),
         "theta": f(arch + ".rope.freq_base", 10000.0)}
    c["Hkv"] = f(arch + ".attention.head_count_kv", c["H"])
    c["D"] = f(arch + ".attention.key_length", c["C"] // c["H"])
    w = {}
    rope_freqs = None
    for t in r.tensors:
        a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)   # float64 math in forward()
        a = a.reshape([int(x) for x in reversed(t.shape)]) if len(t.shape) > 1 else a.reshape(-1)
        n = t.name
        if n == "rope_freqs.weight":
            rope_freqs = a
            continue
        if n == "token_embd.weight":
            k = "model.embed_tokens.weight"
        elif n == "output_norm.weight":
            k = "model.norm.weight"
        elif n == "output.weight":
            k = "lm_head.weight"
        else:
            _, l, m, kind = n.split(".")
            k = f"model.layers.{l}.{(GG_GEMMA3 if arch == 'gemma3' else GG)[m]}.{kind}"
        if arch == "llama" and m_in(n, ("attn_q", "attn_k")):
            nh = c["H"] if ".attn_q." in n else c["Hkv"]
            a = unpermute(a, nh)
        w[k] = a
    c["V"] = w["model.embed_tokens.weight"].shape[0]
    if "lm_head.weight" not in w:
        w["lm_head.weight"] = w["model.embed_tokens.weight"]
    c["scaling"] = None
    st = f(arch + ".rope.scaling.type")
    if st == "linear":
        c["scaling"] = {"type": "linear", "factor": f(arch + ".rope.scaling.factor")}
    c["inv_freq"] = inv_freq_hf(c)
    if rope_freqs is not None:
        c["inv_freq"] = c["inv_freq"] / rope_freqs
    if arch == "gemma3":
        # llama.cpp: norm weights stored as 1 + w; every 6th layer global; local rope base 10000;
        # scores scaled by 1/sqrt(head_dim)
        gemma_params(c, f(arch + ".attention.sliding_window", 0), 10000.0, c["D"])
        c["swa"] = [(l + 1) % 6 != 0 for l in range(c["L"])]
    return c, w


def m_in(n, keys):
    return any(f".{k}." in n for k in keys)


def unpermute(w, n_head):
    # inverse of reshape(n_head, 2, D/2, ...).swapaxes(1, 2): gguf row h*D + 2i + j -> hf row h*D + j*D/2 + i
    sh = w.shape
    return w.reshape(n_head, sh[0] // n_head // 2, 2, *sh[1:]).swapaxes(1, 2).reshape(sh)


def load(p):
    return load_hf(p) if os.path.isdir(p) else load_gguf(p)


# ---- forward ----------------------------------------------------------------------------------
def rmsnorm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rope(x, pos, inv):
    # x (T, H, D), HF rotate_half
    ang = pos[:, None] * inv[None, :]            # (T, D/2)
    cos = np.cos(np.concatenate([ang, ang], -1))[:, None, :]
    sin = np.sin(np.concatenate([ang, ang], -1))[:, None, :]
    h = x.shape[-1] // 2
    rot = np.concatenate([-x[..., h:], x[..., :h]], -1)
    return x * cos + rot * sin


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(c, w, tokens):
    """logits (T, V) of one sequence. Llama/Qwen2; Qwen3's per-head q/k norms when the weights
    have them; Gemma 3 (c["gemma"]): sqrt(C) embedding scale, post-norms, GeGLU, sliding window
    with the local rope base on c["swa"] layers, query_pre_attn_scalar."""
    T, H, Hkv, D = len(tokens), c["H"], c["Hkv"], c["D"]
    gemma = c.get("gemma", False)
    pos = np.arange(T, dtype=np.float64)
    x = w["model.embed_tokens.weight"][np.asarray(tokens)].astype(np.float64)
    if gemma:
        x = x * math.sqrt(c["C"])
    causal = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(c["L"]):
        p = f"model.layers.{l}."
        h = rmsnorm(x, w[p + "input_layernorm.weight"], c["eps"])

        def lin(name, inp):
            y = inp @ w[p + name + ".weight"].T
            return y + w[p + name + ".bias"] if p + name + ".bias" in w else y
        swa = gemma and c["swa"][l] and c["window"] > 0
        inv = c["local_inv_freq"] if swa else c["inv_freq"]
        q = lin("self_attn.q_proj", h).reshape(T, H, D)
        k = lin("self_attn.k_proj", h).reshape(T, Hkv, D)
        if p + "self_attn.q_norm.weight" in w:   # per head, before rope
            q = rmsnorm(q, w[p + "self_attn.q_norm.weight"], c["eps"])
            k = rmsnorm(k, w[p + "self_attn.k_norm.weight"], c["eps"])
        q = rope(q, pos, inv)
        k = rope(k, pos, inv)
        v = lin("self_attn.v_proj", h).reshape(T, Hkv, D)
        g = H // Hkv
        k = np.repeat(k, g, axis=1)
        v = np.repeat(v, g, axis=1)
        mask = causal
        if swa:   # query t sees keys s with t - window < s
            mask = causal + np.tril(np.full((T, T), -np.inf), -c["window"])
        s = np.einsum("thd,shd->hts", q, k) * (c["qscale"] if gemma else 1 / math.sqrt(D)) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        att = np.einsum("hts,shd->thd", s, v).reshape(T, H * D)
        o = lin("self_attn.o_proj", att)
        if gemma:
            o = rmsnorm(o, w[p + "post_attention_layernorm.weight"], c["eps"])
            x = x + o
            h = rmsnorm(x, w[p + "pre_feedforward_layernorm.weight"], c["eps"])
            mo = lin("mlp.down_proj", gelu_tanh(lin("mlp.gate_proj", h)) * lin("mlp.up_proj", h))
            x = x + rmsnorm(mo, w[p + "post_feedforward_layernorm.weight"], c["eps"])
            continue
        x = x + o
        h = rmsnorm(x, w[p + "post_attention_layernorm.weight"], c["eps"])
        gt = lin("mlp.gate_proj", h)
        x = x + lin("mlp.down_proj", gt / (1 + np.exp(-gt)) * lin("mlp.up_proj", h))
    x = rmsnorm(x, w["model.norm.weight"], c["eps"])
    return x @ w["lm_head.weight"].T


# ---- FTOK ---------------------------------------------------------------------------------------
def write_ftok(path, records, vocab=0, tokenizer_id=0):
    with open(path, "wb") as f:
        f.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 0, vocab, 0, tokenizer_id, 0))
        for r in records:
            f.write(struct.pack("<II", len(r), 0) + struct.pack(f"<{len(r)}I", *r))


def read_ftok(path, with_mask=False):
    raw = open(path, "rb").read()
    assert raw[:4] == b"FTOK"
    flags = struct.unpack("<H", raw[6:8])[0]
    o, out, masks = 32, [], []
    while o < len(raw):
        if raw[o:o + 4] == b"FTOK":
            o += 32
            continue
        n = struct.unpack("<I", raw[o:o + 4])[0]
        o += 8
        out.append(list(struct.unpack(f"<{n}I", raw[o:o + 4 * n])))
        o += 4 * n
        m = [1] * n
        if flags & 1:
            nb = (n + 7) // 8
            m = [(raw[o + i // 8] >> (i % 8)) & 1 for i in range(n)]
            o += (nb + 3) // 4 * 4
        masks.append(m)
    return (out, masks) if with_mask else out


def gguf2hf(src, d):
    from safetensors.numpy import save_file
    c, w = load_gguf(src)
    os.makedirs(d, exist_ok=True)
    tied = w["lm_head.weight"] is w["model.embed_tokens.weight"]
    out = {k: v.astype(np.float32) for k, v in w.items() if not (tied and k == "lm_head.weight")}
    save_file(out, os.path.join(d, "model.safetensors"))
    F = w["model.layers.0.mlp.gate_proj.weight"].shape[0]
    cfg = {"model_type": "llama" if c["arch"] == "llama" else c["arch"], "vocab_size": c["V"],
           "hidden_size": c["C"], "intermediate_size": F, "num_hidden_layers": c["L"],
           "num_attention_heads": c["H"], "num_key_value_heads": c["Hkv"], "head_dim": c["D"],
           "rms_norm_eps": float(c["eps"]), "rope_theta": float(c["theta"]), "tie_word_embeddings": tied,
           "max_position_embeddings": 2048}
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=1)


def generate(d, prompts, n_new):
    import jinja2
    from tokenizers import Tokenizer
    c, w = load(d)
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    tc = json.load(open(os.path.join(d, "tokenizer_config.json")))
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    tpl = env.from_string(tc["chat_template"])
    nv = min(tok.get_vocab_size(with_added_tokens=True), c["V"])
    stops = {tok.token_to_id(s) for s in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>") if tok.token_to_id(s) is not None}
    for line in open(prompts, encoding="utf-8"):
        rec = json.loads(line)
        if "segments" in rec:
            text = ""
            for sg in rec["segments"]:
                if sg.get("train"):
                    break
                text += sg["text"]
        elif "messages" in rec:
            text = tpl.render(messages=rec["messages"], add_generation_prompt=True,
                              bos_token=tc.get("bos_token"), eos_token=tc.get("eos_token"))
        else:
            text = rec["prompt"]
        ids = tok.encode(text, add_special_tokens=False).ids
        out = []
        for _ in range(n_new):
            nxt = int(np.argmax(forward(c, w, ids + out)[-1, :nv]))
            if nxt in stops:
                break
            out.append(nxt)
        rec["output"] = tok.decode(out, skip_special_tokens=True)
        print(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))


def main():
    cmd = sys.argv[1]
    if cmd == "write-ftok":
        write_ftok(sys.argv[2], json.loads(sys.argv[3]))
    elif cmd == "compare":
        c, w = load(sys.argv[2])
        recs = read_ftok(sys.argv[3])
        got = np.fromfile(sys.argv[4], dtype="<f4")
        tol = float(sys.argv[5])
        n = sum(len(r) for r in recs)
        if got.size != n * c["V"]:
            print(f"dump has {got.size} floats, expected {n} x {c['V']}")
            sys.exit(1)
        got = got.reshape(n, c["V"])
        o, worst, scale = 0, 0.0, 0.0
        for r in recs:
            ref = forward(c, w, r)
            worst = max(worst, float(np.abs(got[o:o + len(r)] - ref).max()))
            scale = max(scale, float(np.abs(ref).max()))
            o += len(r)
        print(f"records {len(recs)} positions {n} vocab {c['V']} max|logit| {scale:.3f} max abs diff {worst:.3e} (tol {tol:g})")
        sys.exit(0 if worst <= tol else 1)
    elif cmd == "ppl":
        # mean -log p(token i | tokens < i) over targets i >= 1 with mask bit i set
        c, w = load(sys.argv[2])
        tot, cnt = 0.0, 0
        recs, masks = read_ftok(sys.argv[3], with_mask=True)
        for r, m in zip(recs, masks):
            if len(r) < 2:
                continue
            lg = forward(c, w, r)
            lg = lg - lg.max(-1, keepdims=True)
            lp = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
            for i in range(1, len(r)):
                if m[i]:
                    tot -= lp[i - 1, r[i]]
                    cnt += 1
        print(json.dumps({"loss": tot / cnt, "tokens": cnt, "records": len(recs)}))
    elif cmd == "gguf2hf":
        gguf2hf(sys.argv[2], sys.argv[3])
    elif cmd == "diff":
        a, b = np.fromfile(sys.argv[2], dtype="<f4"), np.fromfile(sys.argv[3], dtype="<f4")
        if a.size != b.size:
            sys.exit(f"sizes differ: {a.size} vs {b.size}")
        d = float(np.abs(a - b).max()) if a.size else 0.0
        print(f"{a.size} values, max abs diff {d:.3e} (tol {float(sys.argv[4]):g})")
        sys.exit(0 if d <= float(sys.argv[4]) else 1)
    elif cmd == "generate":
        generate(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
