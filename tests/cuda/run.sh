#!/usr/bin/env bash
# tests/cuda/run.sh — `make test-cuda`: the CUDA-vs-CPU op tests (build/cuda/test_*), on a
# machine with an NVIDIA GPU. Each test prints its checks; exit 77 from a test (no device
# visible) makes this script say why and exit 77 too. Ends with "N passed, N failed".
#   FT_CUDA_TESTS: directory of the test binaries (default build/cuda)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${FT_CUDA_TESTS:-$root/build/cuda}
pass=0 fail=0 skip=0
shopt -s nullglob
tests=("$dir"/test_*)
if [ ${#tests[@]} -eq 0 ]; then
  echo "tests/cuda: no test binaries in $dir (CUDA build needs nvcc and cuBLAS: see make config)" >&2
  exit 77
fi
for t in "$dir"/test_*; do
  [ -x "$t" ] || continue
  echo "== $(basename "$t")"
  (cd "$root" && "$t"); rc=$?
  case $rc in
    0) pass=$((pass + 1));;
    77) skip=$((skip + 1));;
    *) fail=$((fail + 1)); echo "FAIL $(basename "$t") (exit $rc)";;
  esac
done
if [ $pass -eq 0 ] && [ $fail -eq 0 ]; then echo "$skip skipped: no CUDA device visible"; exit 77; fi
echo "$pass passed, $fail failed${skip:+, $skip skipped}"
[ $fail -eq 0 ]
