# bench-smollm2.sh — ft-eval bench with the real model (SmolLM2-135M-Instruct GGUF) on the real
# data against tests/parity/bench_ref.py: lm-eval's requests, HF tokenizers on the model's
# tokenizer.json (built from the GGUF vocabulary, as tokenize-smollm2.sh does), the NumPy
# float64 forward of the dequantized weights: every log-likelihood within 1e-3, predictions and
# acc / acc_norm / acc_bytes identical. The first FT_BENCH_ITEMS records of every task (default
# 2 in `make test`; FT_BENCH_ITEMS=100 is the slow tier, about an hour on 2 cores).
# Skipped without the model or the data.
source "$FT_ROOT/tests/lib.sh"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
need_py
M=$(model_path) && [ -f "$M" ] || skip "SmolLM2 GGUF not cached (make model)"
D=$("$FT_ROOT/scripts/bench-data.sh" path 2>/dev/null) || skip "benchmark data not fetched (make bench-data)"
"$FT_PY" -c 'import tokenizers, numpy, jinja2, gguf' 2>/dev/null || skip "tokenizers/numpy/jinja2/gguf missing in the venv"
n=${FT_BENCH_ITEMS:-2}
cache="${FT_CACHE:-$HOME/.cache/ft}/tokenizer-vocab"
{ mkdir -p "$cache" && [ -w "$cache" ]; } 2>/dev/null || cache=$PWD
cache="$cache/smollm2-$(stat -c %s "$M")"
if [ ! -s "$cache/tokenizer.json" ]; then
  "$FT_PY" "$FT_ROOT/tests/parity/tokenize_parity.py" from-gguf "$M" "$cache.tmp" 2>/dev/null || fail "cannot build tokenizer.json from $M"
  rm -rf "$cache"; mv "$cache.tmp" "$cache"
fi
T=arc_easy,arc_challenge,hellaswag,piqa,winogrande,boolq,sciq,openbookqa,mmlu
ft-eval --model "$M" bench -q --limit "$n" --data "$D" --out-dir out $T >/dev/null || fail "ft-eval bench"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$FT_PY" "$FT_ROOT/tests/parity/bench_ref.py" scores "$M" "$cache/tokenizer.json" \
  "$D" out $T 0 "$n" || fail "SmolLM2 bench differs from the reference"
