# ft-eval judge --timeout: a judge that never answers fails its call after SECONDS (the run
# exits 1 naming the prompt and the timeout), with its whole process group killed: nothing it
# started is left running, with -j 1 and -j 4. A judge that answers and leaves a background
# process behind still counts, and the leftover is killed too. (timeout 60 around each run:
# without --timeout the old code would wait forever.)
source "$FT_ROOT/tests/lib.sh"
for i in 1 2 3; do
  printf '{"prompt":"p%d","output":"short"}\n' "$i" >>A.jsonl
  printf '{"prompt":"p%d","output":"a much longer answer"}\n' "$i" >>B.jsonl
done
left() { ps -eo stat=,args= | grep -v '^Z' | grep -F "sleep $1" | grep -v grep || true; }
t0=$(date +%s%N)
expect_exit 1 timeout 60 ft-eval judge --cmd 'sleep 987.001' --timeout 1 A.jsonl B.jsonl
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_in "ft-eval judge: prompt 1: the judge did not answer within --timeout 1 s; its process group was killed" err
[ $dt -lt 10000 ] || fail "--timeout 1 took ${dt} ms"
[ -z "$(left 987.001)" ] || fail "the timed-out judge is still running: $(left 987.001)"
# a judge whose shell waits on a background child: the child must die with it
expect_exit 1 timeout 60 ft-eval judge -j 4 --cmd 'sleep 987.002 & sleep 987.003' --timeout 1 A.jsonl B.jsonl
expect_in "the judge did not answer within --timeout 1 s" err
sleep 0.2
[ -z "$(left 987.00)" ] || fail "judge processes left behind: $(left 987.00)"
# answers, then exits leaving a background process that holds stdout: the answer counts, no hang
expect_exit 0 timeout 60 ft-eval judge --cmd 'cat >/dev/null; sleep 987.004 & echo tie' --timeout 30 A.jsonl B.jsonl
jq -e '.ties == 6 and .win_rate == 0.5' out >/dev/null || fail "tie judge: $(jq -c . out)"
sleep 0.2
[ -z "$(left 987.004)" ] || fail "the judge's background process was left running: $(left 987.004)"
expect_exit 2 ft-eval judge --cmd 'echo A' --timeout soon A.jsonl B.jsonl
expect_in "--timeout" err
