# eval-score-emf1.sh — ft-eval score's EM and token F1 against values computed by hand
# (SQuAD normalization: lowercase, no punctuation, no a/an/the, collapsed whitespace).
source "$FT_ROOT/tests/lib.sh"
cat >preds.jsonl <<'J'
{"id":1,"output":"The Cat sat.","reference":"a cat sat"}
{"id":2,"output":"the cat sat on the mat","reference":"the cat sat"}
{"id":3,"output":"Paris","reference":["London","paris!"]}
{"id":4,"output":"a1 x x","reference":"x y"}
{"id":5,"output":"","reference":""}
J
# per record: EM 100, 0, 100, 0, 100; F1 100, 2/3*100 (p 2/4, r 2/2), 100, 40 (p 1/3, r 1/2), 100
expect_exit 0 ft-eval score --metrics em,f1 --per-record per.jsonl -o rep.json preds.jsonl
jq -e '.records == 5 and .em == 60' rep.json >/dev/null || fail "em: $(jq -c . rep.json)"
jq -e '(.f1 - (100 + 200/3 + 100 + 40 + 100) / 5 | fabs) < 1e-9' rep.json >/dev/null || fail "f1: $(jq .f1 rep.json)"
jq -e '.ci95.em[0] <= .em and .em <= .ci95.em[1]' rep.json >/dev/null || fail "CI does not hold the score"
[ "$(jq -c '[.id, .em]' per.jsonl | tr '\n' ' ')" = "[1,100] [2,0] [3,100] [4,0] [5,100] " ] || fail "per-record em: $(cat per.jsonl)"
jq -s -e '.[] | select(.id == 4) | (.f1 - 40 | fabs) < 1e-9' per.jsonl >/dev/null || fail "record 4 f1"
# other field names
jq -c '{pred: .output, gold: .reference}' preds.jsonl >renamed.jsonl
expect_exit 0 ft-eval score --metrics em --pred-field pred --ref-field gold --bootstrap 0 renamed.jsonl
jq -e '.em == 60 and (has("ci95") | not)' out >/dev/null || fail "renamed fields: $(cat out)"
# stdin
ft-eval score --metrics em --bootstrap 0 <preds.jsonl | jq -e '.em == 60' >/dev/null || fail "stdin"
# zstd-compressed input is read transparently
if command -v zstd >/dev/null; then
  zstd -q preds.jsonl -o preds.jsonl.zst
  ft-eval score --metrics em --bootstrap 0 preds.jsonl.zst | jq -e '.em == 60' >/dev/null || fail "zstd input"
fi
