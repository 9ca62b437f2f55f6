# ft-train --tensorboard DIR: the event file holds the --log JSONL's scalars, same names, same
# steps, same values (as float32), read back by an independent decoder written here: a bitwise
# CRC-32C (checked against the published check value), TFRecord framing with masked CRCs, and
# the protobuf wire format of Event/Summary/Value. (train-tensorboard-reader.sh reads the same
# file with TensorBoard's own reader when its venv exists.)
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 40
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 2 8
ft-train --model tiny --data train.tok --val val.tok -o run --max-steps 7 --eval-every 3 --lr 1e-2 --log log.jsonl \
  --tensorboard tb/run1 -q
[ "$(ls tb/run1 | wc -l)" = 1 ] || fail "expected one event file in tb/run1"
ls tb/run1 | grep -qE '^events\.out\.tfevents\.[0-9]+\..+\.[0-9]+$' || fail "event file name: $(ls tb/run1)"
"$FT_PY" - tb/run1/* <<'PY'
import json, struct, sys
import numpy as np

def crc32c(data):   # bitwise, reflected Castagnoli polynomial
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF
assert crc32c(b"123456789") == 0xE3069283
def masked(c): return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF

def varint(b, i):
    v = s = 0
    while True:
        x = b[i]; i += 1; v |= (x & 0x7F) << s; s += 7
        if not x & 0x80: return v, i
def fields(b):   # protobuf wire format -> [(field, wire type, value)]
    i, out = 0, []
    while i < len(b):
        k, i = varint(b, i); f, wt = k >> 3, k & 7
        if wt == 0: v, i = varint(b, i)
        elif wt == 1: v = b[i:i + 8]; i += 8
        elif wt == 5: v = b[i:i + 4]; i += 4
        elif wt == 2: n, i = varint(b, i); v = b[i:i + n]; i += n
        else: raise ValueError(wt)
        out.append((f, wt, v))
    return out

data = open(sys.argv[1], "rb").read()
pos, events = 0, []
while pos < len(data):
    n, = struct.unpack("<Q", data[pos:pos + 8])
    assert struct.unpack("<I", data[pos + 8:pos + 12])[0] == masked(crc32c(data[pos:pos + 8])), "length crc"
    payload = data[pos + 12:pos + 12 + n]
    assert struct.unpack("<I", data[pos + 12 + n:pos + 16 + n])[0] == masked(crc32c(payload)), "data crc"
    pos += 16 + n
    events.append(fields(payload))
assert pos == len(data)
first = {f: v for f, wt, v in events[0]}
assert first[3] == b"brain.Event:2" and 2 not in first
scalars = {}   # (tag, step) -> value
walls = []
for ev in events[1:]:
    step, summ = 0, None
    for f, wt, v in ev:
        if f == 1: walls.append(struct.unpack("<d", v)[0])
        elif f == 2: step = v
        elif f == 5: summ = v
    for f, wt, v in fields(summ):
        assert f == 1 and wt == 2
        val = {g: w for g, _, w in fields(v)}
        scalars[(val[1].decode(), step)] = struct.unpack("<f", val[2])[0]
assert walls == sorted(walls) and len(walls) == len(events) - 1
want = {}
for line in open("log.jsonl"):
    j = json.loads(line)
    for k, v in j.items():
        if k != "step": want[(k, j["step"])] = float(np.float32(v))
assert scalars == want, (sorted(set(scalars) ^ set(want)), [(k, scalars.get(k), want[k]) for k in want if scalars.get(k) != want[k]][:5])
tags = {t for t, _ in want}
assert {"loss", "eval_loss", "lr", "grad_norm", "tokens_per_s"} <= tags, tags
assert sorted(s for t, s in want if t == "eval_loss") == [0, 3, 6, 7]
PY
# a DIR that cannot be made is refused before training
touch notadir
expect_exit 1 ft-train --model tiny --data train.tok -o out2 --max-steps 1 --tensorboard notadir/x -q
expect_in "notadir" err
[ ! -e out2 ] || fail "a refused --tensorboard left out2"
