#!/usr/bin/env bash
# tests/bench/forward/run.sh — forward-pass throughput (prompt processing, B x T) in tokens/s
# and GFLOP/s, as a ratio of the sgemm peak measured in the same run, plus KV-cache decoding.
# Model: SmolLM2-135M-Instruct when cached (make model), else a tiny random model.
# Usage: tests/bench/forward/run.sh [MODEL] [B T]...
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
make -s build/libft.a >/dev/null
out=build/bench/bench_forward
mkdir -p build/bench
cc -std=c11 -D_GNU_SOURCE -O2 -fopenmp -Ilib -Ikernels tests/bench/forward/bench_forward.c build/libft.a -lzstd -ljansson -lpcre2-8 -lutf8proc -lm -lpthread -fopenmp -lopenblas -o $out
model=${1:-$(scripts/model.sh path 2>/dev/null || true)}
if [ -z "$model" ] || [ ! -e "$model" ]; then
  model=build/bench/tiny
  [ -d "$model" ] || .venv/bin/python tests/tools/make_tiny_model.py --hf "$model" --hidden 256 --intermediate 688 --layers 4 --heads 8 --kv-heads 4 --vocab 4096
fi
shift || true
echo "threads: ${OMP_NUM_THREADS:-$(nproc)} (OMP_NUM_THREADS), load: $(cut -d' ' -f1-3 /proc/loadavg)"
$out "$model" "$@"
