#!/usr/bin/env bash
# tests/bench/dist/run.sh — data-parallel training on this machine (docs/distributed.md):
#   1. ft-train tokens/s with 1 process and with `mpirun -np 2` on the same global batch
#      (LoRA and full fine-tuning of a generated 4-layer model; threads split between the
#      ranks so both use the same cores);
#   2. the all-reduce of lib/train/dist.c: time and bus bandwidth for the bucket sizes used,
#      over a buffer of the full model's gradient size and of the LoRA adapter's.
#   tests/bench/dist/run.sh [--steps N] [--threads N]
# Exits 77 when mpirun or an MPI build of ft-train is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
steps=6 threads=${OMP_NUM_THREADS:-$(nproc)}
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift;; --threads) threads=$2; shift;;
    *) echo "usage: $0 [--steps N] [--threads N]" >&2; exit 2;;
  esac; shift
done
command -v mpirun >/dev/null && command -v mpicc >/dev/null || { echo "no mpirun/mpicc (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
py=$root/.venv/bin/python
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mpicc -O2 -std=c11 -D_GNU_SOURCE -DFT_HAVE_MPI -I"$root/lib" -I"$root/kernels" -o "$work/allreduce" \
  "$root/tests/bench/dist/bench_allreduce.c" "$root/lib/train/dist.c" "$root/lib/core/err.c"
"$py" "$root/tests/tools/make_tiny_model.py" --hf "$work/m" --hidden 512 --intermediate 1536 --layers 4 \
  --heads 8 --kv-heads 4 --vocab 8000 --seed 1 >/dev/null
"$py" - "$work/d.tok" <<'PY'
import random, struct, sys
r = random.Random(0)
with open(sys.argv[1], "wb") as f:
    f.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 0, 8000, 0, 0, 0))
    for _ in range(400):
        n = r.randint(60, 120)
        f.write(struct.pack("<II", n, 0) + struct.pack("<%dI" % n, *[r.randint(3, 7999) for _ in range(n)]))
PY
half=$(( threads > 1 ? threads / 2 : 1 ))
tps() {   # mean tokens_per_s of a log, first step left out (warm-up)
  "$py" -c "import json,sys; v=[json.loads(l)['tokens_per_s'] for l in open(sys.argv[1]) if 'loss' in l][1:]; print('%.0f' % (sum(v)/len(v)))" "$1"
}
for method in lora full; do
  args=(--model "$work/m" --data "$work/d.tok" --method $method --seq-len 256 --batch 4 --grad-accum 2
        --max-steps "$steps" --lr 1e-4 -q)
  OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$root/bin/ft-train" "${args[@]}" -o "$work/o1-$method" --log "$work/l1.jsonl"
  mpirun --oversubscribe -np 2 -x OMP_NUM_THREADS=$half -x OPENBLAS_NUM_THREADS=$half --bind-to none \
    "$root/bin/ft-train" "${args[@]}" -o "$work/o2-$method" --log "$work/l2.jsonl"
  echo "$method: 1 process x $threads threads $(tps "$work/l1.jsonl") tokens/s;  2 ranks x $half threads $(tps "$work/l2.jsonl") tokens/s"
done
full_n=$("$py" -c "
from safetensors.numpy import load_file; import sys
print(sum(v.size for v in load_file(sys.argv[1]).values()))" "$work/o1-full/model.safetensors")
lora_n=$("$py" -c "
from safetensors.numpy import load_file; import sys
print(sum(v.size for v in load_file(sys.argv[1]).values()))" "$work/o1-lora/adapter_model.safetensors")
for n in "$full_n" "$lora_n"; do
  mpirun --oversubscribe -np 2 --bind-to none "$work/allreduce" "$n" 5 16384 262144 1048576 4194304 16777216
done
