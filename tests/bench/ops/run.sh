#!/usr/bin/env bash
# run.sh — CPU op-table benchmark: builds bench_ops against build/libft.a and prints each op's
# time and achieved GFLOP/s against the cblas_sgemm peak measured in the same run.
# Usage: tests/bench/ops/run.sh [T] [B]   (defaults: one row of 512 tokens, SmolLM2-135M shapes)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
make -s build/libft.a >/dev/null
flags="-std=gnu11 -O2 -fopenmp -Ilib -Ikernels -Itests/bench/common"
libs="-lopenblas"
if echo 'int main(void){return 0;}' | cc -x c - -lopenblas -o /dev/null 2>/dev/null; then flags+=" -DFT_HAVE_BLAS"; else libs=""; fi
mkdir -p build/bench
cc $flags tests/bench/ops/bench_ops.c tests/bench/common/sgemm_peak.c build/libft.a \
   $libs -lzstd -ljansson -lpcre2-8 -lutf8proc -lm -o build/bench/bench_ops
echo "threads: ${OMP_NUM_THREADS:-$(nproc)}"
build/bench/bench_ops "$@"
