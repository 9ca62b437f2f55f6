# Preference data through the tools: ft-template renders {"prompt","chosen","rejected"} in the
# string, conversational and implicit-prompt forms (the loss on each side's answer only, the
# rendered prompt identical on both sides), ft-tokenize writes one FTOK unit per pair (pairs
# flag, each side's tokens = tokenizing that side alone), ft-filter keeps pairs whole through
# shuffle, split, sample, shard, exact dedup and --truncate (each side cut on its own); the bad
# inputs of issue #20 fail naming the record, and pair/plain streams given to the wrong
# objective are refused by name.
. "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf m --seed 1 >/dev/null
cat >p.jsonl <<'J'
{"id":1,"prompt":"What is 2+2?","chosen":"4","rejected":"5, I think, or maybe more"}
{"id":2,"prompt":[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"}],"chosen":[{"role":"assistant","content":"Paris."}],"rejected":[{"role":"assistant","content":"Lyon."}]}
{"id":3,"chosen":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}],"rejected":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Go away."}]}
J
ft-template -t chatml p.jsonl -o p.seg
"$FT_PY" - p.seg <<'PY' || fail "pair segments"
import json, sys
want = {1: ("4", "5, I think, or maybe more"), 2: ("Paris.", "Lyon."), 3: ("Hello!", "Go away.")}
for line in open(sys.argv[1]):
    r = json.loads(line)
    sides = []
    for k in ("chosen", "rejected"):
        segs = r[k]["segments"]
        trained = "".join(s["text"] for s in segs if s["train"])
        prompt = "".join(s["text"] for s in segs if not s["train"])
        sides.append(prompt)
        ans = want[r["id"]][k == "rejected"]
        assert trained == ans + "<|im_end|>\n", (r["id"], k, trained)
        assert prompt.endswith("<|im_start|>assistant\n"), prompt
    assert sides[0] == sides[1], "the prompt differs between the sides"
    assert set(r) == {"chosen", "rejected", "id"}, r.keys()
PY
ft-tokenize --tokenizer m p.seg -o p.tok
ft-tokenize --tokenizer m p.seg --jsonl -o p.ids
# each side's ids are those of that side tokenized alone as a segments record
"$FT_PY" - p.seg p.tok <<'PY' >sides.jsonl
import json, sys, struct
for line in open(sys.argv[1]):
    r = json.loads(line)
    for k in ("chosen", "rejected"):
        print(json.dumps({"segments": r[k]["segments"]}))
raw = open(sys.argv[2], "rb").read()
assert struct.unpack("<H", raw[6:8])[0] == 3, "FTOK flags are not mask|pairs"
PY
ft-tokenize --tokenizer m sides.jsonl --jsonl -o sides.ids
"$FT_PY" - p.ids sides.ids <<'PY' || fail "pair tokens differ from the sides tokenized alone"
import json, sys
pairs = [json.loads(l) for l in open(sys.argv[1])]
sides = [json.loads(l) for l in open(sys.argv[2])]
for i, p in enumerate(pairs):
    for j, k in enumerate(("chosen", "rejected")):
        s = sides[2 * i + j]
        assert p[k + "_input_ids"] == s["input_ids"] and p[k + "_labels"] == s["labels"], (i, k)
PY
# ft-filter keeps pairs whole
"$FT_PY" "$FT_ROOT/tests/parity/pref_ref.py" write-pairs big.tok 7 300 300
ft-filter --shuffle --seed 3 big.tok -o sh.tok
ft-filter --split val=0.25 --val-out v.tok sh.tok -o t.tok
ft-filter --sample 40 big.tok -o sm.tok
ft-filter --shard 1/3 big.tok -o sd.tok
cat big.tok sm.tok >dup.tok
ft-filter --dedup exact dup.tok -o dd.tok
ft-filter --truncate 8 big.tok -o tr.tok
"$FT_PY" - "$FT_ROOT/tests/parity" <<'PY' || fail "ft-filter broke pairs"
import sys
sys.path.insert(0, sys.argv[1])
from pref_ref import read_pairs
key = lambda p: (tuple(p[0][0]), tuple(p[0][1]), tuple(p[1][0]), tuple(p[1][1]))
src = [key(p) for p in read_pairs("big.tok")]
S = set(src)
sh = [key(p) for p in read_pairs("sh.tok")]
assert sorted(sh) == sorted(src) and sh != src, "shuffle"
t, v = [key(p) for p in read_pairs("t.tok")], [key(p) for p in read_pairs("v.tok")]
assert sorted(t + v) == sorted(src) and 0 < len(v) < len(src), "split"
for f in ("sm.tok", "sd.tok"):
    assert all(key(p) in S for p in read_pairs(f)), f
assert sorted(key(p) for p in read_pairs("dd.tok")) == sorted(src), "dedup"
for (c, r), o in zip(read_pairs("tr.tok"), read_pairs("big.tok")):
    for side, orig in ((c, o[0]), (r, o[1])):
        n = min(len(orig[0]), 8)
        assert side[0] == orig[0][:n] and side[1] == orig[1][:n], "truncate"
print(f"{len(src)} pairs: shuffle, split {len(t)}/{len(v)}, sample, shard, dedup, truncate keep pairs whole")
PY
# bad input, each naming its record
bad() {  # bad LINE-JSON EXPECTED-TEXT
  printf '{"prompt":"x","chosen":"a","rejected":"b"}\n%s\n' "$1" >bad.jsonl
  expect_exit 1 ft-template -t chatml bad.jsonl
  expect_in "bad.jsonl:2:" err
  expect_in "$2" err
}
bad '{"prompt":"x","chosen":"a"}' 'no "rejected"'
bad '{"prompt":"x","rejected":"b"}' 'no "chosen"'
bad '{"prompt":"x","chosen":"","rejected":"b"}' '"chosen" is an empty completion'
bad '{"prompt":"x","chosen":"a","rejected":[{"role":"assistant","content":""}]}' '"rejected" is an empty completion'
bad '{"chosen":[{"role":"user","content":"Hi"},{"role":"assistant","content":"a"}],"rejected":[{"role":"user","content":"Hello"},{"role":"assistant","content":"b"}]}' 'differ from their first message'
bad '{"chosen":[{"role":"system","content":"S"},{"role":"user","content":"Hi"},{"role":"assistant","content":"a"}],"rejected":[{"role":"system","content":"S"},{"role":"user","content":"Yo"},{"role":"assistant","content":"b"}]}' 'the implicit prompt differs between "chosen" and "rejected" at message 1 (a "user" message)'
bad '{"chosen":"x a","rejected":"x b"}' 'implicit-prompt form needs'
# KTO's unpaired records: the label rides through ft-template into the FTOK labels flag
printf '%s\n' '{"prompt":"Hi","completion":"Hello!","label":true}' '{"prompt":"Hi","completion":"Go away.","label":false}' >k.jsonl
ft-template -t chatml k.jsonl | ft-tokenize --tokenizer m -o k.tok
"$FT_PY" - <<'PY' || fail "labelled FTOK"
import struct
raw = open("k.tok", "rb").read()
assert struct.unpack("<H", raw[6:8])[0] == 5, "flags are not mask|labels"
n, lab = struct.unpack("<II", raw[32:40])
assert lab == 1, lab
o = 40 + 4 * n + ((n + 7) // 8 + 3) // 4 * 4
assert struct.unpack("<II", raw[o:o + 8])[1] == 0
PY
echo '{"prompt":"Hi","completion":"x","label":"yes"}' | ft-template -t chatml -o kb.seg
expect_exit 1 ft-tokenize --tokenizer m kb.seg -o kb.tok
expect_in 'kb.seg:1: "label" must be true or false' err
expect_exit 1 ft-train --model m --data p.tok --objective kto --max-steps 1 -o o3
expect_in "p.tok: not a labelled stream" err
# a pair stream given to SFT, a plain stream to DPO, a mixed file to ft-tokenize
echo '{"text":"hello world"}' | ft-tokenize --tokenizer m -o plain.tok
expect_exit 1 ft-train --model m --data p.tok --method full --max-steps 1 -o o1
expect_in "p.tok: a preference-pair stream" err
expect_in "not sft" err
expect_exit 1 ft-train --model m --data plain.tok --objective dpo --max-steps 1 -o o2
expect_in "plain.tok: not a preference-pair stream" err
expect_exit 1 ft-eval --model m ppl p.tok
expect_in "p.tok: a preference-pair stream: ppl scores plain records" err
{ cat p.seg; echo '{"segments":[{"text":"hi","train":true}]}'; } >mixed.seg
expect_exit 1 ft-tokenize --tokenizer m mixed.seg -o mixed.tok
expect_in "mixed.seg:4: a plain record among preference pairs" err
[ ! -e mixed.tok ] || fail "a failed ft-tokenize left its output"
exit 0
