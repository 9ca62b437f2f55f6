# --mix A:0.8 B:0.2 interleaves two streams by weight: the share of B is 0.2 within binomial
# bounds, the run stops when the picked stream runs dry, and the same seed gives the same mix.
source "$FT_ROOT/tests/lib.sh"
seq 1 1000 | sed 's/.*/{"src":"A","text":"a &"}/' >a.jsonl
seq 1 5000 | sed 's/.*/{"src":"B","text":"b &"}/' >b.jsonl
ft-filter --mix a.jsonl:0.8 b.jsonl:0.2 --seed 3 -o m1.jsonl --stats-out st.json
ft-filter --mix a.jsonl:0.8 b.jsonl:0.2 --seed 3 -o m2.jsonl
ft-filter --mix a.jsonl:0.8 b.jsonl:0.2 --seed 4 -o m3.jsonl
cmp -s m1.jsonl m2.jsonl || fail "same seed, different mix"
cmp -s m1.jsonl m3.jsonl && fail "different seeds, same mix"
na=$(grep -c '"src":"A"' m1.jsonl); nb=$(grep -c '"src":"B"' m1.jsonl); n=$((na + nb))
# A (1000 records) runs dry first: all of A is used, in order
[ "$na" -eq 1000 ] || fail "expected all 1000 A records, got $na"
diff <(grep '"src":"A"' m1.jsonl) a.jsonl >/dev/null || fail "A records reordered"
# B's share: 0.2 of n within 4.5 sd (n ~ 1250: sd = sqrt(n*.2*.8) ~ 14)
awk -v nb=$nb -v n=$n 'BEGIN { sd = sqrt(n * 0.2 * 0.8); d = nb - 0.2 * n; if (d < 0) d = -d; exit !(d <= 4.5 * sd) }' ||
  fail "B share $nb of $n is not 0.2 within bounds"
grep -q "\"records\": $nb" st.json || fail "stats do not report $nb records from b.jsonl"
