# eval-score-ci.sh — bootstrap CIs are seeded (same seed, same interval), hold the score,
# narrow with more data, and --bootstrap 0 turns them off; the report carries sacrebleu's
# signatures and records the options.
source "$FT_ROOT/tests/lib.sh"
for i in $(seq 1 200); do
  if [ $((i % 3)) -eq 0 ]; then o="the quick brown fox $i"; else o="a slow red dog $i"; fi
  printf '{"id":%d,"output":"%s","reference":["the quick brown fox %d","a quick fox %d"]}\n' "$i" "$o" "$i" "$i"
done >p.jsonl
ft-eval score --seed 1 -o a.json p.jsonl
ft-eval score --seed 1 -o b.json p.jsonl
ft-eval score --seed 2 -o c.json p.jsonl
cmp -s a.json b.json || fail "same seed, different reports"
[ "$(jq -c .ci95 a.json)" != "$(jq -c .ci95 c.json)" ] || fail "different seeds gave identical CIs"
for m in em f1 bleu chrf rouge1 rouge2 rougeL rougeLsum; do
  jq -e --arg m "$m" '.ci95[$m][0] <= .[$m] and .[$m] <= .ci95[$m][1] and .ci95[$m][0] < .ci95[$m][1]' a.json >/dev/null ||
    fail "$m: CI $(jq -c --arg m "$m" '.ci95[$m]' a.json) vs score $(jq --arg m "$m" '.[$m]' a.json)"
done
# EM here is a proportion (1/3 of records match exactly): the CI half-width is about 1.96*sqrt(p(1-p)/n)
jq -e '(.em - 100*66/200 | fabs) < 1e-9 and ((.ci95.em[1] - .ci95.em[0]) / 2 - 196 * ((0.33*0.67/200) | sqrt) | fabs) < 1.5' a.json >/dev/null ||
  fail "EM CI width off: $(jq -c '[.em, .ci95.em]' a.json)"
jq -e '.bleu_signature == "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"' a.json >/dev/null || fail "signature: $(jq .bleu_signature a.json)"
jq -e '.chrf_signature == "nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0"' a.json >/dev/null || fail "chrF signature"
jq -e '.bootstrap.samples == 1000 and .bootstrap.seed == 1 and .rouge_stem == false' a.json >/dev/null || fail "options not recorded"
ft-eval score --bootstrap 0 -o d.json p.jsonl
jq -e 'has("ci95") | not' d.json >/dev/null || fail "--bootstrap 0 still wrote CIs"
