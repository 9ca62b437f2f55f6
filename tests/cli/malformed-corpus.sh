# The malformed corpus (tests/malformed/gen.py): every CVE-style GGUF case, every safetensors
# header rule, FTOK damage, every truncation of small valid files and seeded byte flips.
# Each malformed file: ft-info exits 1 with "ft-info: FILE..." on stderr; never a crash, a
# hang or a sanitizer report (any other exit status fails; the whole run has a time limit).
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" "$FT_ROOT/tests/malformed/gen.py" corpus || fail "generator failed"
n=0 bad=0
check() {   # one process per file: ft-info itself
  while read -r name expect; do
    f="corpus/$name"
    set +e; ft-info "$f" >out 2>err; rc=$?; set -e
    n=$((n + 1))
    local first="" lines=()
    IFS= read -r first <err || true
    case "$expect:$rc" in
      1:1|0\|1:1)
        [[ "$first" == "ft-info: corpus/$name"* ]] || { echo "$name: exit 1 but message is '$first'"; bad=$((bad + 1)); } ;;
      0:0|0\|1:0)
        mapfile -t lines <out
        [ "${#lines[@]}" -eq 1 ] || { echo "$name: exit 0 but ${#lines[@]} lines of output"; bad=$((bad + 1)); }
        cat out >>accepted.jsonl ;;
      *) echo "$name: exit $rc, expected $expect: $first"; bad=$((bad + 1)) ;;
    esac
  done < corpus/MANIFEST
  # whatever was accepted printed valid JSON
  [ ! -s accepted.jsonl ] || "$FT_PY" -c "import json; [json.loads(l) for l in open('accepted.jsonl')]" ||
    { echo "invalid JSON output"; bad=$((bad + 1)); }
  echo "$n files ($(wc -l <accepted.jsonl) accepted), $bad problems"
  [ "$bad" -eq 0 ]
}
touch accepted.jsonl
export -f check 2>/dev/null || true
check || fail "corpus files misbehaved"
