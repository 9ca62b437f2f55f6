#!/usr/bin/env bash
# run.sh — runs every test that needs neither GPU nor network and ends with
# "N passed, N failed[, N skipped]".
#   unit:   $FT_UNIT/test_* (cmocka binaries; each cmocka test counts once)
#   cli:    tests/cli/*.sh and tests/parity/*.sh — one case per script, zstd cli-tests style:
#           the script runs in a fresh temp dir with bin/ on PATH; its stdout, stderr and exit
#           code are compared with CASE.sh.stdout / .stdout.glob / .stderr / .stderr.glob / .exit
#           when those files exist (exit defaults to 0). Exit 77 means skipped (reason on stderr).
# Usage: tests/run.sh [PATTERN]   (only cases whose path contains PATTERN)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
export FT_ROOT="$root"
export FT_BIN="${FT_BIN:-$root/bin}"
export FT_UNIT="${FT_UNIT:-$root/build/tests}"
export FT_SHARED="${FT_SHARED:-$(cd "$root/.." && pwd)/shared}"
export FT_TESTDATA="$FT_SHARED/testdata"
export FT_PY="$root/.venv/bin/python"
export PATH="$FT_BIN:$PATH"
# ft-train's default precision is the CPU's fastest (bf16 with AVX512_BF16): the suite pins f32,
# so its parity tolerances stay those of f32; the bf16 cases pass --precision bf16 themselves.
export FT_PRECISION="${FT_PRECISION:-f32}"
pattern="${1:-}"
pass=0 fail=0 skip=0
failed=()
t0=$SECONDS

for t in "$FT_UNIT"/test_*; do
  [ -x "$t" ] || continue
  case "$t" in *.d|*.o) continue;; esac
  [ -n "$pattern" ] && [[ "$t" != *"$pattern"* ]] && continue
  out=$(cd "$root" && CMOCKA_MESSAGE_OUTPUT=TAP timeout 600 "$t" 2>&1); rc=$?
  p=$(grep -c '^ok ' <<<"$out")
  f=$(grep -c '^not ok ' <<<"$out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or sanitizer report
  pass=$((pass + p)); fail=$((fail + f))
  if [ "$f" -gt 0 ]; then
    failed+=("$(basename "$t")"); echo "FAIL unit $(basename "$t")"; echo "$out" | tail -40 | sed 's/^/    /'
  else
    echo "ok   unit $(basename "$t") ($p)"
  fi
done

match_glob() {  # match_glob FILE PATTERNFILE: each line of PATTERNFILE is a bash glob for the same line
  local -a a b
  mapfile -t a <"$1"; mapfile -t b <"$2"
  [ ${#a[@]} -eq ${#b[@]} ] || return 1
  for i in "${!b[@]}"; do [[ "${a[$i]}" == ${b[$i]} ]] || return 1; done
}

for c in "$root"/tests/cli/*.sh "$root"/tests/parity/*.sh; do
  [ -f "$c" ] || continue
  rel=${c#"$root"/}
  [ -n "$pattern" ] && [[ "$rel" != *"$pattern"* ]] && continue
  dir=$(mktemp -d)
  (cd "$dir" && timeout 900 bash "$c" >"$dir/.stdout" 2>"$dir/.stderr" </dev/null); rc=$?
  why=""
  if [ $rc -eq 77 ]; then
    skip=$((skip + 1)); echo "skip $rel: $(tail -1 "$dir/.stderr")"; rm -rf "$dir"; continue
  fi
  want=0; [ -f "$c.exit" ] && want=$(cat "$c.exit")
  [ "$rc" -eq "$want" ] || why="exit $rc, expected $want"
  if [ -z "$why" ] && [ -f "$c.stdout" ] && ! cmp -s "$dir/.stdout" "$c.stdout"; then why="stdout differs"; fi
  if [ -z "$why" ] && [ -f "$c.stdout.glob" ] && ! match_glob "$dir/.stdout" "$c.stdout.glob"; then why="stdout does not match glob"; fi
  if [ -z "$why" ] && [ -f "$c.stderr" ] && ! cmp -s "$dir/.stderr" "$c.stderr"; then why="stderr differs"; fi
  if [ -z "$why" ] && [ -f "$c.stderr.glob" ] && ! match_glob "$dir/.stderr" "$c.stderr.glob"; then why="stderr does not match glob"; fi
  if [ -z "$why" ]; then
    pass=$((pass + 1)); echo "ok   $rel"
  else
    fail=$((fail + 1)); failed+=("$rel"); echo "FAIL $rel ($why)"
    echo "  --- stdout"; tail -20 "$dir/.stdout" | sed 's/^/    /'
    echo "  --- stderr"; tail -20 "$dir/.stderr" | sed 's/^/    /'
  fi
  rm -rf "$dir"
done

echo "tests took $((SECONDS - t0))s"
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
if [ $skip -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ $fail -eq 0 ]
