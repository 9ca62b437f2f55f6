#!/usr/bin/env bash
# Bench: records/s of ft-template vs Python jinja2 (HF's apply_chat_template environment)
# rendering the same template and conversations in the same run; prints the ratio.
# ft-template is timed end to end (JSONL in, segment JSONL out), both with loss spans
# (default: extra prefix renderings per assistant turn) and with --train-on-inputs (one
# rendering per record, the same work jinja2 does here).
# Times are CPU seconds (user + sys), so a loaded machine does not skew the ratio.
# Usage: tests/bench/template/run.sh [N_RECORDS=20000] [TEMPLATE=llama3]
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
n=${1:-20000}; tpl=${2:-llama3}
py="$root/.venv/bin/python"
bin="$root/bin/ft-template"
[ -x "$bin" ] || { echo "build first: make" >&2; exit 1; }
[ -x "$py" ] && "$py" -c 'import jinja2' 2>/dev/null || { echo "no Python jinja2 in .venv (scripts/venv.sh)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# multi-turn conversations built from the example data (system + 2 user/assistant turns)
src="$root/examples/json-extract/train.jsonl"
"$py" - "$src" "$n" >"$tmp/data.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
for i in range(n):
    a, b = recs[i % len(recs)], recs[(i * 7 + 3) % len(recs)]
    msgs = [{"role": "system", "content": "You extract structured data as JSON."}] + a["messages"] + b["messages"]
    print(json.dumps({"id": i, "messages": msgs}, ensure_ascii=False))
PY
"$bin" -t "$tpl" --print-template >"$tmp/t.jinja"
# CPU seconds (user + sys) of one run: fair on a shared machine; jinja2 is timed the same way
time_it() { /usr/bin/time -f '%U %S' -o "$tmp/time" "$@" >/dev/null; awk '{print $1 + $2}' "$tmp/time"; }
s_spans=$(time_it "$bin" -t "$tpl" "$tmp/data.jsonl")
s_plain=$(time_it "$bin" -t "$tpl" --train-on-inputs "$tmp/data.jsonl")
r_py=$("$py" "$root/tests/parity/template_ref.py" bench "$tmp/t.jinja" "$tmp/data.jsonl" "$n")
r_pye=$("$py" "$root/tests/parity/template_ref.py" bench "$tmp/t.jinja" "$tmp/data.jsonl" "$n" e2e)
awk -v n="$n" -v a="$s_spans" -v b="$s_plain" -v p="$r_py" -v e="$r_pye" -v t="$tpl" 'BEGIN {
  ra = n / a; rb = n / b;
  printf "template %s, %d conversations (system + 2 turns)\n", t, n;
  printf "  ft-template (loss spans)        %10.0f records/s\n", ra;
  printf "  ft-template --train-on-inputs   %10.0f records/s\n", rb;
  printf "  python jinja2 render only       %10.0f records/s\n", p;
  printf "  python jinja2 JSONL in/out      %10.0f records/s\n", e;
  printf "  ratio ft-template/jinja2: %.2fx single render vs JSONL in/out, %.2fx vs render only, %.2fx with spans vs render only\n", rb / e, rb / p, ra / p }'
