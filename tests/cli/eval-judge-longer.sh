# eval-judge-longer.sh — judge with a stub that always prefers the longer answer: positions
# are swapped on the second call (the log shows both orders), the unswapped verdicts agree,
# ties count half, and the win rate equals the count done independently here; -j 4 gives the
# same report; a judge printing nonsense or failing is an error naming the prompt.
source "$FT_ROOT/tests/lib.sh"
command -v jq >/dev/null || skip "jq not installed"
cat >longer.sh <<'SH'
#!/bin/sh
# log the request, answer by length (A, B or tie)
tee -a calls.log | jq -r 'if (.output_a|length) > (.output_b|length) then "A"
  elif (.output_a|length) < (.output_b|length) then "B" else "tie" end'
SH
chmod +x longer.sh
n=0
for i in $(seq 1 16); do
  la=$(( (i * 7) % 11 )); lb=$(( (i * 5) % 11 ))
  a=$(printf '%*s' "$la" '' | tr ' ' a); b=$(printf '%*s' "$lb" '' | tr ' ' b)
  printf '{"id":%d,"prompt":"question %d","output":"%s"}\n' "$i" "$i" "$a" >>A.jsonl
  printf '{"id":%d,"output":"%s"}\n' "$i" "$b" >>B.jsonl
done
# expected B win rate: B longer = 1, equal = 0.5, shorter = 0
want=$(jq -s -n --slurpfile a A.jsonl --slurpfile b B.jsonl \
  '[range(0; $a|length) as $i | ($a[$i].output|length) as $x | ($b[$i].output|length) as $y
    | if $y > $x then 1 elif $y == $x then 0.5 else 0 end] | add / length')
expect_exit 0 ft-eval judge --cmd ./longer.sh --per-record per.jsonl -o rep.json A.jsonl B.jsonl
jq -e --argjson w "$want" '.win_rate == $w and .prompts == 16 and .calls == 32 and .consistency == 1' rep.json >/dev/null ||
  fail "report $(jq -c . rep.json), expected win rate $want"
jq -e '.ci95.win_rate[0] <= .win_rate and .win_rate <= .ci95.win_rate[1]' rep.json >/dev/null || fail "CI"
# every prompt was asked in both orders
[ "$(wc -l <calls.log)" -eq 32 ] || fail "$(wc -l <calls.log) judge calls, expected 32"
jq -s -e '[.[] | select(.prompt == "question 3")] | length == 2 and .[0].output_a == .[1].output_b and .[0].output_b == .[1].output_a' calls.log >/dev/null ||
  fail "second call did not swap the outputs: $(grep '"question 3"' calls.log)"
# ties: equal lengths give tie twice, counted half and as 2 tie verdicts
ties=$(jq -s '[.[] | select(.verdict == "tie")] | length' per.jsonl)
jq -e --argjson t "$ties" '.ties == 2 * $t and .a_wins + .b_wins + .ties == 32' rep.json >/dev/null || fail "tie count"
jq -s -e '[.[] | select(.verdict == "tie") | .win_rate == 0.5] | all' per.jsonl >/dev/null || fail "a tie is not half a win"
# parallel calls: same report
rm calls.log
expect_exit 0 ft-eval judge --cmd ./longer.sh -j 4 -o rep4.json A.jsonl B.jsonl
[ "$(jq -c 'del(.per_record)' rep.json)" = "$(jq -c . rep4.json)" ] || fail "-j 4 changed the report"
# a judge that answers nonsense, or fails
expect_exit 1 ft-eval judge --cmd 'echo maybe' A.jsonl B.jsonl
expect_in "prompt 1: the judge printed 'maybe', expected A, B or tie" err
expect_exit 1 ft-eval judge --cmd 'exit 4' A.jsonl B.jsonl
expect_in "exit status 4" err
# the judge need not read its input
expect_exit 0 ft-eval judge --cmd 'echo tie' --bootstrap 0 A.jsonl B.jsonl
jq -e '.win_rate == 0.5' out >/dev/null || fail "all ties: $(cat out)"
# mismatched inputs, missing fields, usage
head -n 3 B.jsonl >short.jsonl
expect_exit 1 ft-eval judge --cmd ./longer.sh A.jsonl short.jsonl
expect_in "16 records" err
jq -c 'del(.prompt)' A.jsonl >noprompt.jsonl
expect_exit 1 ft-eval judge --cmd ./longer.sh noprompt.jsonl B.jsonl
expect_in "noprompt.jsonl:1: no string field 'prompt'" err
expect_exit 2 ft-eval judge A.jsonl B.jsonl
expect_in "--cmd PROGRAM is required" err
expect_exit 2 ft-eval judge --cmd ./longer.sh -j 0 A.jsonl B.jsonl
