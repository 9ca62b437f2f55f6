#!/usr/bin/env bash
# fuzz.sh — build each libFuzzer target tests/fuzz/fuzz_*.c with clang and run it for a
# bounded time (default 30 s each), seeded from tests/fuzz/seeds/NAME/ when present.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
out=build/fuzz; mkdir -p "$out"
srcs=$(ls lib/*.c kernels/cpu/*.c 2>/dev/null)
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Ilib -Ikernels -fopenmp"
libs="-lzstd -ljansson -lpcre2-8 -lutf8proc -lopenblas -lm -lpthread"
status=0
for f in tests/fuzz/fuzz_*.c; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .c)
  echo "== $name (${secs}s)"
  clang $flags "$f" $srcs $libs -o "$out/$name"
  corpus="tests/fuzz/corpus-$name"; mkdir -p "$corpus"
  seeds="tests/fuzz/seeds/${name#fuzz_}"
  "$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 "$corpus" $( [ -d "$seeds" ] && echo "$seeds") \
    >"$out/$name.log" 2>&1 || { status=1; echo "FAIL $name: see $out/$name.log"; tail -30 "$out/$name.log"; }
  grep -E '^#[0-9]+.*DONE|Done [0-9]+ runs' "$out/$name.log" | tail -1 || true
done
exit $status
