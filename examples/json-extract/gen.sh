#!/usr/bin/env bash
# gen.sh — generate the json-extract instruction dataset: a short English sentence about a
# person in, a one-line JSON object with fixed keys out. The base model answers in prose or
# with other keys/spacing; after tuning it answers in exactly this format.
#   ./gen.sh [SEED] [N_TRAIN] [N_EVAL]   -> train.jsonl, eval.jsonl (messages format)
# Deterministic for a seed (awk's own LCG, not the system RNG). Eval people never appear in train.
set -euo pipefail
seed=${1:-1}; ntrain=${2:-400}; neval=${3:-50}
cd "$(dirname "$0")"
awk -v seed="$seed" -v ntrain="$ntrain" -v neval="$neval" '
function rnd() { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648 }
function pick(arr, n) { return arr[int(rnd() * n) + 1] }
BEGIN {
  state = seed
  nf = split("Alice Bruno Chen Dalia Emeka Fatima Gustav Hana Ivan Julia Kofi Lena Mateo Nadia Omar Priya Quentin Rosa Sven Tomoko Umar Vera Wei Ximena Yusuf Zoe Aarav Beatriz Carlos Dmitri Elif Farah Goran Hiro Ines Jonas Kira Luca Maya Nils", first, " ")
  nc = split("Paris Lagos Lima Oslo Kyoto Cairo Quito Porto Dakar Hanoi Tunis Riga Accra Perth Lyon Bern Graz Turin Cork Malmo Split Bergen Leeds Nantes Basel Krakow Bilbao Ghent Leipzig Tartu", city, " ")
  nj = split("teacher nurse baker pilot chemist farmer lawyer painter plumber engineer librarian dentist tailor carpenter journalist", job, " ")
  nt = split("%N is %A years old and lives in %C, where %P works as %X %J.|Meet %N, %X %J from %C who is %A.|%N (age %A) works as %X %J in %C.|In %C there is %Y %A-year-old %J named %N.|%N, %A, has been %X %J in %C for years.", tmpl, "|")
  total = ntrain + neval
  for (i = 1; i <= total; i++) {
    # eval names use the second half of the first-name list, train the first half
    half = int(nf / 2)
    n = (i <= ntrain) ? first[int(rnd() * half) + 1] : first[half + int(rnd() * (nf - half)) + 1]
    a = 18 + int(rnd() * 60); c = pick(city, nc); j = pick(job, nj); t = pick(tmpl, nt)
    p = (rnd() < 0.5) ? "she" : "he"
    s = t; gsub(/%N/, n, s); gsub(/%A/, a, s); gsub(/%C/, c, s); gsub(/%J/, j, s); gsub(/%P/, p, s); gsub(/%X/, (j ~ /^[aeiou]/) ? "an" : "a", s); gsub(/%Y/, (a == 18 || (a >= 80 && a < 90)) ? "an" : "a", s)
    ans = sprintf("{\\\"name\\\": \\\"%s\\\", \\\"age\\\": %d, \\\"city\\\": \\\"%s\\\", \\\"job\\\": \\\"%s\\\"}", n, a, c, j)
    q = "Extract name, age, city and job as JSON: " s
    line = sprintf("{\"id\": \"%s-%d\", \"messages\": [{\"role\": \"user\", \"content\": \"%s\"}, {\"role\": \"assistant\", \"content\": \"%s\"}]}", (i <= ntrain) ? "train" : "eval", i, q, ans)
    if (i <= ntrain) print line > "train.jsonl"; else print line > "eval.jsonl"
  }
}'
echo "wrote $(wc -l < train.jsonl) train and $(wc -l < eval.jsonl) eval records" >&2
