# eval-judge-bias.sh — a judge with pure position bias (always "A") must come out even:
# swapping positions gives B's win rate 0.5, consistency 0, first-position rate 1.
source "$FT_ROOT/tests/lib.sh"
for i in 1 2 3 4 5 6; do
  printf '{"prompt":"p%d","output":"short"}\n' "$i" >>A.jsonl
  printf '{"prompt":"p%d","output":"a much longer answer"}\n' "$i" >>B.jsonl
done
expect_exit 0 ft-eval judge --cmd 'cat >/dev/null; echo A' A.jsonl B.jsonl
jq -e '.win_rate == 0.5 and .consistency == 0 and .first_position_rate == 1 and .a_wins == 6 and .b_wins == 6' out >/dev/null ||
  fail "position-biased judge: $(jq -c . out)"
expect_exit 0 ft-eval judge --cmd 'cat >/dev/null; echo " b "' A.jsonl B.jsonl
jq -e '.win_rate == 0.5 and .first_position_rate == 0' out >/dev/null || fail "always-B judge: $(jq -c . out)"
