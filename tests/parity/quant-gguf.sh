#!/usr/bin/env bash
# Dequantization parity: blocks of every supported ggml type with random contents, written
# into a GGUF by the Python `gguf` package, dequantized by ft (ft-info --dump) and by
# gguf.quants.dequantize; then the real model: the first rows of one tensor of each type it
# uses, and ft-info's metadata and tensor table against GGUFReader.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" - <<'PY' || fail "python reference failed"
import numpy as np, gguf
from gguf import GGUFWriter, GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
rng = np.random.default_rng(1234)
w = GGUFWriter("q.gguf", "llama")
def f16(shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape).astype(np.float16).view(np.uint8).reshape(shape + (2,))
# where each block keeps its f16 scales (offsets in bytes), so they are finite
scales = {"Q8_0": [0], "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q2_K": [80, 82],
          "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}
for name, offs in scales.items():
    t = T[name]; bk, bs = GGML_QUANT_SIZES[t]
    nb = 24
    raw = rng.integers(0, 256, (nb, bs), dtype=np.uint8)
    for o in offs: raw[:, o:o+2] = f16((nb,), 0.01, 1.0) if o else f16((nb,))
    raw = raw.reshape(3, nb // 3 * bs)      # 3 rows
    w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=t)
    np.save(name + ".npy", gguf.quants.dequantize(raw, t).astype(np.float32))
x = rng.normal(size=(4, 64)).astype(np.float32)
w.add_tensor("F32", x)
w.add_tensor("F16", x.astype(np.float16))
bf = (x.view(np.uint32) >> 16).astype(np.uint16)
w.add_tensor("BF16", bf.view(np.uint8).reshape(4, 128), raw_shape=(4, 128), raw_dtype=T.BF16)
np.save("F32.npy", x); np.save("F16.npy", x.astype(np.float16).astype(np.float32))
np.save("BF16.npy", (bf.astype(np.uint32) << 16).view(np.float32))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
PY
for t in Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q4_K Q5_K Q6_K F32 F16 BF16; do
  ft-info --dump "$t" -o "$t.f32" q.gguf || fail "ft-info --dump $t"
done
"$FT_PY" - <<'PY' || fail "dequantized values differ"
import numpy as np, sys
bad = 0
for t in "Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q4_K Q5_K Q6_K F32 F16 BF16".split():
    ref = np.load(t + ".npy").ravel(); got = np.fromfile(t + ".f32", dtype="<f4")
    if got.shape != ref.shape: print(t, "size", got.shape, ref.shape); bad += 1; continue
    # same float32 operations in the same order as gguf.quants: bit-identical
    err = np.abs(got - ref).max()
    print(f"{t}: {ref.size} values, max |diff| {err:.3g}")
    bad += not np.array_equal(got.view(np.uint32), ref.view(np.uint32))
sys.exit(bad)
PY
m=$(model_path) || true
[ -n "$m" ] && [ -f "$m" ] || { echo "real model absent: synthetic blocks only"; exit 0; }
# one pass of GGUFReader (slow on 49k-token vocabularies): names and reference values
"$FT_PY" - "$m" <<'PY' > names || fail "reading the model with gguf failed"
import sys, numpy as np, gguf
from gguf import GGUFReader
import json
from gguf import GGUFValueType as V
r = GGUFReader(sys.argv[1]); seen = set()
want = {"metadata": {}, "tensors": []}       # what ft-info must report for the model
for f in r.fields.values():
    if f.name.startswith("GGUF."): continue
    if f.types[0] == V.ARRAY: want["metadata"][f.name] = {"elem_type": f.types[1].name.lower(), "count": len(f.data)}
    elif f.types[0] == V.STRING: want["metadata"][f.name] = bytes(f.parts[-1]).decode()
    else: want["metadata"][f.name] = f.parts[-1].tolist()[0]
for t in r.tensors:
    want["tensors"].append({"name": t.name, "dtype": t.tensor_type.name, "shape": [int(x) for x in t.shape],
                            "bytes": int(t.n_bytes), "offset": int(t.data_offset - r.data_offset)})
json.dump(want, open("model-want.json", "w"))
for t in r.tensors:
    if t.tensor_type.name in seen: continue
    seen.add(t.tensor_type.name); print(t.name, t.tensor_type.name)
    rows = t.data[:256]                       # the first 256 rows keep the reference fast
    np.save(t.name + ".ref.npy", gguf.quants.dequantize(rows, t.tensor_type).astype(np.float32).ravel())
PY
while read -r name type; do
  ft-info --dump "$name" -o "$name.f32" "$m" || fail "ft-info --dump $name"
done < names
"$FT_PY" - <<'PY' || fail "real-model tensors differ"
import numpy as np, sys
bad = 0
for line in open("names"):
    name, typ = line.split()
    ref = np.load(name + ".ref.npy"); got = np.fromfile(name + ".f32", dtype="<f4", count=ref.size)
    same = got.shape == ref.shape and np.array_equal(got.view(np.uint32), ref.view(np.uint32))
    print(f"{name} {typ}: {ref.size} values, bit-identical {same}")
    bad += not same
sys.exit(bad)
PY
ft-info "$m" > model-got.json || fail "ft-info on the model failed"
"$FT_PY" - <<'PY' || fail "ft-info disagrees with GGUFReader on the model"
import json
got = json.load(open("model-got.json")); want = json.load(open("model-want.json"))
m = got["metadata"]
assert len(m) == len(want["metadata"]), (sorted(m), sorted(want["metadata"]))
for k, v in want["metadata"].items():
    g = m[k]
    if isinstance(v, dict):
        n = len(g) if isinstance(g, list) else g["count"]
        assert n == v["count"], (k, g, v)
    elif isinstance(v, float): assert abs(g - v) <= 1e-7 * abs(v), (k, g, v)
    else: assert g == v, (k, g, v)
assert got["tensors"] == want["tensors"]
print(f"model: {len(m)} metadata keys and {len(want['tensors'])} tensors as GGUFReader reads them")
PY
