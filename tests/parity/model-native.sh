#!/usr/bin/env bash
# model-native.sh — SmolLM2-135M-Instruct (GGUF: Q4_1 linears, Q8_0 embedding/LM head) with its
# weights kept compact (ft-eval --weights native: fused dequantize-dot kernels) against the
# independent NumPy reference (gguf's dequantization, float64 forward), with the tolerance the
# f32 path has there (1e-3 absolute on logits up to ~35; native differs from f32 only in the
# order of f32 sums: ~1e-4 measured); and greedy generation on the demo's prompts (the first
# 8 of examples/json-extract/eval.jsonl, rendered as the demo does, 32 new tokens): native
# weights with continuous batching (--batch 8) and one at a time (--batch 1) both give the
# f32 path's outputs (--weights f32 --batch 1, the path before compact weights), record by
# record. (Identical outputs are required: stricter than "identical where the top-2 logits
# are apart by more than the tolerance".)
source "$FT_ROOT/tests/lib.sh"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}   # no spinning threads on a shared machine
need_py
M=$(model_path) && [ -f "$M" ] || skip "SmolLM2 GGUF not cached (make model)"
ref() { OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" "$@"; }
{
  echo '{"text":"<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"}'
  head -c 300 "$FT_ROOT/tests/parity/model-smollm2.txt" | jq -c -Rs '{text:.}'
} >p.jsonl
ft-tokenize --tokenizer "$M" -o p.tok p.jsonl || fail "ft-tokenize"
ft-eval --model "$M" --weights native ppl --dump-logits n.f32 p.tok >/dev/null || fail "ft-eval ppl --weights native"
ref compare "$M" p.tok n.f32 1e-3 || fail "native-weight logits differ from the NumPy reference"
head -8 "$FT_ROOT/examples/json-extract/eval.jsonl" | ft-template --model "$M" --generation-prompt -o prompts.jsonl
ft-eval --model "$M" --weights f32 generate --batch 1 --max-new-tokens 32 -o f32.jsonl prompts.jsonl || fail "f32 generate"
ft-eval --model "$M" --weights native generate --batch 8 --max-new-tokens 32 -o nb.jsonl prompts.jsonl || fail "native --batch 8"
ft-eval --model "$M" --weights native generate --batch 1 --max-new-tokens 32 -o n1.jsonl prompts.jsonl || fail "native --batch 1"
for f in nb n1; do
  "$FT_PY" - f32.jsonl $f.jsonl <<'P' || fail "$f: greedy outputs differ from the f32 path"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
b = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(a) == len(b) == 8, (len(a), len(b))
bad = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
for i in bad: print(f"record {i}: f32 {a[i]['output']!r}\n      {sys.argv[2]}: {b[i]['output']!r}")
sys.exit(1 if bad else 0)
P
done
echo "native logits within 1e-3 of the reference; 8 demo prompts: native (batch 8 and 1) == f32 outputs"
