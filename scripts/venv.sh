#!/usr/bin/env bash
# venv.sh — the test-only Python references (never used at run time) in .venv.
# Re-running is cheap: a stamp file records the installed requirement list.
set -euo pipefail
cd "$(dirname "$0")/.."
req=tests/requirements.txt
stamp=.venv/.ft-stamp
if [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then exit 0; fi
py=python3
[ -x /usr/bin/python3 ] && ! "$py" -m venv --help >/dev/null 2>&1 && py=/usr/bin/python3
[ -d .venv ] || "$py" -m venv .venv
echo "venv: installing test references from $req" >&2
.venv/bin/pip install -q --disable-pip-version-check -r "$req" >&2
cp "$req" "$stamp"
