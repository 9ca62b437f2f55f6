#!/usr/bin/env bash
# gen.sh — generate the domain corpus: short technical notes about a fictional network
# protocol ("Kestrel"), which no pretrained model has seen, as {"text"} JSONL for continued
# pre-training. Deterministic for a seed (awk's own LCG). Also writes a held-out split.
#   ./gen.sh [SEED] [N_TRAIN] [N_HELDOUT]   -> corpus.jsonl, heldout.jsonl
set -euo pipefail
seed=${1:-7}; ntrain=${2:-300}; nheld=${3:-30}
cd "$(dirname "$0")"
awk -v seed="$seed" -v ntrain="$ntrain" -v nheld="$nheld" '
function rnd() { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648 }
function pick(arr, n) { return arr[int(rnd() * n) + 1] }
function fill(s) {
  gsub(/%F/, pick(frame, nf), s); gsub(/%S/, pick(state_, ns), s); gsub(/%N/, int(2 + rnd() * 14), s)
  gsub(/%T/, 50 * int(1 + rnd() * 40), s); gsub(/%R/, pick(role, nr), s); gsub(/%E/, pick(err, ne), s)
  return s
}
BEGIN {
  state = seed
  nf = split("HELLO WINDOW SEAL ECHO DRAIN PARCEL FENCE BEACON", frame, " ")
  ns = split("IDLE LISTENING BOUND DRAINING SEALED", state_, " ")
  nr = split("a relay|an anchor|an edge-node|an observer", role, "|")
  ne = split("E_STALE_EPOCH E_WINDOW_SHUT E_SEAL_MISMATCH E_NO_ANCHOR", err, " ")
  nt = split("In Kestrel, %R answers a %F frame within %T milliseconds or the peer moves to %S.|In Kestrel, %R that receives a %F frame while %S replies with %E and waits %N epochs.|Every %F frame carries the sender epoch, so %R can reject stale traffic with %E.|Kestrel peers open with a HELLO frame, agree on a window of %N parcels and then enter %S.|When the window fills, the %R sends a DRAIN frame and stays %S until every parcel is acknowledged.|A SEAL frame freezes the session key; %R that sees a second SEAL answers %E.|BEACON frames are sent every %T milliseconds by each anchor, and %R that misses %N of them elects a new anchor.|The FENCE frame tells every peer in a ring to stop forwarding until epoch %N has passed.|An ECHO frame measures round-trip time; %R keeps the last %N samples and drops the slowest.|A PARCEL frame holds at most %N chunks, and %R reassembles them in epoch order.", tmpl, "|")
  for (i = 1; i <= ntrain + nheld; i++) {
    k = 3 + int(rnd() * 4); doc = ""
    for (j = 0; j < k; j++) doc = doc (j ? " " : "") fill(pick(tmpl, nt))
    line = sprintf("{\"id\": \"kestrel-%d\", \"text\": \"%s\"}", i, doc)
    if (i <= ntrain) print line > "corpus.jsonl"; else print line > "heldout.jsonl"
  }
}'
echo "wrote $(wc -l < corpus.jsonl) corpus and $(wc -l < heldout.jsonl) held-out documents" >&2
