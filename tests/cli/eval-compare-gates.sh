# eval-compare-gates.sh — compare's exit codes: 0 without or with passing gates, 3 naming the
# failed gate (relative % and absolute, --max-regression and --min-gain, lower-is-better for
# loss/ppl), 1 for a gate on a missing metric or a bad report, 2 for usage errors.
source "$FT_ROOT/tests/lib.sh"
echo '{"records":100,"em":50.0,"bleu":20.0,"rougeL":0.40}' >base.json
echo '{"records":100,"em":48.0,"bleu":23.0,"rougeL":0.40}' >tuned.json
echo '{"loss":2.0,"ppl":7.38905609893065,"tokens":1000,"records":10}' >ppl-a.json
echo '{"loss":2.1,"ppl":8.16616991256765,"tokens":1000,"records":10}' >ppl-b.json

expect_exit 0 ft-eval compare base.json tuned.json
expect_in "bleu" out
grep -q "^records" out && fail "records is not a metric"
expect_exit 0 ft-eval compare --json base.json tuned.json
jq -e '[.metrics[].metric] == ["em","bleu","rougeL"]' out >/dev/null || fail "metrics: $(jq -c '[.metrics[].metric]' out)"
jq -e '.metrics[1].delta == 3 and .metrics[1].delta_pct == 15' out >/dev/null || fail "bleu delta: $(jq -c '.metrics[1]' out)"

# em fell 4% of its value: a 5% allowance passes, 3% fails
expect_exit 0 ft-eval compare --max-regression em=5% base.json tuned.json
expect_exit 3 ft-eval compare --max-regression em=3% base.json tuned.json
expect_in "gate failed: --max-regression em=3%: em went from 50 to 48 (worse by 4%)" err
# absolute allowance in points: 2 points passes, 1.5 fails
expect_exit 0 ft-eval compare --max-regression em=2 base.json tuned.json
expect_exit 3 ft-eval compare --max-regression em=1.5 base.json tuned.json
# bleu gained 15%: --min-gain 10% passes, 20% fails; rougeL unchanged fails a min-gain of 0.01 absolute
expect_exit 0 ft-eval compare --min-gain bleu=10% base.json tuned.json
expect_exit 3 ft-eval compare --min-gain bleu=20% base.json tuned.json
expect_in "gate failed: --min-gain bleu=20%" err
expect_exit 3 ft-eval compare --min-gain rougeL=0.01 base.json tuned.json
# several gates: all reported in the table, exit 3 when any fails
expect_exit 3 ft-eval compare --min-gain bleu=10% --max-regression em=1% base.json tuned.json
expect_in "PASS  --min-gain bleu=10%" out
expect_in "FAIL  --max-regression em=1%" out
# ppl: lower is better, so 2.0 -> 2.1 loss is a 5% regression and ppl +10.5%
expect_exit 3 ft-eval compare --max-regression ppl=10% ppl-a.json ppl-b.json
expect_in "ppl went from 7.38906 to 8.16617 (worse by 10.5" err
expect_exit 0 ft-eval compare --max-regression ppl=11% --max-regression loss=5% ppl-a.json ppl-b.json
expect_exit 0 ft-eval compare --max-regression ppl=0% ppl-b.json ppl-a.json   # B better: no regression
expect_exit 3 ft-eval compare --min-gain loss=5% ppl-b.json ppl-a.json        # gain is 4.76%
expect_exit 0 ft-eval compare --min-gain loss=4.7% ppl-b.json ppl-a.json
# errors
expect_exit 1 ft-eval compare --max-regression acc=1% base.json tuned.json
expect_in "metric 'acc'" err
echo '{"em": ' >bad.json
expect_exit 1 ft-eval compare base.json bad.json
expect_in "bad.json" err
echo '[1,2]' >arr.json
expect_exit 1 ft-eval compare arr.json base.json
expect_in "arr.json: the report is not a JSON object" err
expect_exit 1 ft-eval compare base.json missing.json
expect_exit 2 ft-eval compare base.json
expect_exit 2 ft-eval compare --max-regression em base.json tuned.json
expect_exit 2 ft-eval compare --max-regression em=abc% base.json tuned.json
expect_exit 2 ft-eval compare a.json b.json c.json
# metrics only one side has are listed, not compared
expect_exit 0 ft-eval compare --json base.json ppl-a.json
jq -e '.metrics == [] and .only_in_a == ["em","bleu","rougeL"] and .only_in_b == ["loss","ppl"]' out >/dev/null ||
  fail "one-sided metrics: $(jq -c . out)"
