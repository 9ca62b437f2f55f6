#!/usr/bin/env bash
# model-smollm2.sh — the real model: SmolLM2-135M-Instruct (GGUF Q4_1) through ft against the
# independent NumPy reference (weights dequantized by the gguf package, Q/K un-permuted in
# Python, float64 forward) on three prompts, and the same weights written as an HF dir
# (f32 safetensors + config.json, by the reference) giving bit-identical logits in ft.
# Tolerance 1e-3 absolute on logits up to ~35: 30 layers of float32 with rows of 576-1536
# terms give ~5e-5 (measured); a real bug (rope, GQA, mask, permutation) moves them by >0.1.
source "$FT_ROOT/tests/lib.sh"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}   # no spinning threads on a shared machine
need_py
M=$(model_path) && [ -f "$M" ] || skip "SmolLM2 GGUF not cached (make model)"
ref() { OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" "$@"; }
{
  echo '{"text":"<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"}'
  echo '{"text":"def fibonacci(n):\n    if n < 2:\n        return n"}'
  head -c 300 "$FT_ROOT/tests/parity/model-smollm2.txt" | jq -c -Rs '{text:.}'
} >p.jsonl
ft-tokenize --tokenizer "$M" -o p.tok p.jsonl || fail "ft-tokenize"
ft-eval --model "$M" --weights f32 ppl --dump-logits g.f32 p.tok >/dev/null || fail "ft-eval ppl on the GGUF"
ref compare "$M" p.tok g.f32 1e-3 || fail "SmolLM2 logits differ from the NumPy reference"
ref gguf2hf "$M" hf
ft-eval --model hf ppl --dump-logits h.f32 p.tok >/dev/null || fail "ft-eval ppl on the HF dir"
rm -rf hf
cmp g.f32 h.f32 || { ref diff g.f32 h.f32 0; fail "GGUF and the HF dir made from it give different logits"; }
echo "GGUF and HF dir: bit-identical logits ($(stat -c %s g.f32) bytes)"
