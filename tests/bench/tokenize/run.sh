#!/usr/bin/env bash
# tests/bench/tokenize/run.sh — MB/s of ft-tokenize and of HF `tokenizers`, single thread each,
# same text, same run, and their ratio; then ft-tokenize's scaling with -j.
# Tokenizers: the SmolLM2 GGUF vocabulary (ft) against an equivalent tokenizer.json (HF) when
# the model is cached, and a SentencePiece-style BPE trained here (both sides the same file).
# Usage: tests/bench/tokenize/run.sh [CORPUS_KB]   (default 8000)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
py="$root/.venv/bin/python"
ft="$root/bin/ft-tokenize"
H="$root/tests/parity/tokenize_parity.py"
[ -x "$py" ] || { echo "no $py: run scripts/venv.sh"; exit 1; }
[ -x "$ft" ] || { echo "no $ft: run make"; exit 1; }
kb=${1:-8000}
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
"$py" "$H" corpus "$w/corpus.jsonl" "$kb"
mb=$("$py" -c 'import json,sys; print(sum(len(json.loads(l)["text"].encode()) for l in open(sys.argv[1]))/1e6)' "$w/corpus.jsonl")
echo "corpus: $mb MB of text ($(wc -l < "$w/corpus.jsonl") records), $(nproc) CPUs"

cat > "$w/hf.py" <<'PY'
import json, sys, time
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1])
data = [json.loads(l)["text"] for l in open(sys.argv[2])]
tok.encode(data[0], add_special_tokens=False)
t0 = time.perf_counter()
for d in data:
    tok.encode(d, add_special_tokens=False)
print(time.perf_counter() - t0)
PY

bench() {  # bench NAME FT_TOKENIZER HF_TOKENIZER_JSON
  local name=$1 ftok=$2 hfj=$3
  local hf_s ft_s
  hf_s=$(RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false "$py" "$w/hf.py" "$hfj" "$w/corpus.jsonl")
  local t0=$(date +%s.%N)
  "$ft" --tokenizer "$ftok" -j 1 --no-add-bos --no-add-eos "$w/corpus.jsonl" -o /dev/null
  local t1=$(date +%s.%N)
  ft_s=$(echo "$t1 - $t0" | bc -l)
  printf '%-10s HF tokenizers %7.2f MB/s   ft-tokenize %7.2f MB/s   ratio %.1fx\n' "$name" \
    "$(echo "$mb / $hf_s" | bc -l)" "$(echo "$mb / $ft_s" | bc -l)" "$(echo "$hf_s / $ft_s" | bc -l)"
  for j in 2 4; do
    t0=$(date +%s.%N)
    "$ft" --tokenizer "$ftok" -j $j --no-add-bos --no-add-eos "$w/corpus.jsonl" -o /dev/null
    t1=$(date +%s.%N)
    printf '%-10s ft-tokenize -j %d %7.2f MB/s   speed-up %.2fx\n' "$name" $j "$(echo "$mb / ($t1 - $t0)" | bc -l)" \
      "$(echo "$ft_s / ($t1 - $t0)" | bc -l)"
  done
}

m=$("$root/scripts/model.sh" path 2>/dev/null || true)
if [ -n "$m" ] && [ -f "$m" ]; then
  "$py" "$H" from-gguf "$m" "$w/smol" 2>/dev/null
  bench smollm2 "$m" "$w/smol/tokenizer.json"
else
  echo "(SmolLM2 not cached: byte-level bench uses a tokenizer trained here)"
  "$py" "$H" build bytelevel "$w/corpus.jsonl" "$w/bl" 2>/dev/null
  bench bytelevel "$w/bl" "$w/bl/tokenizer.json"
fi
"$py" "$H" build spm "$w/corpus.jsonl" "$w/spm" 2>/dev/null
bench spm "$w/spm" "$w/spm/tokenizer.json"
