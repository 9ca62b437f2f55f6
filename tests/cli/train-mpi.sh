#!/usr/bin/env bash
# train-mpi.sh — data-parallel ft-train under `mpirun -np N --oversubscribe` (issue #25,
# docs/distributed.md) against one process with the same global batch (the same flags):
#   - LoRA, 2 micro-batches of 4 rows (2 ranks: one micro-batch each; 3 ranks: uneven
#     shares of 2, 3 and 3 rows, rank 1's crossing the micro-batch boundary) and full
#     fine-tuning with 4 one-row micro-batches on 2 ranks: every step's loss and grad norm, every eval loss, the learning rates
#     and epochs, and the final adapter / model weights agree within the bound below;
#   - --zero 1 (ZeRO-1: the gradients reduce-scattered, each rank updates its shard with its
#     shard of the AdamW state, then the parameters are all-gathered) agrees with one process
#     within the same bound (LoRA on 2 and 3 ranks, full on 2), with each rank's AdamW state its
#     shard (the sizes the run reports add up to one process's, none more than half of it + 16
#     floats on 2 ranks), and a --zero 1 checkpoint (the shards gathered) resumes on 1 rank and
#     on 2 ranks with --zero 1, the latter byte for byte as the uninterrupted run;
#   - --device guard over 3 ranks (gradients all-reduced through host staging) gives the CPU
#     run's files byte for byte; --zero 1 on it is refused;
#   - rank 1 given other data (same shapes) changes the losses: rank 1's rows are trained;
#   - a 2-rank checkpoint resumed on 1 rank and on 2 ranks continues the same loss curve;
#   - SIGTERM to one rank stops every rank at the same step with a checkpoint (exit 0);
#   - SIGKILL of one rank ends the job non-zero within 60 s, and the last complete
#     checkpoint resumes;
#   - ft-eval generate under mpirun -np 3 (greedy, and sampled with --seed: record i's seed is
#     S + i on whichever rank) writes one process's file byte for byte, in record order;
#   - ft-eval ppl and choice under mpirun -np 3 (record k scored by rank k mod 3, the report
#     merged on rank 0) give one process's report: counts, accuracies and predictions equal,
#     losses and log-likelihoods within 1e-6 relative (other rows packed together: only the
#     order of float sums changes);
#   - pipelines/train-mpi.sh runs on a host list and resumes when relaunched.
# Tolerance: |a - b| <= 1e-5 |a| for losses and grad norms, max |w1 - w2| <= 1e-5 for the
# weights. The ranks add the same per-token float32 terms as one process, grouped into N
# partial sums: each regrouped sum of m terms moves by at most ~m * 2^-24 of its magnitude,
# ~1e-6 relative for this run's sums of up to a few hundred terms (measured: the losses agree
# to all 6 printed digits and the weights within 1.2e-7 after 6 AdamW steps).
source "$FT_ROOT/tests/lib.sh"
need_py
command -v mpirun >/dev/null || skip "mpirun not found (Debian: openmpi-bin libopenmpi-dev; scripts/deps.sh installs them)"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
[ -n "${FT_SAN:-}" ] && export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"   # OpenMPI's own allocations
FT_TRAIN=$(command -v ft-train)
mpi() { local np=$1; shift; timeout 120 mpirun --oversubscribe -np "$np" "$FT_TRAIN" "$@"; }

"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf m --hidden 32 --intermediate 64 --layers 2 --vocab 300 --seed 3
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" d.tok 1 80
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" other.tok 5 80
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" v.tok 2 16
common=(--model m --data d.tok --val v.tok --seq-len 32 --max-steps 6 --eval-every 2 --save-every 3
        --save-total-limit 0 --warmup 1 --seed 7 -q)
lora=(--method lora --lora-targets all-linear --batch 4 --grad-accum 2 --lr 2e-2)
full=(--method full --batch 1 --grad-accum 4 --lr 2e-3 --weight-decay 0.1)

# close A.jsonl B.jsonl [FIRST_STEP]: the same lines (from FIRST_STEP on), numbers within the bound
close() {
  "$FT_PY" - "$@" <<'PY' || fail "$2 differs from $1"
import json, sys
first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
a = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["step"] >= first]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) and len(a) > 3, (len(a), len(b))
for x, y in zip(a, b):
    assert x.keys() == y.keys(), (x, y)
    for k in x:
        if k in ("tokens_per_s", "elapsed_s"): continue
        if k in ("loss", "eval_loss", "grad_norm"):
            assert abs(x[k] - y[k]) <= 1e-5 * abs(x[k]), (k, x, y)
        else:
            assert x[k] == y[k], (k, x, y)
PY
}
# weights A B FILE: every tensor of A/FILE and B/FILE within 1e-5 (and names/shapes equal)
weights() {
  "$FT_PY" - "$1/$3" "$2/$3" <<'PY' || fail "$2/$3 differs from $1/$3"
import sys
import numpy as np
from safetensors.numpy import load_file
a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
assert a.keys() == b.keys()
d = max(float(np.abs(a[k] - b[k]).max()) for k in a)
assert all(a[k].shape == b[k].shape for k in a)
assert d <= 1e-5, d
PY
}

ft-train "${common[@]}" "${lora[@]}" -o l1 --log l1.jsonl
mpi 2 "${common[@]}" "${lora[@]}" -o l2 --log l2.jsonl 2>l2.err || {
  grep -q "build has no MPI" l2.err && skip "ft-train was built without MPI (no mpicc when it was built)"
  cat l2.err >&2; fail "mpirun -np 2 ft-train failed"
}
[ -e l2/adapter_model.safetensors ] && [ -e l2/train_config.json ] || fail "rank 0 wrote no output"
close l1.jsonl l2.jsonl
weights l1 l2 adapter_model.safetensors

mpi 3 "${common[@]}" "${lora[@]}" -o l3 --log l3.jsonl || fail "mpirun -np 3 ft-train failed"
close l1.jsonl l3.jsonl
weights l1 l3 adapter_model.safetensors

ft-train "${common[@]}" "${full[@]}" -o f1 --log f1.jsonl
mpi 2 "${common[@]}" "${full[@]}" -o f2 --log f2.jsonl || fail "mpirun -np 2 ft-train --method full failed"
close f1.jsonl f2.jsonl
weights f1 f2 model.safetensors

# ZeRO-1: one process's run; the optimizer state split
same_files() {   # same_files A B: outputs and checkpoints byte for byte
  local f n=0
  for f in "$1"/*.safetensors "$1"/checkpoints/*/state.bin; do
    cmp "$f" "$2/${f#"$1"/}" || fail "$2/${f#"$1"/} differs from $f"; n=$((n + 1))
  done
  [ $n -ge 3 ] || fail "only $n files compared in $1"
}
mpi 3 "${common[@]}" "${lora[@]}" --zero 1 -o z3 --log z3.jsonl || fail "mpirun -np 3 ft-train --zero 1 failed"
close l1.jsonl z3.jsonl
weights l1 z3 adapter_model.safetensors
mpi 2 "${common[@]}" "${full[@]}" --zero 1 -v -o zf2 --log zf2.jsonl 2>zf2.err || { cat zf2.err >&2; fail "--zero 1 --method full failed"; }
close f1.jsonl zf2.jsonl
weights f1 zf2 model.safetensors
mpi 2 "${common[@]}" "${lora[@]}" --zero 1 -v -o z2 --log z2.jsonl 2>z2.err || { cat z2.err >&2; fail "--zero 1 lora failed"; }
close l1.jsonl z2.jsonl
weights l1 z2 adapter_model.safetensors
for e in z2.err zf2.err; do
  line=$(grep "ZeRO-1: AdamW state per rank" $e) || { cat $e >&2; fail "no ZeRO-1 memory line in $e"; }
  "$FT_PY" - "$line" <<'PY' || fail "ZeRO-1 state not split: $line"
import re, sys
per, one = sys.argv[1].split("(bytes): ")[1].split("; one process: ")
per = [int(x) for x in per.split(", ")]
one = int(one)
assert len(per) == 2 and sum(per) == one and max(per) <= one / 2 + 2 * 4 * 16, (per, one)
PY
done
for np in 1 2; do
  mkdir zr$np && cp -r z2/checkpoints zr$np/ && rm -r zr$np/checkpoints/step-00000006
  if [ $np = 1 ]; then ft-train "${common[@]}" "${lora[@]}" -o zr$np --log zr$np.jsonl --resume
  else mpi 2 "${common[@]}" "${lora[@]}" --zero 1 -o zr$np --log zr$np.jsonl --resume; fi || fail "resume of --zero 1 on $np rank(s) failed"
  close l1.jsonl zr$np.jsonl 4
  weights l1 zr$np adapter_model.safetensors
done
cmp z2/adapter_model.safetensors zr2/adapter_model.safetensors || fail "--zero 1 resumed on 2 ranks differs from the uninterrupted run"

# on a device (the guard backend: buffers the host cannot touch) the collectives go through host
# staging: the CPU's files byte for byte; --zero 1 there is refused, naming the reason
mpi 3 "${common[@]}" "${lora[@]}" --device guard -o lg3 --log lg3.jsonl || fail "mpirun -np 3 ft-train --device guard failed"
same_files l3 lg3
if mpi 2 "${common[@]}" "${lora[@]}" --device guard --zero 1 -o gz 2>gz.err; then fail "--zero 1 --device guard ran"; fi
expect_in "--zero 1: the optimizer state must be in host memory" gz.err

# rank 1 reads its own rows: other data on rank 1 alone gives other losses
timeout 120 mpirun --oversubscribe -np 1 "$FT_TRAIN" "${common[@]}" "${lora[@]}" -o x --log x.jsonl : \
  -np 1 "$FT_TRAIN" "${common[@]}" "${lora[@]}" --data other.tok -o x --log x.jsonl || fail "the MPMD run failed"
if "$FT_PY" -c "
import json, sys
a = [json.loads(l).get('loss') for l in open('l1.jsonl')]; b = [json.loads(l).get('loss') for l in open('x.jsonl')]
sys.exit(0 if a == b else 1)"; then fail "rank 1's data did not change the losses: its rows were not trained"; fi

# resume a 2-rank checkpoint (step 3) on 1 rank and on 2 ranks
for np in 1 2; do
  mkdir r$np && cp -r l2/checkpoints r$np/ && rm -r r$np/checkpoints/step-00000006
  if [ $np = 1 ]; then ft-train "${common[@]}" "${lora[@]}" -o r$np --log r$np.jsonl --resume
  else mpi 2 "${common[@]}" "${lora[@]}" -o r$np --log r$np.jsonl --resume; fi || fail "resume on $np rank(s) failed"
  close l1.jsonl r$np.jsonl 4
  weights l1 r$np adapter_model.safetensors
done

# a signal to one rank stops every rank after the same step, with a checkpoint
long=(--model m --data d.tok --seq-len 32 --batch 4 --max-steps 100000 --method lora --lr 1e-3 --seed 7)
mpirun --oversubscribe -np 2 "$FT_TRAIN" "${long[@]}" --save-every 1000 -o s 2>s.err &
job=$!
sleep 2
ranks=($(pgrep -P $job))
[ ${#ranks[@]} = 2 ] || { kill $job; fail "expected 2 ranks under mpirun $job, found ${ranks[*]}"; }
kill -TERM "${ranks[1]}"
timeout 60 tail --pid=$job -f /dev/null || { kill -KILL $job; fail "SIGTERM to rank 1: the job did not end within 60 s"; }
wait $job || { cat s.err >&2; fail "SIGTERM to rank 1: exit $? (expected 0: stopped with a checkpoint)"; }
expect_in "stopped by signal after step" s.err
step=$(sed -n 's/.*stopped by signal after step \([0-9]*\).*/\1/p' s.err)
[ -d "s/checkpoints/$(printf 'step-%08d' "$step")" ] || fail "no checkpoint of step $step"

# SIGKILL of one rank: the job exits non-zero within a bounded time; the last checkpoint resumes
mpirun --oversubscribe -np 2 "$FT_TRAIN" "${long[@]}" --save-every 5 -o k -q 2>k.err &
job=$!
sleep 2
ranks=($(pgrep -P $job))
[ ${#ranks[@]} = 2 ] || { kill $job; fail "expected 2 ranks under mpirun $job, found ${ranks[*]}"; }
kill -KILL "${ranks[1]}"
t0=$SECONDS
timeout 60 tail --pid=$job -f /dev/null || { kill -KILL $job; fail "SIGKILL of rank 1: the job still runs after 60 s"; }
rc=0; wait $job || rc=$?
[ $rc != 0 ] || fail "SIGKILL of rank 1: the job exited 0"
echo "SIGKILL of rank 1: job exit $rc after $((SECONDS - t0)) s" >&2
last=$(ls k/checkpoints | grep '^step-' | tail -1)
[ -n "$last" ] || fail "no checkpoint left"
n=$((10#${last#step-}))
ft-train "${long[@]}" --max-steps $((n + 2)) -o k --resume 2>kr.err || { cat kr.err >&2; fail "resume after SIGKILL failed"; }
expect_in "resuming from k/checkpoints/$last (step $n)" kr.err

# pipelines/train-mpi.sh: the run on a host list (here localhost:2), then relaunched for more
# steps it resumes from its last checkpoint
for steps in 4 6; do
  STEPS=$steps SAVE=2 MPIRUN="mpirun --oversubscribe" FT="$(dirname "$FT_TRAIN")/" \
    "$FT_ROOT/pipelines/train-mpi.sh" localhost:2 m d.tok v.tok pm --seq-len 32 --lr 1e-2 >pm$steps.out 2>pm$steps.err \
    || { cat pm$steps.err >&2; fail "pipelines/train-mpi.sh (STEPS=$steps) failed"; }
  grep -q "\"step\":$steps,.*eval_loss" pm$steps.out || { cat pm$steps.out >&2; fail "no final eval_loss line"; }
done
expect_in "resuming from pm/checkpoints/step-00000004" pm6.err

# ft-eval ppl and choice split over 3 ranks: one process's report
ev() { local np=$1; shift; timeout 120 mpirun --oversubscribe -np "$np" "$(dirname "$FT_TRAIN")/ft-eval" "$@"; }
ft-eval --model m ppl --max-len 64 --per-record pr1.jsonl -o ppl1.json d.tok
ev 3 --model m ppl --max-len 64 --per-record pr3.jsonl -o ppl3.json d.tok || fail "ft-eval ppl under mpirun failed"
printf '%s\n' '{"context":"the weather","choices":[" is nice"," the end"],"label":0}' \
  '{"context":"abc","choices":["d","xyz","the"],"label":2}' '{"context":"a b","choices":[" c"," d"," e"," f"],"label":1}' \
  '{"context":"one","choices":[" two"," three"],"label":1,"id":"q4"}' '{"context":"x","choices":["y","z"],"label":0}' >c.jsonl
ft-eval --model m choice --bootstrap 50 --per-record cr1.jsonl -o ch1.json c.jsonl
ev 3 --model m choice --bootstrap 50 --per-record cr3.jsonl -o ch3.json c.jsonl || fail "ft-eval choice under mpirun failed"
"$FT_PY" - <<'PY' || fail "ft-eval under mpirun differs from one process"
import json
close = lambda a, b: abs(a - b) <= 1e-6 * abs(a)
a, b = json.load(open("ppl1.json")), json.load(open("ppl3.json"))
assert (a["tokens"], a["records"]) == (b["tokens"], b["records"]) and close(a["loss"], b["loss"]), (a, b)
ra, rb = [json.loads(l) for l in open("pr1.jsonl")], [json.loads(l) for l in open("pr3.jsonl")]
assert len(ra) == len(rb) == a["records"]
for x, y in zip(ra, rb):
    assert x["index"] == y["index"] and x["tokens"] == y["tokens"] and close(x["loss"], y["loss"]), (x, y)
a, b = json.load(open("ch1.json")), json.load(open("ch3.json"))
assert a.pop("per_record") != b.pop("per_record") and a == b, (a, b)
ra, rb = [json.loads(l) for l in open("cr1.jsonl")], [json.loads(l) for l in open("cr3.jsonl")]
assert len(ra) == len(rb) == 5
for x, y in zip(ra, rb):
    lx, ly = x.pop("ll"), y.pop("ll")
    assert x == y and len(lx) == len(ly) and all(close(p, q) for p, q in zip(lx, ly)), (x, y)
PY

# ft-eval generate split over 3 ranks: one process's lines, in order
printf '%s\n' '{"id":1,"prompt":"the weather in"}' '{"id":2,"prompt":"a b c d e f"}' '{"id":3,"prompt":"x y"}' \
  '{"id":4,"prompt":"one two three"}' '{"id":5,"prompt":"z"}' >p.jsonl
for mode in "" "--temperature 1 --top-k 20 --seed 4"; do
  # shellcheck disable=SC2086
  ft-eval --model m generate $mode --max-new-tokens 8 -o g1.jsonl p.jsonl
  # shellcheck disable=SC2086
  ev 3 --model m generate $mode --max-new-tokens 8 -o g3.jsonl p.jsonl || fail "ft-eval generate under mpirun failed"
  [ "$(wc -l <g1.jsonl)" = 5 ] || fail "generate wrote $(wc -l <g1.jsonl) lines"
  cmp g1.jsonl g3.jsonl || fail "ft-eval generate $mode under mpirun differs from one process"
done
