# eval-score-bad.sh — bad records and bad flags: clear "FILE:LINE: what" errors, exit 1 / 2,
# no half-written report; --skip-bad counts and skips instead.
source "$FT_ROOT/tests/lib.sh"
printf '%s\n' '{"output":"a","reference":"a"}' '{"output":"b"}' '{"output":"c","reference":"c"}' >missing.jsonl
expect_exit 1 ft-eval score -o rep.json missing.jsonl
expect_in "missing.jsonl:2: no field 'reference'" err
[ ! -e rep.json ] || fail "a report was written despite the error"
ls rep.json.tmp* 2>/dev/null && fail "temporary file left behind"
expect_exit 0 ft-eval score --skip-bad --metrics em --bootstrap 0 missing.jsonl
jq -e '.records == 2 and .skipped == 1 and .em == 100' out >/dev/null || fail "skip-bad: $(cat out)"
printf '%s\n' '{"output":1,"reference":"a"}' >num.jsonl
expect_exit 1 ft-eval score num.jsonl
expect_in "num.jsonl:1: field 'output' is not a string" err
printf '%s\n' '{"output":"x","reference":[]}' >empty.jsonl
expect_exit 1 ft-eval score empty.jsonl
expect_in "empty.jsonl:1: field 'reference' is an empty array" err
printf '%s\n' '{"output":"x","reference":["a",2]}' >mixed.jsonl
expect_exit 1 ft-eval score mixed.jsonl
expect_in "mixed.jsonl:1: field 'reference'[1] is not a string" err
printf '{"output":"x","reference":"a"}\nnot json\n' >broken.jsonl
expect_exit 1 ft-eval score broken.jsonl
expect_in "broken.jsonl:2:" err
printf '{"output":"\xff","reference":"a"}\n' >utf.jsonl
expect_exit 1 ft-eval score utf.jsonl
expect_in "utf.jsonl:1:" err
expect_exit 1 ft-eval score no-such-file.jsonl
expect_in "no-such-file.jsonl" err
expect_exit 2 ft-eval score --metrics bleu,meteor missing.jsonl
expect_in "unknown metric 'meteor'" err
expect_exit 2 ft-eval score --bleu-tokenize zh missing.jsonl
expect_in "unknown tokenizer 'zh'" err
expect_exit 2 ft-eval score --bootstrap -3 missing.jsonl
expect_exit 2 ft-eval score --frobnicate
expect_in "ft-eval score: unknown option '--frobnicate'" err
# empty input: zero records, scores 0, still a valid report
: >none.jsonl
expect_exit 0 ft-eval score none.jsonl
jq -e '.records == 0' out >/dev/null || fail "empty input: $(cat out)"
