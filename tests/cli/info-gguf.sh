# ft-info on GGUF: a vocabulary + tensors file written by the Python gguf package is described
# exactly as GGUFReader sees it (every scalar metadata value, array types and counts, every
# tensor's name, type, shape, offset and size); then the shared gpt-2 vocabulary.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" - <<'PY' || fail "python reference failed"
import json, numpy as np
from gguf import GGUFWriter, GGUFReader, GGUFValueType as V
w = GGUFWriter("v.gguf", "llama")
toks = [f"tok{i}" for i in range(1000)] + ["caf\u00e9", "\u0120the"]
w.add_tokenizer_model("gpt2")
w.add_token_list(toks)
w.add_token_types([1] * len(toks))
w.add_uint32("llama.block_count", 2); w.add_float32("llama.rope.freq_base", 10000.0)
w.add_bool("tokenizer.ggml.add_bos_token", True); w.add_int64("t.neg", -5)
w.add_array("t.small", [1, 2, 3])
w.add_tensor("a.weight", np.arange(64, dtype=np.float32).reshape(2, 32))
w.add_tensor("b.weight", np.ones((3, 32), dtype=np.float16))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
r = GGUFReader("v.gguf")
want = {"metadata": {}, "tensors": []}
for f in r.fields.values():
    if f.name.startswith("GGUF."): continue
    if f.types[0] == V.ARRAY:
        want["metadata"][f.name] = {"elem_type": f.types[1].name.lower(), "count": len(f.data)}
    elif f.types[0] == V.STRING:
        want["metadata"][f.name] = bytes(f.parts[-1]).decode()
    else:
        want["metadata"][f.name] = f.parts[-1].tolist()[0]
for t in r.tensors:
    want["tensors"].append({"name": t.name, "dtype": t.tensor_type.name, "shape": [int(x) for x in t.shape],
                            "bytes": int(t.n_bytes), "offset": int(t.data_offset - r.data_offset)})
json.dump(want, open("want.json", "w"))
PY
expect_exit 0 ft-info v.gguf
"$FT_PY" - <<'PY' || fail "ft-info disagrees with GGUFReader"
import json
got = json.loads(open("out").read()); want = json.load(open("want.json"))
assert got["format"] == "gguf" and got["version"] == 3, got
m = got["metadata"]
for k, v in want["metadata"].items():
    if isinstance(v, dict):
        g = m[k]
        if isinstance(g, list): assert len(g) == v["count"], (k, g, v)
        else: assert g["elem_type"] == v["elem_type"] and g["count"] == v["count"], (k, g, v)
    else:
        assert m[k] == v, (k, m[k], v)
assert m["tokenizer.ggml.tokens"]["head"][:2] == ["tok0", "tok1"]
assert got["tensors"] == want["tensors"], (got["tensors"], want["tensors"])
assert len(m) == len(want["metadata"])
PY
# --all prints the token list whole
expect_exit 0 ft-info --all v.gguf
"$FT_PY" -c "import json; m=json.load(open('out'))['metadata']; t=m['tokenizer.ggml.tokens']; assert len(t)==1002 and t[-2:]==['caf\u00e9','\u0120the'], t[-2:]"

# the shared llama.cpp gpt-2 vocabulary (must show: tokenizer.ggml.model = gpt2 and the token count)
v="$FT_TESTDATA/tokenizer/ggml-vocab-gpt-2.gguf"
[ -f "$v" ] || skip "no $v"
if "$FT_PY" -c "import sys; from gguf import GGUFReader; GGUFReader(sys.argv[1])" "$v" 2>/dev/null; then
  expect_exit 0 ft-info "$v"
  "$FT_PY" -c "import json; m=json.load(open('out'))['metadata']; assert m['tokenizer.ggml.model']=='gpt2'; assert m['tokenizer.ggml.tokens']['count']==50257"
else
  # this copy was damaged in transit (bytes >= 0x80 replaced by U+FFFD; the Python reader rejects
  # it too): ft-info must refuse it cleanly, naming the file and the bad field
  expect_exit 1 ft-info "$v"
  expect_in "ft-info: $v: " err
  expect_in "remain" err
  echo "note: $v is damaged; the genuine file is checked when \$FT_CACHE/vocab has it" >&2
fi
g="${FT_CACHE:-$HOME/.cache/ft}/vocab/ggml-vocab-gpt-2.gguf"
if [ -f "$g" ]; then
  expect_exit 0 ft-info "$g"
  "$FT_PY" -c "import json; m=json.load(open('out'))['metadata']; assert m['tokenizer.ggml.model']=='gpt2'; assert m['tokenizer.ggml.tokens']['count']==50257, m['tokenizer.ggml.tokens']"
fi
