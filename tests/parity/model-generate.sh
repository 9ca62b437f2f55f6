#!/usr/bin/env bash
# model-generate.sh — greedy generation with the KV cache (ft-eval generate) against the NumPy
# reference recomputing the full forward at every step, with prompts tokenized by HF
# `tokenizers`, chat templates rendered by jinja2 and outputs decoded by HF (lossy UTF-8).
# The three prompt shapes ({"prompt"}, {"messages"}, {"segments"}) on tiny random Llama
# (GQA) and Qwen2 models; the same prompts through the GGUF of the Llama model.
source "$FT_ROOT/tests/lib.sh"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}   # no spinning threads on a shared machine
need_py
mk() { "$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" "$@"; }
cat >p.jsonl <<'J'
{"prompt":"Hello there, the"}
{"messages":[{"role":"user","content":"Hi! in the er"}],"id":"m1"}
{"segments":[{"text":"<|im_start|>user\nthe x<|im_end|>\n<|im_start|>assistant\n","train":false},{"text":"ans","train":true}],"id":7}
J
same() {  # same A B: equal JSON records line by line
  "$FT_PY" - "$1" "$2" <<'P' || fail "$1 and $2 differ"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
b = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
if a != b:
    for x, y in zip(a, b):
        if x != y: print("ref:", x, "\nft: ", y)
    sys.exit(1)
print(f"{len(a)} records identical, outputs: {[r['output'] for r in a]!r}"[:300])
P
}
for args in "--seed 11" "--seed 12 --arch qwen2 --kv-heads 1"; do
  rm -rf m m.gguf
  mk --hf m --gguf m.gguf $args
  "$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" generate m p.jsonl 20 >ref.jsonl
  ft-eval --model m generate --max-new-tokens 20 p.jsonl >got.jsonl || fail "generate on HF dir"
  same ref.jsonl got.jsonl
  ft-eval --model m.gguf generate --max-new-tokens 20 p.jsonl >got2.jsonl || fail "generate on GGUF"
  same ref.jsonl got2.jsonl
done
