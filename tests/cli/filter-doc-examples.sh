# The EXAMPLES of docs/ft-filter.md run as written (on small generated data) and succeed.
source "$FT_ROOT/tests/lib.sh"
PY=$FT_PY; [ -x "$PY" ] || PY=$(command -v python3) || skip "no python3"
command -v parallel >/dev/null || skip "GNU parallel not installed"
H="$FT_ROOT/tests/cli/filter-ftok.py"
$PY - <<'PY'
import json, random
r = random.Random(2)
def toks(n): return [r.randrange(500) for _ in range(n)]
with open("a.toks", "w") as f:
    for i in range(400):
        t = toks(r.randint(5, 80)); f.write(json.dumps({"tokens": t, "mask": [int(k > len(t) // 2) for k in range(len(t))]}) + "\n")
with open("e.toks", "w") as f:
    for i in range(20): f.write(json.dumps({"tokens": toks(30), "mask": [1] * 30}) + "\n")
words = "the river runs past old mill and children walk to school along its bank with some worry".split()
with open("corpus.jsonl", "w") as f:
    for i in range(50): f.write(json.dumps({"text": " ".join(r.choice(words) for _ in range(80))}) + "\n")
PY
for f in train domain general data; do $PY "$H" write $f.tok --mask --vocab 500 --tokid 5 <a.toks; done
$PY "$H" write eval.tok --mask --vocab 500 --tokid 5 <e.toks
zstd -q corpus.jsonl -o corpus.jsonl.zst
# the indented command lines of the EXAMPLES section, with their continuations
awk '/^## EXAMPLES/ { on = 1; next } /^## / { on = 0 } on && /^    / { sub(/^    /, ""); print }' \
  "$FT_ROOT/docs/ft-filter.md" >examples.sh
[ "$(grep -c '^ft-filter\|^parallel' examples.sh)" -ge 4 ] || fail "examples not found: $(cat examples.sh)"
bash -e examples.sh 2>stats.txt || { cat stats.txt >&2; fail "an example failed"; }
for f in train.clean.tok val.tok corpus.clean.jsonl.zst mixed.tok clean.tok; do [ -s $f ] || fail "$f not written"; done
