#!/usr/bin/env bash
# model-tiny.sh — ft's forward pass against the independent NumPy reference (float64) on tiny
# random models: Llama with GQA from an HF dir (f32, bf16, sharded) and from GGUF (f32 with
# permuted Q/K, Q8_0), Qwen2 (q/k/v biases), tied embeddings, llama3 and linear rope scaling,
# Qwen3, Gemma 3 and a Llama 3.2-shaped config (each described at its case below).
# Three records of different lengths are packed in one row by ft-eval ppl (document masking)
# and compared one by one with the reference. Tolerance 1e-4 absolute on logits of magnitude
# ~5: float32 accumulation over rows of <= 160 terms gives ~1e-6 here (measured 2e-6), so
# 1e-4 leaves a 50x margin while any real error (a wrong rope pair, mask or permutation)
# moves logits by 1e-2 or more.
source "$FT_ROOT/tests/lib.sh"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}   # no spinning threads on a shared machine
need_py
mk() { "$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" "$@"; }
ref() { OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" "$@"; }
ref write-ftok d.tok '[[5,17,99,200,3,4,250,251,10],[7,8],[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38]]'
check() {  # check MODEL TOL
  ft-eval --model "$1" ppl --dump-logits l.f32 d.tok >ppl.json || fail "ft-eval ppl on $1"
  echo -n "$1: "; ref compare "$1" d.tok l.f32 "$2" || fail "$1: logits differ from the NumPy reference"
}
mk --hf llama --gguf llama.gguf --seed 1
check llama 1e-4
check llama.gguf 1e-4
# the same weights as an HF dir and as a GGUF (Q/K permuted on disk) give identical logits on
# the f32 path (the default native path is checked against the reference above, 1e-4)
ft-eval --model llama ppl --dump-logits a.f32 d.tok >/dev/null && ft-eval --model llama.gguf --weights f32 ppl --dump-logits b.f32 d.tok >/dev/null
cmp a.f32 b.f32 || fail "HF dir and GGUF of the same weights give different logits"
mk --hf qwen --gguf qwen.gguf --arch qwen2 --seed 2 --heads 4 --kv-heads 1
check qwen 1e-4
check qwen.gguf 1e-4
mk --hf tied --gguf tiedq8.gguf --gguf-type q8_0 --tie --seed 3 --rope-scaling llama3 --dtype bf16
check tied 1e-4
check tiedq8.gguf 1e-4
mk --hf lin --rope-scaling linear --shards 3 --seed 4 --layers 3 --kv-heads 4 --dtype f16
check lin 1e-4
# Qwen3: per-head q/k norms, head_dim (24) independent of hidden/heads (16), tied
mk --hf qwen3 --gguf qwen3.gguf --arch qwen3 --seed 5 --head-dim 24 --kv-heads 2 --tie
check qwen3 1e-4
check qwen3.gguf 1e-4
# Gemma 3: (1 + w) norms (+1 in the GGUF), sqrt(C) embedding scale, pre/post norms, GeGLU, q/k
# norms, a 4-key sliding window on layers 0-4 with the local rope base, layer 5 global, MQA
mk --hf gemma3 --gguf gemma3.gguf --arch gemma3 --seed 6 --layers 6 --kv-heads 1 --head-dim 32 --window 4 --tie
check gemma3 1e-4
check gemma3.gguf 1e-4
# query_pre_attn_scalar (20) other than head_dim (16), window 5 (HF only: GGUF has no key for it)
mk --hf gemma3s --arch gemma3 --seed 7 --layers 6 --window 5 --query-scalar 20 --tie
check gemma3s 1e-4
# Llama 3.2's shape of config: llama3 rope scaling factor 32 / original 8192, theta 5e5, tied, MQA
mk --hf llama32 --gguf llama32.gguf --seed 8 --tie --rope-scaling llama32 --rope-theta 500000 --kv-heads 1
check llama32 1e-4
check llama32.gguf 1e-4
