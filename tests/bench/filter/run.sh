#!/usr/bin/env bash
# tests/bench/filter/run.sh [N] — ft-filter dedup throughput and peak memory on N synthetic
# JSONL records (default 1,000,000; ~10% near duplicates, ~5% exact copies), beside Python
# peers on the same file in the same run: datasketch MinHashLSH (128 permutations, threshold
# 0.8, word 5-gram shingles, query-then-insert) for near dedup, and a set of 128-bit blake2b
# digests for exact dedup. Prints records per CPU-second (user+sys: fair on a shared machine),
# wall seconds, peak RSS and the ratio ours/peer. PEER_N=K runs the Python peers on the first
# K records only (datasketch needs ~0.5 ms of CPU per record).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
N=${1:-1000000}
PY="$root/.venv/bin/python"
BIN="${FT_BIN:-$root/bin}"
[ -x "$PY" ] || { echo "no venv python ($PY): run scripts/venv.sh" >&2; exit 1; }
"$PY" -c 'import datasketch' || { echo "datasketch missing from the venv" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"

"$PY" - "$N" <<'PY'
import json, random, sys
n = int(sys.argv[1]); rnd = random.Random(1)
vocab = ["w%x" % i for i in range(20000)]
recs = []
with open("in.jsonl", "w") as f:
    for i in range(n):
        u = rnd.random()
        if recs and u < 0.05:
            words = list(rnd.choice(recs))                       # exact copy
        elif recs and u < 0.15:
            words = list(rnd.choice(recs))                       # near copy: one word changed
            words[rnd.randrange(len(words))] = rnd.choice(vocab)
        else:
            words = [rnd.choice(vocab) for _ in range(rnd.randint(30, 60))]
        if len(recs) < 50000: recs.append(words)
        else: recs[rnd.randrange(50000)] = words
        f.write(json.dumps({"text": " ".join(words)}) + "\n")
PY
cat >peer.py <<'PY'
import hashlib, json, resource, sys, time
from datasketch import MinHash, MinHashLSH
mode = sys.argv[1]
limit = int(sys.argv[2])
t0 = time.time(); c0 = time.process_time(); n = kept = 0
if mode == "exact":
    seen = set()
    for line in open("in.jsonl", "rb"):
        if n == limit: break
        n += 1
        d = hashlib.blake2b(json.loads(line)["text"].encode(), digest_size=16).digest()
        if d not in seen: seen.add(d); kept += 1
else:
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for line in open("in.jsonl", "rb"):
        if n == limit: break
        w = json.loads(line)["text"].lower().split()
        sh = [" ".join(w[i:i + 5]).encode() for i in range(max(1, len(w) - 4))]
        m = MinHash(num_perm=128, seed=1)
        m.update_batch(sh)
        if not lsh.query(m):
            lsh.insert(n, m); kept += 1
        n += 1
print("%s %d %d %.3f %.3f %d" % (mode, n, kept, time.process_time() - c0, time.time() - t0,
                                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024))
PY

ours() {   # ours MODE -> "n kept cpu_seconds wall_seconds peakMB"
  /usr/bin/time -f "%U %S %e %M" -o time.txt "$BIN/ft-filter" --dedup "$1" in.jsonl -o /dev/null --stats-out st.json
  local n kept
  n=$("$PY" -c 'import json; s=json.load(open("st.json")); print(s["records_in"], s["records_out"])')
  read -r u s wall kb <time.txt
  echo "$n $(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }') $wall $((kb / 1024))"
}
PEER_N=${PEER_N:-$N}
printf '%d records, %s bytes\n' "$N" "$(stat -c %s in.jsonl)"
printf '%-26s %9s %9s %9s %9s %12s %8s\n' "run" "records" "kept" "cpu s" "wall s" "records/s" "peak MB"
for mode in exact near; do
  read -r n kept secs wall mb < <(ours $mode)
  ours_rate=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.01) }')
  printf '%-26s %9d %9d %9.2f %9.2f %12s %8d\n' "ft-filter --dedup $mode" "$n" "$kept" "$secs" "$wall" "$ours_rate" "$mb"
  read -r _ pn pkept psecs pwall pmb < <("$PY" peer.py $mode "$PEER_N")
  peer_rate=$(awk -v n="$pn" -v s="$psecs" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.01) }')
  peer=$([ $mode = exact ] && echo "python set(blake2b-128)" || echo "datasketch MinHashLSH")
  printf '%-26s %9d %9d %9.2f %9.2f %12s %8d\n' "$peer" "$pn" "$pkept" "$psecs" "$pwall" "$peer_rate" "$pmb"
  awk -v a="$ours_rate" -v b="$peer_rate" -v m="$mode" 'BEGIN { printf "ratio %s dedup: ft-filter is %.1fx the peer'"'"'s records/s\n", m, a / b }'
done
