# eval-compare-paired.sh — compare's paired bootstrap CI from per-record files: a real
# improvement is significant, identical systems give [0, 0], the CI of a mean difference
# matches the normal approximation, misaligned per-record files are refused.
source "$FT_ROOT/tests/lib.sh"
# base answers right on every 4th record, tuned on every 2nd: em 25 -> 50
for i in $(seq 0 399); do
  ref="the answer to question $i is here"
  if [ $((i % 4)) -eq 0 ]; then a="$ref"; else a="wrong $i"; fi
  if [ $((i % 2)) -eq 0 ]; then b="$ref"; else b="wrong $i"; fi
  printf '{"id":%d,"output":"%s","reference":"%s"}\n' "$i" "$a" "$ref" >>a.jsonl
  printf '{"id":%d,"output":"%s","reference":"%s"}\n' "$i" "$b" "$ref" >>b.jsonl
done
ft-eval score --per-record ra.jsonl -o A.json a.jsonl
ft-eval score --per-record rb.jsonl -o B.json b.jsonl
expect_exit 0 ft-eval compare --json A.json B.json
jq -e '.metrics[] | select(.metric == "em") | .a == 25 and .b == 50 and .significant and .ci95[0] > 0' out >/dev/null ||
  fail "em: $(jq -c '.metrics[] | select(.metric == "em")' out)"
# per-record differences d_i in {0, 100} with mean 25: CI half-width ~ 1.96 * sd(d) / sqrt(n)
jq -e '.metrics[] | select(.metric == "em") | ((.ci95[1] - .ci95[0]) / 2 - 1.96 * 43.30127 / 20 | fabs) < 0.6' out >/dev/null ||
  fail "em CI width: $(jq -c '.metrics[] | select(.metric == "em") | .ci95' out)"
jq -e '.metrics[] | select(.metric == "bleu") | has("ci95") and .ci95[0] > 0' out >/dev/null || fail "no BLEU CI from stats"
# identical systems: every resampled difference is 0
expect_exit 0 ft-eval compare --json A.json A.json
jq -e '[.metrics[] | .ci95 == [0,0] and .significant == false] | all' out >/dev/null || fail "A vs A: $(jq -c '.metrics' out)"
# the per-record path is resolved next to the report when run from elsewhere
mkdir sub && cd sub
expect_exit 0 ft-eval compare --json ../A.json ../B.json
jq -e '.metrics[0] | has("ci95")' out >/dev/null || fail "per-record file not found relative to the report"
cd ..
# --bootstrap 0: no CIs
expect_exit 0 ft-eval compare --json --bootstrap 0 A.json B.json
jq -e '[.metrics[] | has("ci95") | not] | all' out >/dev/null || fail "--bootstrap 0"
# misaligned: fewer records, or different ids
head -n 399 rb.jsonl >short.jsonl
expect_exit 1 ft-eval compare --b-records short.jsonl A.json B.json
expect_in "have 400 and 399 records" err
jq -c '.id += 1' rb.jsonl >shift.jsonl
expect_exit 1 ft-eval compare --b-records shift.jsonl A.json B.json
expect_in "ids differ" err
