# ft-merge -o OUT: one merge per output. The lock is .OUT.ft-lock beside OUT (the output appears
# by rename), taken before anything is read; a second merge on OUT exits 1 at once naming the
# holder's pid, and after the holder dies (SIGKILL) the next merge succeeds and removes it.
# The holder is kept waiting by an adapter_config.json that is a FIFO.
. "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --heads 4 \
  --kv-heads 2 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/parity/merge_ref.py" make-adapter lora tiny 1 2 4 0 q_proj
mkdir slow && mkfifo slow/adapter_config.json
ft-merge --model tiny --adapter slow -o merged 2>holder.err & pid=$!
for _ in $(seq 1 200); do [ "$(cat .merged.ft-lock 2>/dev/null)" = "$pid" ] && break; sleep 0.05; done
[ "$(cat .merged.ft-lock 2>/dev/null)" = "$pid" ] || { kill -KILL $pid; fail "ft-merge did not record its pid in .merged.ft-lock"; }
expect_exit 1 ft-merge --model tiny --adapter lora -o merged
expect_in "ft-merge: merged is in use by another run (pid $pid, lock $(pwd -P)/.merged.ft-lock)" err
expect_exit 1 ft-merge --model tiny --adapter lora -o ./merged/   # another spelling, the same lock
expect_in "(pid $pid, lock $(pwd -P)/.merged.ft-lock)" err
[ ! -e merged ] || fail "the refused merge wrote merged/"
kill -KILL $pid; wait $pid 2>/dev/null || true
ft-merge --model tiny --adapter lora -o merged -q || fail "a dead holder's lock file blocked the merge"
[ -f merged/model.safetensors ] || fail "no merged/model.safetensors"
[ ! -e .merged.ft-lock ] || fail "the lock file was left after a clean exit"
