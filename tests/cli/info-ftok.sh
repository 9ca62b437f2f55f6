# ft-info on FTOK: counts, trained tokens and nearest-rank length percentiles computed here
# in Python from a stream written with struct; the same through zstd, stdin and `cat a b`.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" - <<'PY' || fail "python failed"
import json, random, struct
rng = random.Random(7)
hdr = b"FTOK" + struct.pack("<HHIIQQ", 1, 1, 49152, 0, 0xABCDEF0123456789, 0)
out = bytearray(hdr); lens = []; trained = 0
for r in range(257):
    n = rng.choice([1, 2, 3, 50, 100, 1000]) + rng.randrange(20)
    mask = [rng.random() < 0.6 for _ in range(n)]
    bits = bytearray((n + 7) // 8)
    for i, m in enumerate(mask):
        if m: bits[i // 8] |= 1 << (i % 8)
    out += struct.pack("<II", n, 0) + struct.pack(f"<{n}I", *[rng.randrange(49152) for _ in range(n)])
    out += bits + b"\0" * (-len(bits) % 4)
    lens.append(n); trained += sum(mask)
open("a.tok", "wb").write(out)
s = sorted(lens)
pct = lambda p: s[max(0, -(-p * len(s) // 100) - 1)]
want = {"records": len(lens), "tokens": sum(lens), "trained_tokens": trained, "vocab_size": 49152,
        "tokenizer_id": "abcdef0123456789", "mask": True,
        "length": {"min": s[0], "p50": pct(50), "p90": pct(90), "p95": pct(95), "p99": pct(99), "max": s[-1]}}
json.dump(want, open("want.json", "w"))
PY
cmp_info() {   # cmp_info SCALE: the output in ./out equals want.json with counts times SCALE
  "$FT_PY" - "$1" <<'PY' || fail "ft-info FTOK summary differs"
import json, sys
k = int(sys.argv[1]); got = json.loads(open("out").read()); want = json.load(open("want.json"))
assert got["format"] == "ftok", got
for f in ("records", "tokens", "trained_tokens"): assert got[f] == want[f] * k, (f, got[f], want[f] * k)
for f in ("vocab_size", "tokenizer_id", "mask"): assert got[f] == want[f], (f, got[f], want[f])
for p, v in want["length"].items(): assert got["length"][p] == v, (p, got["length"][p], v)
assert abs(got["length"]["mean"] - want["tokens"] / want["records"]) < 1e-9
PY
}
expect_exit 0 ft-info a.tok
cmp_info 1
zstd -q a.tok -o a.tok.zst
expect_exit 0 ft-info a.tok.zst
cmp_info 1
cat a.tok a.tok > b.tok          # a header between records is allowed when identical
expect_exit 0 ft-info b.tok
cmp_info 2
expect_exit 0 ft-info - < a.tok.zst
cmp_info 1
# -o writes the same, atomically; a failing input leaves no output file
ft-info a.tok > ref.json
expect_exit 0 ft-info -o info.json a.tok
[ ! -s out ] || fail "-o also wrote to stdout"
cmp ref.json info.json || fail "-o output differs from stdout output"
head -c 1000 a.tok > cut.tok
expect_exit 1 ft-info -o bad.json a.tok cut.tok
expect_in "ft-info: cut.tok: record" err
[ ! -e bad.json ] || fail "partial output left behind"
