# --dedup near: pairs of records with known Jaccard similarity (word sets, --shingle 1) are
# dropped with the probability P(s) = 1 - (1 - s^r)^b documented for the bands b and rows r
# that --stats reports (checked within 4.5 binomial standard deviations); exact copies are
# counted as exact duplicates.
source "$FT_ROOT/tests/lib.sh"
PY=$FT_PY; [ -x "$PY" ] || PY=$(command -v python3) || skip "no python3"
$PY - <<'PY'
import json, random
random.seed(11)
uid = iter(range(10**9))
def word(): return "w%d" % next(uid)
with open("in.jsonl", "w") as f:
    for m in (3, 6, 12, 33):          # replaced words of 100: J = (100-m)/(100+m)
        for _ in range(300):
            a = [word() for _ in range(100)]
            b = list(a)
            for i in random.sample(range(100), m): b[i] = word()
            random.shuffle(b)        # order does not matter for 1-shingles
            f.write(json.dumps({"text": " ".join(a), "m": m}) + "\n")
            f.write(json.dumps({"text": " ".join(b), "m": m}) + "\n")
    f.write(json.dumps({"text": " ".join(a), "m": 0}) + "\n")   # an exact copy
PY
ft-filter --dedup near --shingle 1 --threshold 0.8 --seed 1 in.jsonl -o out.jsonl --stats-out st.json
$PY - <<'PY'
import json, collections
st = json.load(open("st.json"))
d = st["dedup"]; b, r = d["bands"], d["rows"]
assert d["mode"] == "near" and d["num_perm"] == 128 and d["shingle"] == 1, d
assert st["dropped"]["duplicate_exact"] == 1, st["dropped"]
kept = collections.Counter(json.loads(l)["m"] for l in open("out.jsonl"))
fails = []
for m in (3, 6, 12, 33):
    s = (100 - m) / (100 + m)
    P = 1 - (1 - s ** r) ** b
    dropped = 600 - kept[m]
    sd = (300 * P * (1 - P)) ** 0.5
    print("J=%.3f P=%.4f dropped %d/300 expected %.1f" % (s, P, dropped, 300 * P))
    if abs(dropped - 300 * P) > 4.5 * sd + 1: fails.append(m)
assert not fails, fails
assert st["dropped"]["duplicate_near"] == sum(600 - kept[m] for m in (3, 6, 12, 33))
PY

# FTOK: token 5-gram shingles (the default). For pairs with a few tokens replaced, the exact
# Jaccard J_i of the shingle sets is computed here; dropped records must total sum P(J_i)
# within 4.5 standard deviations (sum P(1-P)).
H="$FT_ROOT/tests/cli/filter-ftok.py"
$PY - <<'PY'
import json, random
r = random.Random(3)
nxt = iter(range(1, 10**7))
with open("pairs.toks", "w") as f, open("jac.txt", "w") as g:
    for i in range(400):
        a = [next(nxt) for _ in range(100)]
        b = list(a)
        for k in r.sample(range(100), r.randint(1, 6)): b[k] = next(nxt)
        sa = {tuple(a[j:j + 5]) for j in range(96)}; sb = {tuple(b[j:j + 5]) for j in range(96)}
        g.write("%.6f\n" % (len(sa & sb) / len(sa | sb)))
        f.write(json.dumps({"tokens": a}) + "\n" + json.dumps({"tokens": b}) + "\n")
PY
$PY "$H" write pairs.tok --vocab 0 <pairs.toks
ft-filter --dedup near pairs.tok -o pairs.out.tok --stats-out st2.json
$PY - <<'PY'
import json
st = json.load(open("st2.json")); d = st["dedup"]; b, r = d["bands"], d["rows"]
assert d["shingle"] == 5 and d["shingle_unit"] == "tokens", d
P = [1 - (1 - j ** r) ** b for j in map(float, open("jac.txt"))]
exp, var = sum(P), sum(p * (1 - p) for p in P)
got = st["dropped"].get("duplicate_near", 0)
print("FTOK pairs: dropped %d, expected %.1f +- %.1f" % (got, exp, var ** 0.5))
assert abs(got - exp) <= 4.5 * var ** 0.5 + 1, (got, exp, var)
PY
