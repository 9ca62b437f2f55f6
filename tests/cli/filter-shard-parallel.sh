# ft-filter --shard i/4 under GNU parallel, concatenated, equals the unsharded result as a
# multiset (JSONL and FTOK), with exact dedup, length bounds and decontamination in the run.
source "$FT_ROOT/tests/lib.sh"
command -v parallel >/dev/null || skip "GNU parallel not installed"
PY=$FT_PY; [ -x "$PY" ] || PY=$(command -v python3) || skip "no python3"
H="$FT_ROOT/tests/cli/filter-ftok.py"
$PY - <<'PY'
import json, random
random.seed(5)
words = ["w%d" % i for i in range(300)]
recs = []
for i in range(3000):
    n = random.randint(1, 40)
    recs.append([random.randrange(300) for _ in range(n)])
recs += recs[:400]            # exact duplicates
random.shuffle(recs)
with open("in.jsonl", "w") as f, open("in.toks", "w") as g:
    for r in recs:
        f.write(json.dumps({"text": " ".join(words[t] for t in r), "n": len(r)}) + "\n")
        g.write(json.dumps({"tokens": r, "mask": [i % 2 for i in range(len(r))]}) + "\n")
ev = recs[7][:15] if len(recs[7]) >= 15 else list(range(15))
with open("eval.jsonl", "w") as f:
    f.write(json.dumps({"q": " ".join(words[t] for t in ev)}) + "\n")
with open("eval.toks", "w") as g:
    g.write(json.dumps({"tokens": ev}) + "\n")
PY
$PY "$H" write in.tok --mask --vocab 300 --tokid 9 <in.toks
$PY "$H" write eval.tok --vocab 300 --tokid 9 <eval.toks
for ext in jsonl tok; do
  ops="--dedup exact --min-len 3 --decontaminate eval.$ext --ngram 5"
  ft-filter $ops in.$ext -o all.$ext
  parallel ft-filter $ops --shard {}/4 in.$ext -o shard{}.$ext ::: 0 1 2 3
  cat shard0.$ext shard1.$ext shard2.$ext shard3.$ext >cat.$ext
  if [ $ext = tok ]; then
    $PY "$H" read all.tok | sort >a.txt
    $PY "$H" read cat.tok | sort >b.txt   # the concatenated shards are one valid stream
  else
    sort all.jsonl >a.txt; sort cat.jsonl >b.txt
  fi
  n=$(wc -l <a.txt)
  [ "$n" -gt 2000 ] && [ "$n" -lt 3400 ] || fail "$ext: unexpected record count $n"
  cmp -s a.txt b.txt || fail "$ext: shards concatenated differ from the unsharded run"
  # each shard got a real share, and the shards are disjoint
  for i in 0 1 2 3; do
    k=$(if [ $ext = tok ]; then $PY "$H" read shard$i.tok | wc -l; else wc -l <shard$i.jsonl; fi)
    [ "$k" -gt $((n / 8)) ] || fail "$ext: shard $i has only $k of $n records"
  done
done
