#!/usr/bin/env bash
# lora-config.sh — PEFT's per-module LoraConfig fields against a NumPy reference that applies
# PEFT's own rules (tests/parity/lora_config_ref.py: check_target_module_exists,
# get_pattern_key) to merge the adapter in float64; the merged model's logits come from
# model_ref.py's independent forward:
#  - rank_pattern + alpha_pattern + layers_to_transform/layers_pattern + exclude_modules
#    (llama, 3 layers): ft-eval --adapter, ft-merge to HF and GGUF, the llama.cpp adapter GGUF
#    (its B rescaled to the one alpha) all give the reference's logits / weights
#  - target_modules as a regex with alpha_pattern by full name
#  - lora_bias (qwen2: q/k/v have base biases): ft-eval --adapter and ft-merge; with o_proj (no
#    base bias) ft-eval still runs it and ft-merge refuses as PEFT does
#  - modules_to_save: the full copies replace the base's tensors (ft-eval, ft-merge); tied
#    embeddings are refused
#  - fields ft does not implement are refused by name (init_lora_weights pissa,
#    fan_in_fan_out, bias "all", layer_replication), and a wrong rank names rank_pattern
#  - ft-train --lora-rank-pattern/--lora-alpha-pattern/--lora-layers/--lora-bias/--lora-init
#    writes the PEFT fields, tensors of PEFT's shapes, and ft-eval of it equals the reference
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
ref="$FT_PY $FT_ROOT/tests/parity/lora_config_ref.py"
mref="$FT_PY $FT_ROOT/tests/parity/model_ref.py"
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf base --gguf base.gguf --hidden 32 --intermediate 64 --layers 3 \
  --heads 4 --kv-heads 2 --vocab 300 --seed 7
$mref write-ftok d.tok '[[5,17,99,200,3,4,250,251,10],[7,8,9,10,11,12]]'

# 1. patterns, layers, exclude
$ref make-adapter pat base 1 '{"r": 4, "lora_alpha": 8, "target_modules": ["q_proj","k_proj","v_proj","o_proj","gate_proj","up_proj","down_proj"],
  "rank_pattern": {"v_proj": 2, "model.layers.2.mlp.down_proj": 6}, "alpha_pattern": {"down_proj": 64, "q_proj": 3},
  "layers_to_transform": [0, 2], "layers_pattern": "layers", "exclude_modules": ["model.layers.2.self_attn.k_proj"]}'
$ref merge base pat ref-pat
ft-eval --model base --adapter pat ppl --dump-logits a.f32 d.tok >/dev/null || fail "ft-eval --adapter pat"
$mref compare ref-pat d.tok a.f32 1e-4 || fail "ft-eval --adapter: logits differ from PEFT's rules"
ft-eval --model base ppl --dump-logits b.f32 d.tok >/dev/null
$mref diff a.f32 b.f32 1e-2 && fail "the adapter changed nothing"
ft-merge --model base --adapter pat --dtype f32 -o m-pat -q || fail "ft-merge pat"
ft-eval --model m-pat ppl --dump-logits m.f32 d.tok >/dev/null
$mref compare ref-pat d.tok m.f32 1e-4 || fail "ft-merge (hf): logits differ from the reference"
ft-merge --model base.gguf --adapter pat --dtype f32 -o m-pat.gguf -q || fail "ft-merge pat to gguf"
ft-eval --model m-pat.gguf ppl --dump-logits g.f32 d.tok >/dev/null
$mref compare ref-pat d.tok g.f32 1e-4 || fail "ft-merge (gguf): logits differ from the reference"
# llama.cpp adapter: scale = adapter.lora.alpha / rank for every pair, so B carries the rest
ft-merge --model base --adapter pat --to-gguf-adapter -o pat.gguf -q || fail "to-gguf-adapter pat"
"$FT_PY" - <<'P'
import json, numpy as np
from gguf import GGUFReader
from safetensors.numpy import load_file
import sys; sys.path.insert(0, __import__("os").environ["FT_ROOT"] + "/tests/parity")
from lora_config_ref import r_alpha
g = GGUFReader("pat.gguf"); t = {x.name: np.array(x.data, dtype=np.float64) for x in g.tensors}
alpha = float(g.fields["adapter.lora.alpha"].contents())
c = json.load(open("pat/adapter_config.json")); ad = load_file("pat/adapter_model.safetensors")
names = {"self_attn.v_proj": "attn_v", "mlp.down_proj": "ffn_down", "mlp.up_proj": "ffn_up", "self_attn.o_proj": "attn_output"}
n = 0
for l in (0, 2):
    for mod, gn in names.items():
        name = f"model.layers.{l}.{mod}"
        r, _, s = r_alpha(c, name)
        A = ad[f"base_model.model.{name}.lora_A.weight"].astype(np.float64)
        B = ad[f"base_model.model.{name}.lora_B.weight"].astype(np.float64)
        a, b = t[f"blk.{l}.{gn}.weight.lora_a"].reshape(A.shape), t[f"blk.{l}.{gn}.weight.lora_b"].reshape(B.shape)
        d = np.abs(alpha / r * (b @ a) - s * (B @ A)).max()
        assert d < 1e-5 * max(1, np.abs(s * B @ A).max()), (name, d)
        n += 1
print(f"llama.cpp adapter: {n} modules give scale*B@A with alpha {alpha}")
P

# 2. target_modules regex, alpha_pattern by full name, rsLoRA
$ref make-adapter rx base 2 '{"r": 3, "lora_alpha": 5, "use_rslora": true, "target_modules": "model\\.layers\\.[01]\\.(self_attn\\.(q|v)_proj|mlp\\.up_proj)",
  "alpha_pattern": {"model.layers.1.self_attn.v_proj": 40}}'
$ref merge base rx ref-rx
ft-eval --model base --adapter rx ppl --dump-logits a.f32 d.tok >/dev/null || fail "ft-eval --adapter rx"
$mref compare ref-rx d.tok a.f32 1e-4 || fail "regex target_modules: logits differ"

# 3. lora_bias on a base with q/k/v biases
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf qb --arch qwen2 --hidden 32 --intermediate 64 --layers 2 \
  --heads 4 --kv-heads 2 --vocab 300 --seed 8
$ref make-adapter lb qb 3 '{"r": 2, "lora_alpha": 4, "lora_bias": true, "target_modules": ["q_proj", "k_proj", "v_proj"],
  "alpha_pattern": {"k_proj": 12}}'
$ref merge qb lb ref-lb
ft-eval --model qb --adapter lb ppl --dump-logits a.f32 d.tok >/dev/null || fail "ft-eval --adapter lb"
$mref compare ref-lb d.tok a.f32 1e-4 || fail "lora_bias: ft-eval logits differ"
ft-merge --model qb --adapter lb --dtype f32 -o m-lb -q || fail "ft-merge lora_bias"
ft-eval --model m-lb ppl --dump-logits m.f32 d.tok >/dev/null
$mref compare ref-lb d.tok m.f32 1e-4 || fail "lora_bias: merged logits differ"
$ref make-adapter lbo qb 4 '{"r": 2, "lora_alpha": 4, "lora_bias": true, "target_modules": ["q_proj", "o_proj"]}'
$ref merge qb lbo ref-lbo
ft-eval --model qb --adapter lbo ppl --dump-logits a.f32 d.tok >/dev/null || fail "ft-eval --adapter lbo"
$mref compare ref-lbo d.tok a.f32 1e-4 || fail "lora_bias on o_proj: ft-eval logits differ"
expect_exit 1 ft-merge --model qb --adapter lbo -o bad
expect_in "lora_bias" err
expect_in "o_proj" err
[ ! -e bad ] || fail "a refused merge left output"
expect_exit 1 ft-merge --model qb --adapter lb --to-gguf-adapter -o bad.gguf
expect_in "lora_bias" err

# 4. modules_to_save: PEFT's full copies (lm_head, the final norm, a layer's norm) replace the
#    base's tensors; a listed linear is not a LoRA target
$ref make-adapter ms base 5 '{"r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj"],
  "modules_to_save": ["lm_head", "model.norm", "layers.1.post_attention_layernorm", "model.layers.0.self_attn.v_proj"]}'
$ref merge base ms ref-ms
"$FT_PY" -c "from safetensors.numpy import load_file; t = load_file('ms/adapter_model.safetensors'); assert 'base_model.model.model.layers.0.self_attn.v_proj.weight' in t and 'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight' not in t"
ft-eval --model base --adapter ms ppl --dump-logits a.f32 d.tok >/dev/null || fail "ft-eval --adapter ms"
$mref compare ref-ms d.tok a.f32 1e-4 || fail "modules_to_save: ft-eval logits differ"
ft-merge --model base --adapter ms --dtype f32 -o m-ms -q || fail "ft-merge modules_to_save"
ft-eval --model m-ms ppl --dump-logits m.f32 d.tok >/dev/null
$mref compare ref-ms d.tok m.f32 1e-4 || fail "modules_to_save: merged logits differ"
expect_exit 1 ft-merge --model base --adapter ms --to-gguf-adapter -o bad.gguf
expect_in "modules_to_save" err
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tied --tie --hidden 32 --intermediate 64 --layers 2 --heads 4 \
  --kv-heads 2 --vocab 300 --seed 9
$ref make-adapter mt tied 6 '{"r": 2, "lora_alpha": 4, "target_modules": ["q_proj"], "modules_to_save": ["embed_tokens"]}'
expect_exit 1 ft-eval --model tied --adapter mt ppl d.tok
expect_in "tied" err

# 5. refused fields, each named
refuse() {   # refuse KEY JSON_VALUE
  rm -rf x && cp -r pat x
  "$FT_PY" -c "import json,sys; c=json.load(open('x/adapter_config.json')); c[sys.argv[1]]=json.loads(sys.argv[2]); json.dump(c,open('x/adapter_config.json','w'))" "$1" "$2"
  expect_exit 1 ft-eval --model base --adapter x ppl d.tok
  expect_in "\"$1\"" err
  expect_exit 1 ft-merge --model base --adapter x -o bad
  expect_in "\"$1\"" err
}
refuse init_lora_weights '"pissa"'
refuse init_lora_weights '"olora"'
refuse fan_in_fan_out true
refuse bias '"all"'
refuse layer_replication '[[0, 2]]'
rm -rf x && cp -r pat x
"$FT_PY" -c "import json; c=json.load(open('x/adapter_config.json')); c['rank_pattern']={}; json.dump(c,open('x/adapter_config.json','w'))"
expect_exit 1 ft-eval --model base --adapter x ppl d.tok
expect_in "rank_pattern" err
# gaussian init is only an initialization: read as it is
rm -rf x && cp -r pat x
"$FT_PY" -c "import json; c=json.load(open('x/adapter_config.json')); c['init_lora_weights']='gaussian'; json.dump(c,open('x/adapter_config.json','w'))"
ft-eval --model base --adapter x ppl --dump-logits x.f32 d.tok >/dev/null || fail "init_lora_weights gaussian refused"

# 6. ft-train writes the fields PEFT reads, and its adapter is what the reference makes of them
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 16
ft-train --model qb --data train.tok -o tr --seq-len 32 --batch 4 --max-steps 3 --lr 1e-2 --lora-targets all-linear \
  --lora-r 4 --lora-rank-pattern 'down_proj=2,model.layers.1.self_attn.q_proj=6' --lora-alpha-pattern 'v_proj=20' \
  --lora-layers 1 --lora-bias --base-name my/base 2>train.err || { cat train.err >&2; fail "ft-train"; }
"$FT_PY" - <<'P'
import json
c = json.load(open("tr/adapter_config.json"))
assert c["layers_to_transform"] == [1] and c["rank_pattern"] == {"down_proj": 2, "model.layers.1.self_attn.q_proj": 6}, c
assert c["alpha_pattern"] == {"v_proj": 20} and c["lora_bias"] is True and c["init_lora_weights"] is True, c
assert c["base_model_name_or_path"] == "my/base", c
P
$ref expect-shapes tr qb
# PEFT refuses lora_bias with a gaussian init: so does ft-train
expect_exit 1 ft-train --model qb --data train.tok -o tr2 --max-steps 1 --lora-bias --lora-init gaussian
expect_in "lora-init" err
ft-train --model qb --data train.tok -o tg --seq-len 32 --batch 4 --max-steps 1 --lora-init gaussian 2>/dev/null ||
  fail "ft-train --lora-init gaussian"
"$FT_PY" -c "import json; assert json.load(open('tg/adapter_config.json'))['init_lora_weights'] == 'gaussian'"
$ref merge qb tr ref-tr
ft-eval --model qb --adapter tr ppl --dump-logits a.f32 d.tok >/dev/null || fail "ft-eval of the trained adapter"
$mref compare ref-tr d.tok a.f32 1e-4 || fail "trained adapter: logits differ from the reference"
true
