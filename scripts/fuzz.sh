#!/usr/bin/env bash
# fuzz.sh — build libFuzzer targets tests/fuzz/fuzz_*.c with clang and run each for a bounded
# time, seeded from tests/fuzz/seeds/NAME/ when present (the corpus grows in
# tests/fuzz/corpus-fuzz_NAME/). The library is compiled once per call (ASan+UBSan, fuzzer
# instrumentation) and each target linked against it.
# Usage: scripts/fuzz.sh [SECONDS=30] [NAME...]   NAME: jinja, adapter_config, ... (or
# fuzz_jinja); none = every target. Prints each target's run count; exit 1 if one failed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
[ $# -gt 0 ] && shift
case "$secs" in *[!0-9]*|'') echo "usage: scripts/fuzz.sh [SECONDS] [NAME...]" >&2; exit 2 ;; esac
targets=()
if [ $# -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do [ -f "$f" ] && targets+=("$(basename "$f" .c)"); done
else
  for n in "$@"; do
    n="fuzz_${n#fuzz_}"
    [ -f "tests/fuzz/$n.c" ] || { echo "fuzz.sh: no target tests/fuzz/$n.c (have: $(ls tests/fuzz/fuzz_*.c | xargs -n1 basename | sed 's/^fuzz_//; s/\.c$//' | tr '\n' ' '))" >&2; exit 2; }
    targets+=("$n")
  done
fi
out=build/fuzz; obj=$out/obj; mkdir -p "$obj"
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=address,undefined -Ilib -Ikernels -fopenmp -Wno-pass-failed -Wno-unknown-attributes"
libs="-lzstd -ljansson -lpcre2-8 -lutf8proc -lyaml -lopenblas -lm -lpthread"
# the library (2 jobs), instrumented for the fuzzer; a file is recompiled when it or a header
# is newer than its object
srcs=$(ls lib/*/*.c kernels/cpu/*.c kernels/guard/*.c 2>/dev/null)
newest_h=$(ls -t lib/*/*.h kernels/*.h kernels/cpu/*.h kernels/guard/*.h 2>/dev/null | head -1)
printf '%s\n' $srcs | xargs -P 2 -I{} sh -c 'o="$1/$(echo "$2" | tr / _).o"
  if [ ! -e "$o" ] || [ "$2" -nt "$o" ] || [ "$4" -nt "$o" ]; then clang $3 -fsanitize=fuzzer-no-link -c "$2" -o "$o"; fi' \
  _ "$obj" {} "$flags" "$newest_h"
objs=$(for s in $srcs; do echo "$obj/$(echo "$s" | tr / _).o"; done)
status=0
for name in "${targets[@]}"; do
  echo "== $name (${secs}s)"
  clang $flags -fsanitize=fuzzer "tests/fuzz/$name.c" $objs $libs -o "$out/$name"
  corpus="tests/fuzz/corpus-$name"; mkdir -p "$corpus"
  seeds="tests/fuzz/seeds/${name#fuzz_}"
  "$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 "$corpus" $( [ -d "$seeds" ] && echo "$seeds") \
    >"$out/$name.log" 2>&1 || { status=1; echo "FAIL $name: see $out/$name.log"; tail -30 "$out/$name.log"; }
  grep -aE '^#[0-9]+.*DONE|Done [0-9]+ runs' "$out/$name.log" | tail -1 || true
done
exit $status
