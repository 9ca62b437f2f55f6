# metrics-bleu.sh — ft-eval score's BLEU (13a, intl, char, none) and chrF against Python
# sacrebleu on a generated 1,000-record corpus (punctuation, numbers, Unicode, empty strings,
# 1-3 references): corpus scores, statistics and signatures, and per-record sentence scores
# (all records for 13a, every 5th for the others), to 1e-6.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" -c 'import sacrebleu' 2>/dev/null || skip "sacrebleu not installed in the venv"
ref="$FT_ROOT/tests/parity/metrics_ref.py"
"$FT_PY" "$ref" gen corpus.jsonl 1000
# the first reference only, for the nrefs:1 signature
jq -c '.reference |= (if type == "array" then .[0] else . end)' corpus.jsonl >one.jsonl
args=()
for tok in 13a intl char none; do
  ft-eval score --metrics bleu,chrf --bleu-tokenize "$tok" --bootstrap 0 --per-record "per-$tok.jsonl" \
    -o "rep-$tok.json" corpus.jsonl
  args+=("rep-$tok.json" "per-$tok.jsonl" "$tok" "$([ $tok = 13a ] && echo 1 || echo 5)")
done
"$FT_PY" "$ref" bleu corpus.jsonl "${args[@]}" || fail "BLEU/chrF differ from sacrebleu"
ft-eval score --metrics bleu,chrf --bootstrap 0 --per-record per1.jsonl -o rep1.json one.jsonl
"$FT_PY" "$ref" bleu one.jsonl rep1.json per1.jsonl 13a 5 || fail "BLEU/chrF differ from sacrebleu (single reference)"
