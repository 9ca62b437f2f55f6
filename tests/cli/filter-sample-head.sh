# --head N keeps the first N; --sample N keeps N records in input order, reproducibly by seed;
# --sample FRACTION keeps each record with that probability (binomial bounds); length bounds
# in words and bytes for JSONL; --stats counts and percentiles.
source "$FT_ROOT/tests/lib.sh"
seq 1 2000 | awk '{ s = "w"; for (i = 1; i < $1 % 10 + 1; i++) s = s " w"; printf "{\"i\":%d,\"text\":\"%s\"}\n", $1, s }' >in.jsonl
ft-filter --head 5 in.jsonl -o h.jsonl
[ "$(jq -c .i h.jsonl | tr '\n' ' ')" = "1 2 3 4 5 " ] || fail "--head 5: $(jq -c .i h.jsonl | tr '\n' ' ')"
ft-filter --sample 50 --seed 3 in.jsonl -o s1.jsonl
ft-filter --sample 50 --seed 3 in.jsonl -o s2.jsonl
ft-filter --sample 50 --seed 4 in.jsonl -o s3.jsonl
cmp -s s1.jsonl s2.jsonl || fail "--sample 50 not reproducible"
cmp -s s1.jsonl s3.jsonl && fail "--sample 50: seeds 3 and 4 agree"
[ "$(wc -l <s1.jsonl)" -eq 50 ] || fail "--sample 50 kept $(wc -l <s1.jsonl)"
jq .i s1.jsonl | sort -n -c || fail "--sample N is not in input order"
[ "$(sort -u s1.jsonl | wc -l)" -eq 50 ] || fail "--sample N repeated a record"
ft-filter --sample 0.25 --seed 1 in.jsonl -o f.jsonl
n=$(wc -l <f.jsonl)   # 500 +- 4.5 * sqrt(2000 * .25 * .75) = 500 +- 87
[ "$n" -gt 413 ] && [ "$n" -lt 587 ] || fail "--sample 0.25 kept $n of 2000"
# texts have (i mod 10) + 1 words, "w w w": 2*words - 1 bytes
ft-filter --min-len 3 --max-len 5 in.jsonl -o l.jsonl --stats-out st.json
[ "$(wc -l <l.jsonl)" -eq 600 ] || fail "word bounds kept $(wc -l <l.jsonl), expected 600"
[ "$(jq -c '[.dropped.min_len, .dropped.max_len, .length.min, .length.max, .length.p50]' st.json)" = "[400,1000,3,5,4]" ] ||
  fail "stats: $(jq -c '[.dropped, .length]' st.json)"
ft-filter --len-unit bytes --min-len 3 --max-len 5 in.jsonl -o b.jsonl   # 2 or 3 words
[ "$(wc -l <b.jsonl)" -eq 400 ] || fail "byte bounds kept $(wc -l <b.jsonl), expected 400"
