#!/usr/bin/env bash
# curate.sh — sharded curation of a large JSONL with GNU parallel: the input is streamed once
# and teed to N workers (parallel --pipe --tee), each ft-filter keeps the records of its
# shard (--shard I/N) and curates them, and the shards are concatenated. Exact dedup stays exact across shards, because a record's shard
# is decided by its hash (identical records meet in the same shard).
#
# Usage: pipelines/curate.sh IN.jsonl OUT.jsonl [ft-filter flags...]
#   e.g. pipelines/curate.sh big.jsonl clean.jsonl --quality --dedup exact
# Variables: SHARDS (default: number of CPUs), FT (dir of the binaries).
# Remote machines: add PARALLEL_SSH flags (--sshlogin ...) through PARALLEL="...".
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
in=$1 out=$2; shift 2
FT=${FT:-$(cd "$(dirname "$0")/.." && pwd)/bin/}
SHARDS=${SHARDS:-$(nproc)}
tmp=$(mktemp -d "${out}.tmp.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
# every worker sees the whole stream (--tee) and keeps shard i of N
flags=$(printf '%q ' "$@")
parallel --will-cite --pipe --tee -j "$SHARDS" \
  "${FT}ft-filter --shard {}/$SHARDS $flags -o $tmp/shard-{}.jsonl -" ::: $(seq 0 $((SHARDS - 1))) <"$in"
cat $(for i in $(seq 0 $((SHARDS - 1))); do echo "$tmp/shard-$i.jsonl"; done) >"$tmp/all"
mv "$tmp/all" "$out"
echo "curate: $(wc -l <"$in") records in, $(wc -l <"$out") out ($SHARDS shards)" >&2
