#!/usr/bin/env bash
# train-mpi.sh — one long data-parallel ft-train run launched with mpirun on a host list
# (docs/distributed.md), checkpointing every SAVE steps and relaunched from its newest
# checkpoint when the job fails (a node that dies ends the whole job: mpirun exits non-zero,
# the last complete checkpoint stays), at most RETRIES times.
#
# Usage: pipelines/train-mpi.sh HOSTS MODEL TRAIN.tok VAL.tok OUT [extra ft-train flags...]
# HOSTS: mpirun's host list, "node1:4,node2:4" (slots = ranks per host; "localhost:2" here).
# Variables: NP (ranks, default the sum of the slots), STEPS (default 1000), SAVE (default 50),
# RETRIES (default 2), MPIRUN (default "mpirun"; add e.g. "--oversubscribe" or
# "--allow-run-as-root" to it), FT (dir of the binaries, the same path on every host).
# The model and the data must be at the same paths on every host; OUT is rank 0's.
set -euo pipefail
[ $# -ge 5 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
hosts=$1 model=$2 train=$3 val=$4 out=$5; shift 5
FT=${FT:-$(cd "$(dirname "$0")/.." && pwd)/bin/}
STEPS=${STEPS:-1000} SAVE=${SAVE:-50} RETRIES=${RETRIES:-2} MPIRUN=${MPIRUN:-mpirun}
NP=${NP:-$(tr ',' '\n' <<<"$hosts" | awk -F: '{ n += ($2 == "" ? 1 : $2) } END { print n }')}
for try in $(seq 0 "$RETRIES"); do
  [ "$try" = 0 ] || echo "train-mpi: the job failed; relaunching from the newest checkpoint in $out (retry $try of $RETRIES)" >&2
  # shellcheck disable=SC2086  # MPIRUN may carry flags
  if $MPIRUN -np "$NP" --host "$hosts" "${FT}ft-train" --model "$model" --data "$train" --val "$val" \
       --max-steps "$STEPS" --save-every "$SAVE" --eval-every "$SAVE" --log "$out.log.jsonl" --resume "$@" -o "$out"; then
    jq -c 'select(has("eval_loss"))' "$out.log.jsonl" | tail -1
    exit 0
  fi
done
echo "train-mpi: the job failed $((RETRIES + 1)) times; the last checkpoint is in $out/checkpoints" >&2
exit 1
