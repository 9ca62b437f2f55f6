# metrics-rouge.sh — ft-eval score's ROUGE-1/2/L/Lsum against Python rouge-score (score_multi,
# default tokenizer) with and without --rouge-stem, per record and averaged, to 1e-6.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" -c 'import rouge_score' 2>/dev/null || skip "rouge-score not installed in the venv"
ref="$FT_ROOT/tests/parity/metrics_ref.py"
"$FT_PY" "$ref" gen corpus.jsonl 1000
ft-eval score --metrics rouge --bootstrap 0 --per-record per0.jsonl -o rep0.json corpus.jsonl
ft-eval score --metrics rouge --rouge-stem --bootstrap 0 --per-record per1.jsonl -o rep1.json corpus.jsonl
"$FT_PY" "$ref" rouge corpus.jsonl rep0.json per0.jsonl 0 rep1.json per1.jsonl 1 || fail "ROUGE differs from rouge-score"
