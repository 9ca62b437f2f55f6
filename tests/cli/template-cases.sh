# Every case of shared/testdata/chat-templates/cases.jsonl (real chat templates with the
# string HF apply_chat_template renders, or the error it raises) through the tool:
#   ft-template --template T.jinja --bos-token B --eos-token E [--generation-prompt]
# on {"messages": ...}; the segments' texts concatenated must equal `expected` exactly,
# or the tool must exit 1 with `expected_error` in its message (and write nothing).
source "$FT_ROOT/tests/lib.sh"
cases="$FT_TESTDATA/chat-templates/cases.jsonl"
[ -f "$cases" ] || skip "no $cases"
command -v jq >/dev/null || skip "jq not installed"
# one jq pass: per case name, template, bos, eos, gen flag, kind, expected-or-error, messages (NUL-separated)
fields() {
  jq -j '.name, "\u0000", .template, "\u0000", .bos_token, "\u0000", .eos_token, "\u0000",
         (.add_generation_prompt|tostring), "\u0000", (if has("expected_error") then "error" else "ok" end), "\u0000",
         (.expected_error // .expected), "\u0000", ({messages}|tojson), "\u0000"' "$cases"
}
n=0 bad=0
declare -a names want
while IFS= read -r -d '' name && IFS= read -r -d '' tpl && IFS= read -r -d '' bos && IFS= read -r -d '' eos &&
      IFS= read -r -d '' gen && IFS= read -r -d '' kind && IFS= read -r -d '' exp && IFS= read -r -d '' msgs; do
  n=$((n + 1)); id=$(printf '%03d' $n)
  printf '%s' "$tpl" >t.jinja
  printf '%s\n' "$msgs" >in.jsonl
  args=(--template t.jinja --bos-token "$bos" --eos-token "$eos")
  [ "$gen" = true ] && args+=(--generation-prompt)
  set +e; ft-template "${args[@]}" in.jsonl >"out$id.jsonl" 2>err; rc=$?; set -e
  if [ "$kind" = error ]; then
    if [ $rc -ne 1 ] || ! grep -qF -- "$exp" err; then
      echo "case $n ($name): want exit 1 with '$exp', got exit $rc: $(cat err)" >&2; bad=$((bad + 1))
    fi
    [ ! -s "out$id.jsonl" ] || { echo "case $n ($name): partial output on error" >&2; bad=$((bad + 1)); }
    rm -f "out$id.jsonl"
  elif [ $rc -ne 0 ]; then
    echo "case $n ($name): exit $rc: $(cat err)" >&2; bad=$((bad + 1)); rm -f "out$id.jsonl"
  else
    names[$n]=$name; want[$n]=$exp; printf '%s\n' "$n" >>ok.list
  fi
done < <(fields)
[ $n -ge 90 ] || fail "only $n cases read"
# one jq pass over all outputs: the segments' texts concatenated, NUL-separated, in case order
i=0
mapfile -t oks <ok.list
while IFS= read -r -d '' got; do
  k=${oks[$i]}; i=$((i + 1))
  if [ "$got" != "${want[$k]}" ]; then
    echo "case $k (${names[$k]}): rendering differs" >&2
    diff <(printf '%s' "${want[$k]}" | cat -A) <(printf '%s' "$got" | cat -A) | head -10 >&2 || true
    bad=$((bad + 1))
  fi
done < <(jq -j '[.segments[].text] | join(""), "\u0000"' out*.jsonl)
[ $i -eq ${#oks[@]} ] || fail "read $i outputs for ${#oks[@]} successful cases"
[ $bad -eq 0 ] || fail "$bad of $n chat-template cases failed"
echo "$n cases ok ($i rendered, $((n - i)) expected errors)" >&2
