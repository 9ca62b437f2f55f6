#!/usr/bin/env bash
# tests/bench/bench/run.sh — items/s of `ft-eval bench` on its three paths (packed rows across
# questions, shared context through a KV cache, whole sequence per choice) against the
# `ft-eval choice` path on the same items (the requests of --dump-requests as choice records),
# SmolLM2-135M-Instruct on the first N records of each task; the log-likelihoods of all four
# agree within 1e-3 (checked). Wall-clock seconds, model loading included (the same for all).
# Usage: tests/bench/bench/run.sh [TASKS] [N]   (default arc_easy,hellaswag,piqa 40; not part of
# `make test`; exits 77 without the model or the data)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
tasks=${1:-arc_easy,hellaswag,piqa}
n=${2:-40}
bin="${FT_BIN:-$root/bin}/ft-eval"
M=$("$root/scripts/model.sh" path 2>/dev/null) || { echo "SmolLM2 not cached (make model)" >&2; exit 77; }
D=$("$root/scripts/bench-data.sh" path 2>/dev/null) || { echo "benchmark data not fetched (make bench-data)" >&2; exit 77; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
printf '%-12s %5s %12s %12s %12s %12s %8s\n' task items choice whole shared packed "packed/choice"
for t in ${tasks//,/ }; do
  [ "$t" = winogrande ] && { echo "winogrande: one context per choice, not a choice record: skipped" >&2; continue; }
  "$bin" bench --data "$D" --limit "$n" --dump-requests "$dir/req.jsonl" "$t"
  jq -c '{context: .ctx[0], choices: .cont, label: .gold}' "$dir/req.jsonl" >"$dir/choice.jsonl"
  items=$(wc -l <"$dir/choice.jsonl")
  tc=$(secs "$bin" --model "$M" choice --bootstrap 0 --per-record "$dir/choice.per" -o "$dir/c.json" "$dir/choice.jsonl")
  declare -A tp
  for p in whole shared packed; do
    tp[$p]=$(secs "$bin" --model "$M" bench --bootstrap 0 --path $p --data "$D" --limit "$n" --out-dir "$dir/$p" "$t")
    jq -s -e --slurpfile b "$dir/$p/$t.records.jsonl" \
      '[range(length) as $i | [.[$i].ll, $b[$i].ll] | transpose[] | (.[0] - .[1]) | fabs] | max < 1e-3' \
      "$dir/choice.per" >/dev/null || { echo "$t: $p log-likelihoods differ from choice's by 1e-3 or more" >&2; exit 1; }
  done
  rate() { echo "$items / $1" | bc -l; }
  printf '%-12s %5d %12.2f %12.2f %12.2f %12.2f %7.1fx\n' "$t" "$items" "$(rate "$tc")" "$(rate "${tp[whole]}")" \
    "$(rate "${tp[shared]}")" "$(rate "${tp[packed]}")" "$(echo "$tc / ${tp[packed]}" | bc -l)"
done
echo "(items/s, wall clock incl. model load; $(nproc) cores)"
