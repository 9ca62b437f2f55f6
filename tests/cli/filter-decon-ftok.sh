# --decontaminate on token streams, default 13-gram: planted 13-token overlaps with two eval
# items are found and reported by item; 12-token near misses and an overlap with an eval item
# shorter than 13 tokens are not flagged.
source "$FT_ROOT/tests/lib.sh"
PY=$FT_PY; [ -x "$PY" ] || PY=$(command -v python3) || skip "no python3"
H="$FT_ROOT/tests/cli/filter-ftok.py"
$PY - <<'PY'
import json
ev = [list(range(1000, 1030)), list(range(2000, 2020)), list(range(3000, 3010))]   # item 3: 10 tokens
tr = [
    [1, 2] + ev[0][5:18] + [3],     # 13 tokens of item 1: contaminated
    [1, 2] + ev[0][5:17] + [3],     # 12 tokens: clean
    ev[1][0:13],                    # item 2 exactly 13: contaminated
    ev[0][0:13] + ev[1][7:20],      # items 1 and 2
    ev[2] + [5, 6, 7],              # all of the short item 3: clean (too short to index)
    list(range(10, 60)),            # unrelated
]
open("eval.toks", "w").write("".join(json.dumps({"tokens": t}) + "\n" for t in ev))
open("train.toks", "w").write("".join(json.dumps({"tokens": t}) + "\n" for t in tr))
PY
$PY "$H" write eval.tok --vocab 4000 --tokid 42 <eval.toks
$PY "$H" write train.tok --vocab 4000 --tokid 42 <train.toks
ft-filter --decontaminate eval.tok train.tok -o out.tok --stats-out st.json
$PY "$H" read out.tok >out.toks
$PY - <<'PY'
import json
st = json.load(open("st.json"))["decontamination"]
assert st["ngram"] == 13 and st["unit"] == "tokens", st
assert st["dropped"] == 3, st
assert st["eval_items"] == 3 and st["eval_items_too_short"] == 1, st
assert st["eval_ngrams"] == 18 + 8, st
assert [(t["item"], t["records"]) for t in st["touched"]] == [(1, 2), (2, 2)], st["touched"]
kept = [json.loads(l)["tokens"] for l in open("out.toks")]
tr = [json.loads(l)["tokens"] for l in open("train.toks")]
assert kept == [tr[1], tr[4], tr[5]], kept
PY
# a different tokenizer is refused
$PY "$H" write other.tok --vocab 4000 --tokid 43 <eval.toks
expect_exit 1 ft-filter --decontaminate other.tok train.tok -o out2.tok
expect_in "tokenizer" err
[ ! -e out2.tok ] || fail "partial output"
