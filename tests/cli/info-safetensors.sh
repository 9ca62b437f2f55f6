# ft-info on safetensors (file, sharded index, directory) and on an HF model directory:
# tensors as the Python safetensors package reads them, config and tokenizer summary.
source "$FT_ROOT/tests/lib.sh"
need_py
mkdir -p model
"$FT_PY" - <<'PY' || fail "python failed"
import json, numpy as np
from safetensors.numpy import save_file
a = {"model.embed_tokens.weight": np.zeros((10, 4), np.float16), "model.norm.weight": np.ones(4, np.float32)}
b = {"lm_head.weight": np.zeros((10, 4), np.float16), "model.layers.0.self_attn.q_proj.weight": np.zeros((4, 4), np.float32),
     "scalar": np.array(3, np.int64)}
save_file(a, "model/model-00001-of-00002.safetensors", metadata={"format": "pt"})
save_file(b, "model/model-00002-of-00002.safetensors", metadata={"format": "pt"})
wm = {k: "model-00001-of-00002.safetensors" for k in a} | {k: "model-00002-of-00002.safetensors" for k in b}
json.dump({"metadata": {"total_size": 0}, "weight_map": wm}, open("model/model.safetensors.index.json", "w"))
json.dump({"architectures": ["LlamaForCausalLM"], "hidden_size": 4, "vocab_size": 10}, open("model/config.json", "w"))
json.dump({"model": {"type": "BPE", "vocab": {chr(97 + i): i for i in range(8)}, "merges": ["a b"]},
           "added_tokens": [{"id": 8, "content": "<s>", "special": True}, {"id": 9, "content": "</s>", "special": True}],
           "pre_tokenizer": {"type": "ByteLevel"}, "normalizer": None}, open("model/tokenizer.json", "w"))
json.dump({"bos_token": "<s>", "eos_token": {"content": "</s>"}, "chat_template": "{{x}}"}, open("model/tokenizer_config.json", "w"))
want = sorted([{"name": k, "dtype": {"float16": "F16", "float32": "F32", "int64": "I64"}[str(v.dtype)],
                "shape": list(v.shape), "bytes": v.nbytes} for k, v in (a | b).items()], key=lambda t: t["name"])
json.dump(want, open("want.json", "w"))
PY
check() {   # check JQPATH-ish: the tensor list in ./out (at key $1 or top level) equals want.json
  "$FT_PY" - "$1" <<'PY' || fail "tensor list differs"
import json, sys
got = json.loads(open("out").read()); want = json.load(open("want.json"))
t = got[sys.argv[1]] if sys.argv[1] else got
assert t["tensors"] == want, (t["tensors"], want)
assert t["n_tensors"] == 5 and t["files"] == 2 and t["metadata"] == {"format": "pt"}, t
assert t["params"] == 40 + 4 + 40 + 16 + 1
PY
}
expect_exit 0 ft-info model/model.safetensors.index.json
check ""
expect_exit 0 ft-info model
check weights
"$FT_PY" - <<'PY' || fail "model dir summary differs"
import json
o = json.loads(open("out").read())
assert o["format"] == "model-dir" and o["config"]["hidden_size"] == 4, o
t = o["tokenizer"]
assert t["model"] == "BPE" and t["vocab_size"] == 8 and t["merges"] == 1 and t["added_tokens"] == 2, t
assert t["special_tokens"] == ["<s>", "</s>"] and t["bos_token"] == "<s>" and t["eos_token"] == "</s>", t
assert t["chat_template"] is True and t["pre_tokenizer"] == "ByteLevel", t
PY
expect_exit 0 ft-info model/model-00002-of-00002.safetensors
"$FT_PY" -c "import json; o=json.load(open('out')); assert [t['name'] for t in o['tensors']]==['lm_head.weight','model.layers.0.self_attn.q_proj.weight','scalar'], o; assert o['tensors'][2]['shape']==[]"
# a shard that is missing, and a file that is no model at all
rm model/model-00002-of-00002.safetensors
expect_exit 1 ft-info model
expect_in "ft-info: model/model-00002-of-00002.safetensors: cannot open" err
echo "hello" > notes.txt
expect_exit 1 ft-info notes.txt
expect_in "ft-info: notes.txt: " err
mkdir empty
expect_exit 1 ft-info empty
expect_in "not a model directory" err
