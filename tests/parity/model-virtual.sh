#!/usr/bin/env bash
# model-virtual.sh — ft-eval --adapter with PEFT PROMPT_TUNING and PREFIX_TUNING dirs written
# by this test, against an independent NumPy (float64) reading of PEFT + transformers:
#   prompt: inputs_embeds = cat(prompt_embeddings, embed(ids)), positions 0..n+T-1;
#   prefix: prompt_embeddings.view(1, n, L*2, Hkv, D).permute(2, 0, 3, 1, 4).split(2) gives
#           layer l's (key, value) past_key_values (no rope: they are cached keys), and the
#           real tokens take positions n.. (cache_position starts after the past length).
# Greedy generation (ft-eval generate: the KV cache starts with the virtual tokens) against the
# same reference recomputing the whole forward at every step.
# The model has GQA (4 query heads, 2 key/value heads), so the prefix's token_dim is 2*D.
# Tolerance 1e-4 absolute as model-tiny.sh (float32 accumulation gives ~1e-6; a wrong
# layer/key-value/head order or position moves logits by 1e-2 or more: checked below by
# flipping the key/value order).
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf base --seed 43
OPENBLAS_NUM_THREADS=1 "$FT_PY" - "$FT_ROOT/tests/parity" <<'P' || fail "writing the adapters and reference logits"
import json, math, os, sys
import numpy as np
from safetensors.numpy import save_file
sys.path.insert(0, sys.argv[1])
from model_ref import load, rmsnorm, rope, write_ftok

c, w = load("base")
L, H, Hkv, D, C = c["L"], c["H"], c["Hkv"], c["D"], c["C"]
n = 3
recs = [[5, 17, 99, 200, 3, 4, 250, 251, 10], [7, 8, 9, 10, 11]]
write_ftok("d.tok", recs)
rng = np.random.default_rng(7)

def forward(tokens, prompt=None, past=None):
    """logits of the real tokens; prompt (n, C) prepended, or past[l] = (k, v) each (Hkv, n, D)."""
    x = w["model.embed_tokens.weight"][np.asarray(tokens)].astype(np.float64)
    p0 = 0
    if prompt is not None:
        x = np.concatenate([prompt.astype(np.float64), x])
    T = x.shape[0]
    if past is not None:
        p0 = past[0][0].shape[1]
    pos = np.arange(p0, p0 + T, dtype=np.float64)
    S = p0 + T
    mask = np.full((T, S), -np.inf)
    for t in range(T):
        mask[t, : p0 + t + 1] = 0
    for l in range(L):
        p = f"model.layers.{l}."
        h = rmsnorm(x, w[p + "input_layernorm.weight"], c["eps"])
        lin = lambda name, inp: inp @ w[p + name + ".weight"].T
        q = rope(lin("self_attn.q_proj", h).reshape(T, H, D), pos, c["inv_freq"])
        k = rope(lin("self_attn.k_proj", h).reshape(T, Hkv, D), pos, c["inv_freq"])
        v = lin("self_attn.v_proj", h).reshape(T, Hkv, D)
        if past is not None:
            k = np.concatenate([past[l][0].transpose(1, 0, 2), k])   # (S, Hkv, D)
            v = np.concatenate([past[l][1].transpose(1, 0, 2), v])
        k, v = np.repeat(k, H // Hkv, axis=1), np.repeat(v, H // Hkv, axis=1)
        s = np.einsum("thd,shd->hts", q, k) / math.sqrt(D) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        x = x + lin("self_attn.o_proj", np.einsum("hts,shd->thd", s, v).reshape(T, H * D))
        h = rmsnorm(x, w[p + "post_attention_layernorm.weight"], c["eps"])
        g = lin("mlp.gate_proj", h)
        x = x + lin("mlp.down_proj", g / (1 + np.exp(-g)) * lin("mlp.up_proj", h))
    x = rmsnorm(x, w["model.norm.weight"], c["eps"])
    return (x @ w["lm_head.weight"].T)[T - len(tokens):]

def peft_past(E):
    # PeftModel.get_prompt: view(B, n, L*2, heads, token_dim // heads).permute([2, 0, 3, 1, 4]).split(2)
    pkv = E.reshape(1, n, L * 2, Hkv, D).transpose(2, 0, 3, 1, 4)
    return [(pkv[2 * l][0], pkv[2 * l + 1][0]) for l in range(L)]

P = (rng.standard_normal((n, C)) * 0.5).astype(np.float32)
E = rng.standard_normal((n, L * 2 * Hkv * D)).astype(np.float32)
base = {"task_type": "CAUSAL_LM", "num_virtual_tokens": n, "num_transformer_submodules": 1, "num_layers": L,
        "inference_mode": True, "base_model_name_or_path": "base"}
for d, cfg, t in (("prompt", {"peft_type": "PROMPT_TUNING", "token_dim": C, "num_attention_heads": H,
                              "prompt_tuning_init": "RANDOM"}, P),
                  ("prefix", {"peft_type": "PREFIX_TUNING", "token_dim": Hkv * D, "num_attention_heads": Hkv,
                              "prefix_projection": False, "encoder_hidden_size": Hkv * D}, E)):
    os.makedirs(d)
    save_file({"prompt_embeddings": t}, f"{d}/adapter_model.safetensors")
    json.dump({**base, **cfg}, open(f"{d}/adapter_config.json", "w"))
np.concatenate([forward(r, prompt=P) for r in recs]).astype("<f4").tofile("ref_prompt.f32")
np.concatenate([forward(r, past=peft_past(E)) for r in recs]).astype("<f4").tofile("ref_prefix.f32")
# the same prefix read with keys and values swapped: must NOT match (the check can fail)
swapped = [(vv, kk) for kk, vv in peft_past(E)]
np.concatenate([forward(r, past=swapped) for r in recs]).astype("<f4").tofile("ref_swapped.f32")
from tokenizers import Tokenizer
tok = Tokenizer.from_file("base/tokenizer.json")
nvocab = min(tok.get_vocab_size(with_added_tokens=True), c["V"])
stops = {tok.token_to_id(s) for s in ("<|im_end|>", "<|endoftext|>") if tok.token_to_id(s) is not None}
rec = {"prompt": "Hello there, the"}
json.dump(rec, open("p.jsonl", "w"))
for kind, kw in (("prompt", {"prompt": P}), ("prefix", {"past": peft_past(E)})):
    ids, out = tok.encode(rec["prompt"], add_special_tokens=False).ids, []
    for _ in range(12):
        nxt = int(np.argmax(forward(ids + out, **kw)[-1, :nvocab]))
        if nxt in stops:
            break
        out.append(nxt)
    json.dump({**rec, "output": tok.decode(out, skip_special_tokens=True)}, open(f"ref_gen_{kind}.json", "w"))
P
ref() { "$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" "$@"; }
for kind in prompt prefix; do
  ft-eval --model base --adapter $kind ppl --dump-logits $kind.f32 d.tok >$kind.json || fail "ft-eval ppl --adapter $kind"
  echo -n "$kind: "; ref diff $kind.f32 ref_$kind.f32 1e-4 || fail "$kind: logits differ from the NumPy reading of PEFT"
done
for kind in prompt prefix; do
  ft-eval --model base --adapter $kind generate --max-new-tokens 12 p.jsonl >gen_$kind.json || fail "generate --adapter $kind"
  jq -e -s '.[0] == .[1]' gen_$kind.json ref_gen_$kind.json >/dev/null || fail "$kind: generate gave $(cat gen_$kind.json), the reference $(cat ref_gen_$kind.json)"
  echo "$kind generate: $(jq -c .output gen_$kind.json)"
done
ref diff prefix.f32 ref_swapped.f32 1e-2 >/dev/null && fail "swapping the prefix's keys and values changed nothing"
ft-eval --model base ppl --dump-logits b.f32 d.tok >/dev/null || fail "ft-eval ppl on the base"
ref diff prompt.f32 b.f32 1e-2 >/dev/null && fail "the prompt adapter changed nothing"
true
