#!/usr/bin/env python3
"""make_tiny_model.py — a tiny random Llama-family model for tests (run with $FT_PY).

Writes an HF dir (config.json + model.safetensors + tokenizer.json + tokenizer_config.json
with a ChatML template) and/or a GGUF file of the same weights (llama.cpp conventions:
Q/K rows permuted for the llama arch, tied embeddings when --tie, tokenizer.ggml.* vocab).

  $FT_PY tests/tools/make_tiny_model.py --hf DIR [--gguf FILE] [--seed 0] [--vocab 300]
      [--hidden 64] [--intermediate 160] [--layers 2] [--heads 4] [--kv-heads 2]
      [--dtype f32|f16|bf16] [--gguf-type f32|f16|q8_0] [--tie] [--arch llama|qwen2|qwen3|gemma3]
      [--rope-scaling none|linear|llama3|llama32] [--shards N] [--head-dim D]
      [--window W] [--query-scalar S] [--rope-theta B]

qwen3: per-head q_norm/k_norm (head_dim may differ from hidden/heads). gemma3: model_type
gemma3_text with its norms (HF stores w of x * (1 + w); the GGUF gets 1 + w, as llama.cpp's
converter writes), sliding window W on the layers l with (l + 1) % 6 != 0 (llama.cpp's fixed
pattern), local rope base 10000, query_pre_attn_scalar S. llama32: Llama 3.2's rope_scaling
(factor 32, low 1, high 4, original 8192) with rope_theta 500000.

The tokenizer is byte-level BPE: special tokens <|endoftext|> = 0, <|im_start|> = 1 (bos),
<|im_end|> = 2 (eos) as SmolLM2, the 256 byte symbols (ids 3..258), 6 merges (259..264);
padded to --vocab with special <|padN|> tokens (added tokens in tokenizer.json, control in GGUF).
"""
import argparse
import json
import os

import numpy as np


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] "
          "+ '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("e", "r"), ("Ġ", "a")]


def vocab_list():
    # specials first (ids 0,1,2 like SmolLM2), the 256 byte symbols in byte order, then merges
    b2u = bytes_to_unicode()
    return SPECIALS + [b2u[b] for b in range(256)] + [a + b for a, b in MERGES]


def pad_tokens(V):
    return [f"<|pad{i}|>" for i in range(V - len(vocab_list()))]


def tokenizer_json(V):
    vocab = {s: i for i, s in enumerate(vocab_list())}
    pads = pad_tokens(V)
    added = [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, s in enumerate(SPECIALS)]
    added += [{"id": len(vocab) + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
               "normalized": False, "special": True} for i, s in enumerate(pads)]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": [f"{a} {b}" for a, b in MERGES]},
    }


def head_dim(a):
    return a.head_dim or a.hidden // a.heads


def make_weights(a):
    rng = np.random.default_rng(a.seed)
    D = head_dim(a)
    C, F, V = a.hidden, a.intermediate, a.vocab
    qd, kd = a.heads * D, a.kv_heads * D

    def w(*shape, s=None):
        s = s if s is not None else 1.0 / np.sqrt(shape[-1])
        return (rng.standard_normal(shape) * s).astype(np.float32)

    t = {"model.embed_tokens.weight": w(V, C, s=0.5)}
    for l in range(a.layers):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
        t[p + "self_attn.q_proj.weight"] = w(qd, C)
        t[p + "self_attn.k_proj.weight"] = w(kd, C)
        t[p + "self_attn.v_proj.weight"] = w(kd, C)
        if a.arch == "qwen2":
            t[p + "self_attn.q_proj.bias"] = w(qd, s=0.1)
            t[p + "self_attn.k_proj.bias"] = w(kd, s=0.1)
            t[p + "self_attn.v_proj.bias"] = w(kd, s=0.1)
        t[p + "self_attn.o_proj.weight"] = w(C, qd)
        t[p + "post_attention_layernorm.weight"] = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
        t[p + "mlp.gate_proj.weight"] = w(F, C)
        t[p + "mlp.up_proj.weight"] = w(F, C)
        t[p + "mlp.down_proj.weight"] = w(C, F)
        if a.arch in ("qwen3", "gemma3"):
            t[p + "self_attn.q_norm.weight"] = (1 + 0.2 * rng.standard_normal(D)).astype(np.float32)
            t[p + "self_attn.k_norm.weight"] = (1 + 0.2 * rng.standard_normal(D)).astype(np.float32)
        if a.arch == "gemma3":
            for n in ("pre_feedforward_layernorm", "post_feedforward_layernorm"):
                t[p + n + ".weight"] = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    t["model.norm.weight"] = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    if a.arch == "gemma3":   # HF stores w of x * (1 + w): the same effective weights, minus one
        for k in t:
            if k.endswith("norm.weight"):
                t[k] = (t[k] - 1).astype(np.float32)
    if not a.tie:
        t["lm_head.weight"] = w(V, C)
    return t


def config(a):
    cls = {"qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM", "gemma3": "Gemma3ForCausalLM"}
    c = {
        "architectures": [cls.get(a.arch, "LlamaForCausalLM")],
        "model_type": "gemma3_text" if a.arch == "gemma3" else a.arch, "vocab_size": a.vocab, "hidden_size": a.hidden,
        "intermediate_size": a.intermediate, "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads, "num_key_value_heads": a.kv_heads,
        "rms_norm_eps": 1e-5, "rope_theta": a.rope_theta, "max_position_embeddings": 1024,
        "tie_word_embeddings": bool(a.tie), "bos_token_id": 1, "eos_token_id": 2,
        "hidden_act": "silu", "torch_dtype": {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[a.dtype],
    }
    if a.head_dim:
        c["head_dim"] = a.head_dim
    if a.arch == "gemma3":
        c.update({"hidden_activation": "gelu_pytorch_tanh", "sliding_window": a.window, "sliding_window_pattern": 6,
                  "rope_local_base_freq": 10000.0, "query_pre_attn_scalar": a.query_scalar or head_dim(a),
                  "final_logit_softcapping": None, "attn_logit_softcapping": None, "head_dim": head_dim(a)})
        del c["hidden_act"]
    if a.rope_scaling == "llama32":
        c["rope_scaling"] = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    if a.rope_scaling == "linear":
        c["rope_scaling"] = {"rope_type": "linear", "factor": 2.0}
    elif a.rope_scaling == "llama3":
        c["rope_scaling"] = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 64}
    return c


def to_dtype(x, dtype):
    """Returns (array to store, its f32 value as the model will see it)."""
    if dtype == "f32":
        return x, x
    if dtype == "f16":
        h = x.astype(np.float16)
        return h, h.astype(np.float32)
    # bf16 round to nearest even, stored via the torch-free path of safetensors.numpy (as uint16 view)
    u = x.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return r, (r.astype(np.uint32) << 16).view(np.float32)


def write_hf(a, t):
    from safetensors.numpy import save_file
    os.makedirs(a.hf, exist_ok=True)
    stored = {}
    for k, v in t.items():
        s, f = to_dtype(v, a.dtype)
        stored[k] = s
        t[k] = f   # what a loader sees after conversion
    if a.dtype == "bf16":
        write_bf16_safetensors(a, stored)
    elif a.shards > 1:
        names = sorted(stored)
        per = (len(names) + a.shards - 1) // a.shards
        wmap = {}
        for i in range(a.shards):
            fn = f"model-{i + 1:05d}-of-{a.shards:05d}.safetensors"
            part = {k: stored[k] for k in names[i * per:(i + 1) * per]}
            save_file(part, os.path.join(a.hf, fn), metadata={"format": "pt"})
            wmap.update({k: fn for k in part})
        with open(os.path.join(a.hf, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": wmap}, f, indent=1)
    else:
        save_file(stored, os.path.join(a.hf, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(a.hf, "config.json"), "w") as f:
        json.dump(config(a), f, indent=1)
    with open(os.path.join(a.hf, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(a.vocab), f, ensure_ascii=False)
    with open(os.path.join(a.hf, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "chat_template": CHATML,
                   "add_bos_token": False, "add_eos_token": False, "tokenizer_class": "GPT2Tokenizer"}, f)


def write_bf16_safetensors(a, stored):
    # safetensors.numpy has no bfloat16: write the format by hand (header JSON + raw bytes)
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for k in sorted(stored):
        b = stored[k].astype("<u2").tobytes()
        header[k] = {"dtype": "BF16", "shape": list(stored[k].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(a.hf, "model.safetensors"), "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h)
        for b in blobs:
            f.write(b)


def permute(w, n_head):
    # llama.cpp convert_hf_to_gguf.py LlamaModel.permute
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


GG_NAMES = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.q_proj": "attn_q",
            "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
            "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
            "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm"}
GG_GEMMA3 = dict(GG_NAMES, pre_feedforward_layernorm="ffn_norm", post_attention_layernorm="post_attention_norm",
                 post_feedforward_layernorm="post_ffw_norm")


def gguf_name(k, names=GG_NAMES):
    if k == "model.embed_tokens.weight":
        return "token_embd.weight"
    if k == "model.norm.weight":
        return "output_norm.weight"
    if k == "lm_head.weight":
        return "output.weight"
    rest = k[len("model.layers."):]
    l, rest = rest.split(".", 1)
    mod, kind = rest.rsplit(".", 1)
    return f"blk.{l}.{names[mod]}.{kind}"


def write_gguf(a, t):
    import gguf
    arch = a.arch
    w = gguf.GGUFWriter(a.gguf, arch)
    D = head_dim(a)
    names = GG_GEMMA3 if arch == "gemma3" else GG_NAMES
    if a.head_dim or arch == "gemma3":
        w.add_key_length(D)
        w.add_value_length(D)
    if arch == "gemma3" and a.window:
        w.add_sliding_window(a.window)
    w.add_block_count(a.layers)
    w.add_context_length(1024)
    w.add_embedding_length(a.hidden)
    w.add_feed_forward_length(a.intermediate)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.kv_heads)
    w.add_rope_dimension_count(D)
    w.add_rope_freq_base(a.rope_theta)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(a.vocab)
    if a.rope_scaling == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(2.0)
    toks = vocab_list() + pad_tokens(a.vocab)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(toks)
    w.add_token_types([3 if i < len(SPECIALS) or i >= len(vocab_list()) else 1 for i in range(len(toks))])
    w.add_token_merges([f"{a} {b}" for a, b in MERGES])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(False)
    w.add_chat_template(CHATML)
    qt = {"f32": gguf.GGMLQuantizationType.F32, "f16": gguf.GGMLQuantizationType.F16,
          "q8_0": gguf.GGMLQuantizationType.Q8_0}[a.gguf_type]
    for k, v in t.items():
        if arch == "gemma3" and k.endswith("norm.weight"):
            v = v + np.float32(1)   # llama.cpp's Gemma converter stores 1 + w
        if arch == "llama" and ("q_proj" in k or "k_proj" in k):
            v = permute(v, a.heads if "q_proj" in k else a.kv_heads)
        if v.ndim == 1 or qt == gguf.GGMLQuantizationType.F32:
            w.add_tensor(gguf_name(k, names), v.astype(np.float32))
        elif qt == gguf.GGMLQuantizationType.F16:
            w.add_tensor(gguf_name(k, names), v.astype(np.float16))
        else:
            q = gguf.quants.quantize(v, qt)
            w.add_tensor(gguf_name(k, names), q, raw_shape=q.shape, raw_dtype=qt)
    if a.rope_scaling in ("llama3", "llama32"):
        # llama.cpp stores llama3 scaling as per-frequency divisors
        inv = 1.0 / (a.rope_theta ** (np.arange(0, D, 2, dtype=np.float32) / D))
        cfg = config(a)["rope_scaling"]
        old, lo, hi, fac = cfg["original_max_position_embeddings"], cfg["low_freq_factor"], cfg["high_freq_factor"], cfg["factor"]
        wl = 2 * np.pi / inv
        f = np.where(wl < old / hi, 1.0, np.where(wl > old / lo, fac, 1.0 / ((1 - (old / wl - lo) / (hi - lo)) / fac + (old / wl - lo) / (hi - lo))))
        w.add_tensor("rope_freqs.weight", f.astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hf")
    ap.add_argument("--gguf")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=300)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--intermediate", type=int, default=160)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    ap.add_argument("--gguf-type", default="f32", choices=["f32", "f16", "q8_0"])
    ap.add_argument("--tie", action="store_true")
    ap.add_argument("--arch", default="llama", choices=["llama", "qwen2", "qwen3", "gemma3"])
    ap.add_argument("--rope-scaling", default="none", choices=["none", "linear", "llama3", "llama32"])
    ap.add_argument("--head-dim", type=int, default=0)
    ap.add_argument("--window", type=int, default=4)
    ap.add_argument("--query-scalar", type=float, default=0)
    ap.add_argument("--shards", type=int, default=1)
    a = ap.parse_args()
    if a.vocab < len(vocab_list()):
        ap.error(f"--vocab must be at least {len(vocab_list())}")
    if not a.hf and not a.gguf:
        ap.error("give --hf DIR and/or --gguf FILE")
    t = make_weights(a)
    if a.hf:
        write_hf(a, t)   # t now holds the values as stored (dtype-rounded)
    if a.gguf:
        write_gguf(a, t)


if __name__ == "__main__":
    main()
