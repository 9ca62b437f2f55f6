# --shuffle: the output is a permutation of the input, reproducible by seed, different for
# another seed, and identical whether it fits in --mem or spills to temporary files.
source "$FT_ROOT/tests/lib.sh"
PY=$FT_PY; [ -x "$PY" ] || PY=$(command -v python3) || skip "no python3"
H="$FT_ROOT/tests/cli/filter-ftok.py"
$PY -c '
import json
for i in range(6000): print(json.dumps({"tokens": [i] + [i % 97] * (60 + i % 3), "mask": [(i + k) % 2 for k in range(61 + i % 3)]}))' >in.toks
$PY "$H" write in.tok --mask --vocab 10000 <in.toks   # ~1.6 MB, odd lengths
ft-filter --shuffle --seed 1 in.tok -o s1.tok
ft-filter --shuffle --seed 1 --mem 1 --tmp-dir . in.tok -o s1m.tok --stats-out st.json
ft-filter --shuffle --seed 2 in.tok -o s2.tok
grep -q '"spilled_to_disk": true' st.json || fail "--mem 1 did not spill"
[ -z "$(ls | grep ft-filter-shuf)" ] || fail "temporary files left behind"
cmp -s s1.tok s1m.tok || fail "spilled shuffle differs from the in-memory one"
cmp -s s1.tok s2.tok && fail "seeds 1 and 2 gave the same order"
$PY "$H" read s1.tok >s1.toks; $PY "$H" read in.tok >in.toks
cmp -s in.toks s1.toks && fail "shuffle left the order unchanged"
cmp -s <(sort in.toks) <(sort s1.toks) || fail "shuffle is not a permutation"
# JSONL from stdin too
seq 1 1000 | sed 's/.*/{"i":&}/' >in.jsonl
ft-filter --shuffle --seed 9 <in.jsonl >a.jsonl
ft-filter --shuffle --seed 9 in.jsonl -o b.jsonl
cmp -s a.jsonl b.jsonl || fail "stdin and file shuffles differ"
cmp -s <(sort in.jsonl) <(sort a.jsonl) || fail "JSONL shuffle is not a permutation"
