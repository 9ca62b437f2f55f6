# Every libFuzzer target still builds against the library and runs its seeds cleanly for a
# second (`make fuzz` runs them for longer): a renamed library function or a new source folder
# the fuzz build does not know breaks this test instead of rotting unseen until someone fuzzes.
. "$FT_ROOT/tests/lib.sh"
command -v clang >/dev/null || skip "no clang (the fuzz targets need clang's libFuzzer)"
[ -z "${FT_SAN:-}" ] || skip "under make check: the fuzz build is sanitized already"
out=$("$FT_ROOT/scripts/fuzz.sh" 1 2>&1) || { echo "$out" | tail -30 >&2; fail "scripts/fuzz.sh 1 failed"; }
n=$(grep -c '^== fuzz_' <<<"$out"); k=$(grep -c 'Done [0-9]* runs' <<<"$out")
[ "$n" -gt 0 ] && [ "$n" -eq "$k" ] || { echo "$out" >&2; fail "$k of $n fuzz targets ran"; }
echo "fuzz targets: $n built and ran"
