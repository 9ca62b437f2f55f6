#!/usr/bin/env bash
# tests/cuda/gpu_check.sh — the one script to run on a lent GPU machine (a few minutes):
# the op-by-op and whole-model checks (tests/cuda/run.sh), then the 1B training benchmark.
# Build here first (`make`, with nvcc), carry build/cuda/ along; the GPU machine needs the
# runtime libraries (libzstd, jansson, pcre2, utf8proc, openblas, gomp; CUDA 13 cudart/cuBLAS
# under /usr/local/cuda/lib64 or on LD_LIBRARY_PATH) and a driver for CUDA 13.
#   tests/cuda/gpu_check.sh [bench options, e.g. --steps 2]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
FT_CUDA_TESTS=$root/build/cuda timeout 300 "$root/tests/cuda/run.sh"; rc=$?
echo "== tests/cuda: exit $rc"
[ $# -gt 0 ] || set -- --steps 2
timeout 240 "$root/tests/bench/train-cuda/run.sh" "$@"; brc=$?
echo "== bench: exit $brc"
[ $rc -eq 0 ] && [ $brc -eq 0 ]
