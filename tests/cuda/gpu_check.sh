#!/usr/bin/env bash
# tests/cuda/gpu_check.sh — the one script to run on a lent GPU machine (a few minutes):
# the op-by-op and whole-model checks (tests/cuda/run.sh), then the 1B training benchmark.
# Build here first (`make`, with nvcc) and run tests/cuda/collect_libs.sh; carry build/cuda
# and .cudalibs.tar.gz (OpenBLAS etc., ~13 MB). The GPU machine needs CUDA 13's cudart/cuBLAS
# (/usr/local/cuda/lib64, or the lib64 beside nvcc) and a driver for CUDA 13.
#   tests/cuda/gpu_check.sh [bench options, e.g. --steps 2]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -f "$root/.cudalibs.tar.gz" ]; then   # libraries packed by tests/cuda/collect_libs.sh
  mkdir -p /tmp/ft-cudalibs && tar -xzf "$root/.cudalibs.tar.gz" -C /tmp/ft-cudalibs
  export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/tmp/ft-cudalibs
fi
if command -v nvcc >/dev/null; then   # the toolkit's cudart/cuBLAS where it is not /usr/local/cuda
  export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$(dirname "$(dirname "$(command -v nvcc)")")/lib64
fi
ldd "$root/build/cuda/test_cuda_ops" | grep 'not found' && echo "missing libraries: run tests/cuda/collect_libs.sh and carry .cudalibs.tar.gz"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
FT_CUDA_TESTS=$root/build/cuda timeout 300 "$root/tests/cuda/run.sh"; rc=$?
echo "== tests/cuda: exit $rc"
[ $# -gt 0 ] || set -- --steps 2
timeout 240 "$root/tests/bench/train-cuda/run.sh" "$@"; brc=$?
echo "== bench: exit $brc"
[ $rc -eq 0 ] && [ $brc -eq 0 ]
