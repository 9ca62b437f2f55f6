#!/usr/bin/env bash
# hf-from-gguf.sh — HF dirs that stand on their own (issue #21):
#  - ft-merge --format hf from a GGUF base writes config.json with "dtype" and "torch_dtype" =
#    the stored type (BF16 in the safetensors header), pad_token_id, generation_config.json with
#    the GGUF's BOS/EOS ids, tokenizer.json whose vocabulary is the GGUF's (token i = id i, read
#    with gguf-py) and that HF `tokenizers` runs to the ids ft-tokenize gives from the GGUF,
#    tokenizer_config.json with the GGUF's chat template and special tokens
#  - from an HF base (transformers 5's "dtype": "float32"), --dtype bf16 updates both keys
#  - ft-train --method full on the GGUF writes the same files
#  - adapters name their base for PEFT: an HF dir's absolute path; a GGUF base only in ft's
#    train_config.json (base_model_name_or_path null unless --base-name)
#  - the real model (SmolLM2 GGUF, when cached): the written tokenizer.json gives, with HF
#    `tokenizers`, the ids of the reference tokenizer.json (tokenize_parity.py from-gguf, as
#    SmolLM2's own: Digits + ByteLevel) on a corpus
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --gguf tiny.gguf --hidden 32 --intermediate 64 --layers 2 \
  --heads 4 --kv-heads 2 --vocab 300 --seed 3
"$FT_PY" "$FT_ROOT/tests/parity/lora_config_ref.py" make-adapter ad tiny 1 '{"r": 2, "lora_alpha": 4, "target_modules": ["q_proj"]}' >/dev/null
ft-merge --model tiny.gguf --adapter ad -o m -q || fail "ft-merge to hf from gguf"
printf '{"text": "the cat sat in the hat <|im_start|>user\\nhi<|im_end|>"}\n' >t.jsonl
ft-tokenize --tokenizer tiny.gguf --jsonl --no-add-bos --no-add-eos t.jsonl >ft.json || fail "ft-tokenize"
check_dir() {   # check_dir DIR DTYPE
  "$FT_PY" - "$1" "$2" <<'P'
import json, struct, sys
from gguf import GGUFReader
from tokenizers import Tokenizer
d, dtype = sys.argv[1], sys.argv[2]
c = json.load(open(f"{d}/config.json"))
assert c["dtype"] == dtype and c["torch_dtype"] == dtype, c
raw = open(f"{d}/model.safetensors", "rb").read(8 + 100000)
h = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])
st = {"bfloat16": "BF16", "float32": "F32", "float16": "F16"}[dtype]
assert all(v["dtype"] == st for k, v in h.items() if k != "__metadata__"), "stored dtype differs from config.json"
g = GGUFReader("tiny.gguf")
f = lambda k: g.fields[k].contents()
toks = f("tokenizer.ggml.tokens")
gen = json.load(open(f"{d}/generation_config.json"))
assert gen["eos_token_id"] == f("tokenizer.ggml.eos_token_id") and gen["bos_token_id"] == f("tokenizer.ggml.bos_token_id"), gen
t = Tokenizer.from_file(f"{d}/tokenizer.json")
assert t.get_vocab_size(with_added_tokens=True) == len(toks), (t.get_vocab_size(), len(toks))
bad = [i for i, s in enumerate(toks) if t.token_to_id(s) != i]
assert not bad, f"tokens whose id differs from the GGUF's: {bad[:5]}"
want = json.loads(open("ft.json").readline())["input_ids"]
got = t.encode(json.loads(open("t.jsonl").readline())["text"]).ids
assert got == want, (got, want)
tc = json.load(open(f"{d}/tokenizer_config.json"))
assert tc["chat_template"] == f("tokenizer.chat_template"), "chat template not carried"
assert tc["eos_token"] == toks[f("tokenizer.ggml.eos_token_id")] and tc["bos_token"] == toks[f("tokenizer.ggml.bos_token_id")], tc
print(f"{d}: {dtype}, {len(toks)} tokens with the GGUF's ids, {len(got)} ids as ft-tokenize, chat template, EOS {gen['eos_token_id']}")
P
}
check_dir m bfloat16 || fail "merged HF dir from the GGUF base"
ft-merge --model tiny.gguf --adapter ad --dtype f16 -o m16 -q
check_dir m16 float16 || fail "f16 merge"

# an HF base whose config.json says transformers 5's "dtype": "float32"
"$FT_PY" -c "import json; c=json.load(open('tiny/config.json')); c['dtype']='float32'; c['torch_dtype']='float32'; json.dump(c,open('tiny/config.json','w'))"
ft-merge --model tiny --adapter ad --dtype bf16 -o mh -q
"$FT_PY" -c "import json; c=json.load(open('mh/config.json')); assert c['dtype']=='bfloat16' and c['torch_dtype']=='bfloat16', c"

# full fine-tuning on the GGUF base
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 8
ft-train --model tiny.gguf --method full --data train.tok -o full --seq-len 32 --batch 4 --max-steps 1 2>train.err ||
  { cat train.err >&2; fail "ft-train --method full"; }
check_dir full float32 || fail "full fine-tune output from the GGUF base"

# the adapter's base, as PEFT reads it
ft-train --model tiny --data train.tok -o la --seq-len 32 --batch 4 --max-steps 1 2>/dev/null || fail "ft-train lora (hf)"
ft-train --model tiny.gguf --data train.tok -o lg --seq-len 32 --batch 4 --max-steps 1 2>/dev/null || fail "ft-train lora (gguf)"
"$FT_PY" - <<'P'
import json, os
a, g = (json.load(open(f"{d}/adapter_config.json")) for d in ("la", "lg"))
assert a["base_model_name_or_path"] == os.path.realpath("tiny"), a["base_model_name_or_path"]
assert g["base_model_name_or_path"] is None, g
assert json.load(open("lg/train_config.json"))["model"] == "tiny.gguf"   # the GGUF path: ft's own file only
P

# the real model's tokenizer
m=$(model_path) || true
if [ -n "$m" ] && [ -f "$m" ]; then
  H="$FT_ROOT/tests/parity/tokenize_parity.py"
  "$FT_PY" -c "
import json, os, numpy as np
from safetensors.numpy import save_file
os.makedirs('z', exist_ok=True)
save_file({'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': np.zeros((1, 576), np.float32),
           'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight': np.zeros((576, 1), np.float32)}, 'z/adapter_model.safetensors')
json.dump({'peft_type': 'LORA', 'r': 1, 'lora_alpha': 1, 'target_modules': ['q_proj']}, open('z/adapter_config.json', 'w'))"
  ft-merge --model "$m" --adapter z -o sm -q || fail "ft-merge of the real model"
  "$FT_PY" "$H" from-gguf "$m" ref 2>/dev/null || fail "cannot build the reference tokenizer.json"
  "$FT_PY" "$H" corpus corpus.jsonl 300
  "$FT_PY" "$H" encode sm/tokenizer.json corpus.jsonl mine.jsonl
  "$FT_PY" "$H" encode ref/tokenizer.json corpus.jsonl ref.jsonl
  cmp -s mine.jsonl ref.jsonl || fail "SmolLM2: the written tokenizer.json tokenizes differently from the reference"
  echo "SmolLM2: tokenizer.json from the GGUF gives the reference ids on $(wc -l <corpus.jsonl) records"
fi
true
