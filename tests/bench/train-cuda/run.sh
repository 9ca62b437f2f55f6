#!/usr/bin/env bash
# tests/bench/train-cuda/run.sh — CUDA training throughput (tokens/s, MFU) of full and LoRA
# training of a 1B-parameter Llama-shaped model at seq 2048 (random weights), through the
# CUDA op table. Needs a CUDA build (make with nvcc + cuBLAS) and a GPU; exits 77 otherwise.
#   tests/bench/train-cuda/run.sh [--small] [--layers L] [--seq T] [--batch B] [--steps S]
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cuda=$(dirname "$(dirname "$(command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)")")
[ -f "$root/build/obj/kernels/cuda/cuda_ops.o" ] || { echo "no CUDA build (run make on a machine with nvcc)" >&2; exit 77; }
bench=$root/build/cuda/bench_train_cuda   # built by make with the CUDA objects
if [ -x "$bench" ]; then exec "$bench" "$@"; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cc -std=c11 -D_GNU_SOURCE -O2 -fopenmp -I"$root/lib" -I"$root/kernels" \
  "$root/tests/bench/train-cuda/bench_train_cuda.c" "$root/build/libft.a" \
  -lopenblas -lzstd -ljansson -lpcre2-8 -lutf8proc -lm -lpthread -L"$cuda/lib64" -Wl,-rpath,"$cuda/lib64" \
  -lcublas -lcudart -lstdc++ -o "$work/bench"
"$work/bench" "$@"
