# --split val=F is decided by record content: appending data leaves every old record on the
# side it was on; the validation share is F within binomial bounds; train and val are disjoint.
source "$FT_ROOT/tests/lib.sh"
seq 1 3000 | sed 's/.*/{"text":"first batch record & with some words"}/' >a.jsonl
seq 1 2000 | sed 's/.*/{"text":"appended record & later on"}/' >b.jsonl
ft-filter --split val=0.2 --val-out valA.jsonl a.jsonl -o trainA.jsonl
cat a.jsonl b.jsonl | ft-filter --split val=0.2 --val-out valAB.jsonl -o trainAB.jsonl
nv=$(wc -l <valA.jsonl); nt=$(wc -l <trainA.jsonl)
[ $((nv + nt)) -eq 3000 ] || fail "records lost: $nv + $nt"
# 3000 * 0.2 = 600, sd = sqrt(3000*0.2*0.8) = 21.9; 4.5 sd = 99
[ "$nv" -gt 501 ] && [ "$nv" -lt 699 ] || fail "val has $nv of 3000 (expected 600 +- 99)"
[ -z "$(comm -12 <(sort valA.jsonl) <(sort trainA.jsonl))" ] || fail "train and val overlap"
[ -z "$(comm -23 <(sort valA.jsonl) <(sort valAB.jsonl))" ] || fail "a val record moved to train after appending"
[ -z "$(comm -23 <(sort trainA.jsonl) <(sort trainAB.jsonl))" ] || fail "a train record moved to val after appending"
[ "$(wc -l <valAB.jsonl)" -gt "$nv" ] || fail "no appended record went to val"
