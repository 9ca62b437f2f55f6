# Zero-length FTOK records (valid: docs/formats.md) through every reader and writer, first
# record included: ft-filter passes them through byte for byte (with and without a mask, and
# through --shuffle, --dedup, --sample, --head, --split) and drops them by its length rules;
# ft-info counts them; ft-train skips them; ft-eval ppl scores a stream with them exactly as
# the same stream without them. Under `make check` (UBSan, halt_on_error) this caught a memset
# on a NULL mask buffer in the FTOK writer when the first record was empty (issue #17).
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
H="$FT_ROOT/tests/cli/filter-ftok.py"
printf '%s\n' '{"tokens":[]}' '{"tokens":[5,6,7],"mask":[0,1,1]}' '{"tokens":[]}' '{"tokens":[8,9,10,11,12,13,14,15,16]}' \
  >recs.jsonl
"$FT_PY" "$H" write m.tok --vocab 300 --mask <recs.jsonl
"$FT_PY" "$H" write p.tok --vocab 300 <recs.jsonl
for f in m.tok p.tok; do
  expect_exit 0 ft-filter "$f" -o "out-$f"
  cmp "$f" "out-$f" || fail "ft-filter changed $f"
  expect_exit 0 ft-filter --min-len 1 "$f" -o "long-$f"
  "$FT_PY" "$H" read "long-$f" >long.jsonl
  [ "$(wc -l <long.jsonl)" -eq 2 ] && ! grep -q '"tokens":\[\]' long.jsonl || { cat long.jsonl >&2; fail "--min-len 1 kept an empty record of $f"; }
  expect_exit 0 ft-filter --max-len 0 "$f" -o "empty-$f"
  "$FT_PY" "$H" read "empty-$f" >empty.jsonl
  [ "$(grep -c '^{"tokens":\[\]' empty.jsonl)" -eq 2 ] && [ "$(wc -l <empty.jsonl)" -eq 2 ] || fail "--max-len 0 of $f"
  for opt in "--shuffle --seed 3" "--dedup exact" "--dedup near" "--sample 3" "--head 1" "--truncate 2" "--min-trained 0"; do
    # shellcheck disable=SC2086
    expect_exit 0 ft-filter $opt "$f" -o o.tok
    "$FT_PY" "$H" read o.tok >/dev/null || fail "ft-filter $opt $f wrote a bad stream"
  done
  expect_exit 0 ft-filter --split val=0.5 --val-out v.tok "$f" -o t.tok
  "$FT_PY" "$H" read t.tok >t.jsonl && "$FT_PY" "$H" read v.tok >v.jsonl
  [ $(($(wc -l <t.jsonl) + $(wc -l <v.jsonl))) -eq 4 ] || fail "--split lost records of $f"
  cat "$f" "$f" >cat.tok
  expect_exit 0 ft-filter --dedup exact cat.tok -o dd.tok
  "$FT_PY" "$H" read dd.tok >dd.jsonl
  [ "$(wc -l <dd.jsonl)" -eq 3 ] || { cat dd.jsonl >&2; fail "exact dedup of $f twice: want the 3 distinct records"; }
done
expect_exit 0 ft-info m.tok
"$FT_PY" - <<'PY' || fail "ft-info counts of m.tok"
import json
j = json.load(open("out"))
assert (j["records"], j["tokens"], j["trained_tokens"]) == (4, 12, 11), j
assert j["length"]["min"] == 0 and j["length"]["max"] == 9, j
PY
# ft-train and ft-eval ppl: the empty records are skipped, nothing else changes
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" d.tok 1 6
"$FT_PY" - <<'PY'
import struct
d = open("d.tok", "rb").read()
empty = struct.pack("<II", 0, 0)          # n = 0, reserved; no tokens, no mask bytes
out, p, k = bytearray(d[:32]) + empty, 32, 0
while p < len(d):
    n = struct.unpack_from("<I", d, p)[0]
    size = 8 + 4 * n + ((n + 7) // 8 + 3) // 4 * 4
    out += d[p:p + size]
    k += 1
    if k % 2 == 0: out += empty
    p += size
open("de.tok", "wb").write(bytes(out))
PY
expect_exit 0 ft-train --model tiny --data de.tok -o run --max-steps 2 --seq-len 32 --batch 2
expect_in "de.tok: 10 records; skipped 0 without target, 4 empty" err
expect_exit 0 ft-eval --model tiny ppl d.tok
cp out want.json
expect_exit 0 ft-eval --model tiny ppl de.tok
"$FT_PY" - <<'PY' || fail "ft-eval ppl: the empty records changed the result"
import json
a, b = json.load(open("want.json")), json.load(open("out"))
assert a["loss"] == b["loss"] and a["tokens"] == b["tokens"], (a, b)
PY
