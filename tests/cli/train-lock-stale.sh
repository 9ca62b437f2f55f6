# ft-train's OUT/.ft-lock left behind never blocks the next run: the lock is the kernel's
# (flock), dropped when its holder dies, and the pid in the file is information only.
# A lock file naming a dead pid, and a run SIGKILLed while it holds the lock, are both
# followed by a run that succeeds and then removes the lock file.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 40
args=(--model tiny --seq-len 64 --batch 2 --max-steps 3 -q)
mkdir a && echo 999999999 >a/.ft-lock
ft-train "${args[@]}" --data train.tok -o a || fail "a stale lock file (dead pid) blocked the run"
[ -f a/train_config.json ] && [ ! -e a/.ft-lock ] || fail "a: $(ls -A a)"
# a run that holds the lock (blocked reading its data from a FIFO) is SIGKILLed
mkfifo fifo
ft-train "${args[@]}" --data fifo -o b & pid=$!
for _ in $(seq 1 200); do [ "$(cat b/.ft-lock 2>/dev/null)" = "$pid" ] && break; sleep 0.05; done
[ "$(cat b/.ft-lock 2>/dev/null)" = "$pid" ] || { kill -KILL $pid; fail "the run did not record its pid in b/.ft-lock"; }
expect_exit 1 ft-train "${args[@]}" --data train.tok -o b
expect_in "b is in use by another run (pid $pid, lock b/.ft-lock)" err
kill -KILL $pid; wait $pid 2>/dev/null || true
[ "$(cat b/.ft-lock)" = "$pid" ] || fail "the killed run's lock file is expected to stay (with its pid)"
ft-train "${args[@]}" --data train.tok -o b || fail "the lock of a SIGKILLed run blocked the next run"
[ -f b/train_config.json ] && [ ! -e b/.ft-lock ] || fail "b: $(ls -A b)"
