# ft-train: one run per output directory. Two runs started on the same -o: the one that gets
# OUT/.ft-lock trains, the other exits 1 at once, before loading anything, naming the holder's
# pid; OUT then holds one run's files only (train_config.json's seed is the adapter's run).
# The runs read their data from FIFOs, so the winner holds the lock until the test feeds it:
# the overlap does not depend on timing. Then three rounds of plain simultaneous starts.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 64 --intermediate 128 --layers 2 --vocab 300 --seed 4
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 2 300
args=(--model tiny --seq-len 128 --batch 4 --max-steps 20 -q)
ft-train "${args[@]}" --data train.tok --seed 1 --lr 1e-3 -o ref1
ft-train "${args[@]}" --data train.tok --seed 2 --lr 2e-3 -o ref2
cmp -s ref1/adapter_model.safetensors ref2/adapter_model.safetensors && fail "the two seeds train the same adapter"

mkfifo f1 f2
ft-train "${args[@]}" --data f1 --seed 1 --lr 1e-3 -o out 2>err1 & p1=$!
ft-train "${args[@]}" --data f2 --seed 2 --lr 2e-3 -o out 2>err2 & p2=$!
loser=
for _ in $(seq 200); do   # up to 20 s
  kill -0 $p1 2>/dev/null || { loser=1; break; }
  kill -0 $p2 2>/dev/null || { loser=2; break; }
  sleep 0.1
done
if [ -z "$loser" ]; then   # neither was refused: let both finish, then fail
  cat train.tok >f1 & cat train.tok >f2 & wait
  fail "two ft-train runs on the same -o both ran (no lock)"
fi
winner=$((3 - loser)); wpid=$([ $winner = 1 ] && echo $p1 || echo $p2)
set +e; wait $( [ $loser = 1 ] && echo $p1 || echo $p2 ); lrc=$?; set -e
[ $lrc -eq 1 ] || { cat err$loser >&2; fail "the refused run exited $lrc, expected 1"; }
expect_in "ft-train: out is in use by another run (pid $wpid, lock out/.ft-lock); wait for it to finish or choose another -o" err$loser
grep -q "trainable parameters" err$loser && fail "the refused run loaded the model before checking the lock"
cat train.tok >f$winner
set +e; wait $wpid; wrc=$?; set -e
[ $wrc -eq 0 ] || { cat err$winner >&2; fail "the run holding the lock exited $wrc"; }
cmp out/adapter_model.safetensors ref$winner/adapter_model.safetensors || fail "out's adapter is not run $winner's"
jq -e --argjson s $winner '.seed == $s' out/train_config.json >/dev/null || fail "out/train_config.json is not run $winner's"
[ ! -e out/.ft-lock ] || fail "the lock file was left behind after a clean exit"

# plain simultaneous starts: whoever loses fails with the message; OUT is always consistent
for round in 1 2 3; do
  rm -rf race
  set +e
  ft-train "${args[@]}" --data train.tok --seed 1 --lr 1e-3 -o race 2>r1 & q1=$!
  ft-train "${args[@]}" --data train.tok --seed 2 --lr 2e-3 -o race 2>r2 & q2=$!
  wait $q1; c1=$?; wait $q2; c2=$?
  set -e
  for k in 1 2; do
    c=$([ $k = 1 ] && echo $c1 || echo $c2)
    [ $c -eq 0 ] || { [ $c -eq 1 ] && grep -q "race is in use by another run (pid " r$k; } ||
      { cat r$k >&2; fail "round $round: run $k exited $c without the lock message"; }
  done
  [ $c1 -eq 0 ] || [ $c2 -eq 0 ] || fail "round $round: neither run succeeded"
  s=$(jq .seed race/train_config.json)
  cmp race/adapter_model.safetensors ref$s/adapter_model.safetensors ||
    fail "round $round: race/train_config.json says seed $s but the adapter is another run's"
done
