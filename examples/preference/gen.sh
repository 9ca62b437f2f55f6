#!/usr/bin/env bash
# gen.sh — generate the preference dataset: the same requests answered concisely and correctly
# (chosen) versus verbosely or wrongly (rejected), as {"prompt","chosen","rejected"} records.
# Requests: sums of two small numbers and capitals of countries. Half the rejected answers are
# wrong but short, half right but padded with chatter, so neither length nor content alone
# tells the sides apart.
#   ./gen.sh [SEED] [N_TRAIN] [N_HELDOUT]   -> train.jsonl, heldout.jsonl
# Deterministic for a seed (awk's own LCG). Held-out countries and number pairs never occur in
# training.
set -euo pipefail
seed=${1:-1}; ntrain=${2:-300}; nheld=${3:-60}
cd "$(dirname "$0")"
awk -v seed="$seed" -v ntrain="$ntrain" -v nheld="$nheld" '
function rnd() { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648 }
function irand(n) { return int(rnd() * n) }
function rec(id, q, good, bad,    s) {
  return sprintf("{\"id\": \"%s\", \"prompt\": \"%s\", \"chosen\": \"%s\", \"rejected\": \"%s\"}", id, q, good, bad)
}
BEGIN {
  state = seed
  n = split("France:Paris Japan:Tokyo Italy:Rome Spain:Madrid Germany:Berlin Egypt:Cairo Canada:Ottawa Peru:Lima Norway:Oslo Kenya:Nairobi Greece:Athens Poland:Warsaw Chile:Santiago Cuba:Havana Ireland:Dublin Austria:Vienna Portugal:Lisbon Sweden:Stockholm Thailand:Bangkok Russia:Moscow China:Beijing India:New Delhi Mexico:Mexico City Turkey:Ankara Finland:Helsinki Hungary:Budapest Denmark:Copenhagen Belgium:Brussels Vietnam:Hanoi Argentina:Buenos Aires", pairs, " ")
  # the split above breaks "New Delhi" etc.: rebuild the list on ":" boundaries
  m = 0; cur = ""
  for (i = 1; i <= n; i++) { if (index(pairs[i], ":")) { if (cur != "") list[++m] = cur; cur = pairs[i] } else cur = cur " " pairs[i] }
  list[++m] = cur
  for (i = 1; i <= m; i++) { split(list[i], kv, ":"); country[i] = kv[1]; capital[i] = kv[2] }
  held_from = m - 7   # the last 8 countries are held out
  nv = split("Great question! Let me think about this carefully before I answer.|Sure! I would be happy to help you with that, it is a very interesting question.|Well, this is something many people wonder about, so let me explain it step by step.", intro, "|")
  no = split("I hope this helps, and let me know if you have any other questions!|Feel free to ask me anything else you would like to know about it.|Thank you for asking, it was a pleasure to answer this question for you.", outro, "|")
  for (i = 1; i <= ntrain + nheld; i++) {
    held = i > ntrain
    id = (held ? "heldout-" : "train-") i
    if (rnd() < 0.5) {   # arithmetic: held-out sums use numbers 13..19, training 2..12
      a = held ? 13 + irand(7) : 2 + irand(11); b = held ? 13 + irand(7) : 2 + irand(11)
      q = "What is " a " plus " b "? Answer briefly."
      good = (a + b) "."
      if (rnd() < 0.5) { d = 1 + irand(3); if (rnd() < 0.5) d = -d; bad = (a + b + d) "." }
      else bad = intro[1 + irand(nv)] " When we add " a " and " b " together, we get " (a + b) ". So the answer is " (a + b) ". " outro[1 + irand(no)]
    } else {
      k = held ? held_from + irand(m - held_from + 1) : 1 + irand(held_from - 1)
      q = "What is the capital of " country[k] "? Answer briefly."
      good = capital[k] "."
      if (rnd() < 0.5) { j = 1 + irand(m); if (j == k) j = (k % m) + 1; bad = capital[j] "." }
      else bad = intro[1 + irand(nv)] " " country[k] " is a country with a long and rich history, and its capital city is " capital[k] ". " outro[1 + irand(no)]
    }
    line = rec(id, q, good, bad)
    if (held) print line > "heldout.jsonl"; else print line > "train.jsonl"
  }
}'
echo "wrote $(wc -l < train.jsonl) training and $(wc -l < heldout.jsonl) held-out pairs" >&2
