# lib.sh — helpers for the CLI test cases (source "$FT_ROOT/tests/lib.sh").
# A case runs in a fresh temp dir with bin/ on PATH. Exit 0 = pass, 77 = skip, else fail.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*" >&2; exit 77; }
need_py() { [ -x "$FT_PY" ] || skip "no Python reference venv (.venv): run scripts/venv.sh"; }
# expect_exit CODE CMD...: run CMD, require exit CODE; stderr kept in ./err, stdout in ./out
expect_exit() {
  local want=$1; shift
  set +e; "$@" >out 2>err; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat err >&2; fail "'$*' exited $rc, expected $want"; }
}
expect_in() { grep -qF -- "$1" "$2" || { cat "$2" >&2; fail "'$1' not found in $2"; }; }
model_path() { "$FT_ROOT/scripts/model.sh" path 2>/dev/null; }
gemma3_path() { "$FT_ROOT/scripts/model.sh" path gemma3 2>/dev/null; }
