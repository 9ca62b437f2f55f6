# Strict types in every JSON config ft reads (issue #17): a value of the wrong type in
# adapter_config.json (LoRA, bottleneck, prompt tuning), config.json or a --config file is an
# error (exit 1) naming the file, the key and the expected type -- never used silently (a string
# "16" for lora_alpha used to load as PEFT's default 8). What PEFT and transformers write
# (null for unset keys, integral reals such as 16.0, eos_token_id lists, rope_scaling null)
# still loads, with the same result as the plain form.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 20
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 2 10
# set DIR/FILE JSON: a copy of DIR as ./x with the keys of JSON (an object) replaced in FILE
set_keys() {
  rm -rf x && cp -r "$1" x
  "$FT_PY" - "x/$2" "$3" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c.update(json.loads(sys.argv[2])); json.dump(c, open(sys.argv[1], "w"))
PY
}
# bad DIR FILE JSON MESSAGE [CMD...]: after set_keys, CMD (default ft-eval ppl with adapter x) exits 1 with MESSAGE
bad() {
  local dir=$1 file=$2 js=$3 msg=$4
  shift 4
  set_keys "$dir" "$file" "$js"
  if [ $# -eq 0 ]; then set -- ft-eval --model tiny --adapter x ppl val.tok; fi
  expect_exit 1 "$@"
  expect_in "$msg" err
}
loss() { "$FT_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["loss"])' "$1"; }

# ---- LoRA adapter_config.json
ft-train --model tiny --data train.tok -o lora --max-steps 3 --lr 1e-2 -q
ft-eval --model tiny --adapter lora ppl val.tok >want.json
bad lora adapter_config.json '{"lora_alpha": "16"}' 'x/adapter_config.json: key "lora_alpha": expected a number, got a string ("16")'
bad lora adapter_config.json '{"r": 8.5}' 'x/adapter_config.json: key "r": expected an integer, got a number (8.5)'
bad lora adapter_config.json '{"r": "8"}' 'key "r": expected an integer, got a string'
bad lora adapter_config.json '{"target_modules": 5}' 'x/adapter_config.json: key "target_modules": expected a list of module names or a string, got an integer (5)'
bad lora adapter_config.json '{"target_modules": ["q_proj", 7]}' 'key "target_modules[1]": expected a string'
bad lora adapter_config.json '{"use_dora": "false"}' 'x/adapter_config.json: key "use_dora": expected true or false, got a string'
bad lora adapter_config.json '{"use_rslora": 0}' 'key "use_rslora": expected true or false, got an integer (0)'
bad lora adapter_config.json '{"lora_dropout": [0.1]}' 'key "lora_dropout": expected a number, got an array of 1'
bad lora adapter_config.json '{"peft_type": 1}' 'key "peft_type": expected a string, got an integer (1)'
bad lora adapter_config.json '{"use_dora": "true"}' 'key "use_dora": expected true or false' ft-merge --model tiny --adapter x -o merged
[ ! -e merged ] || fail "ft-merge left output behind"
# the same values as PEFT may write them load with the same result
for js in '{"r": 8.0}' '{"lora_alpha": 16}' '{"lora_dropout": null, "layers_to_transform": null, "alpha_pattern": {}}' \
          '{"target_modules": ["v_proj", "o_proj", "k_proj", "q_proj", "lm_head_nonexistent"]}' \
          '{"target_modules": ".*\\.(q|k|v|o)_proj"}' '{"target_modules": null}'; do
  set_keys lora adapter_config.json "$js"
  ft-eval --model tiny --adapter x ppl val.tok >got.json || fail "$js refused"
  [ "$(loss got.json)" = "$(loss want.json)" ] || fail "$js: loss $(loss got.json), want $(loss want.json)"
done
# ... and a different lora_alpha really changes the result (the key is read, not ignored)
set_keys lora adapter_config.json '{"lora_alpha": 32}'
ft-eval --model tiny --adapter x ppl val.tok >got.json
[ "$(loss got.json)" != "$(loss want.json)" ] || fail "lora_alpha 32 gave the loss of lora_alpha 16"

# ---- target_modules against the model (PEFT: an error when it names nothing)
bad lora adapter_config.json '{"target_modules": ["nonexistent"]}' 'x/adapter_config.json: target_modules ["nonexistent"] names no module of the model (its linears: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj'
bad lora adapter_config.json '{"target_modules": "q_proj"}' 'target_modules "q_proj" names no module of the model'
bad lora adapter_config.json '{"target_modules": ["q_proj", "v_proj"]}' 'x/adapter_model.safetensors: tensor base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight is for a module that target_modules in x/adapter_config.json does not name'
bad lora adapter_config.json '{"target_modules": "(unclosed"}' 'key "target_modules": the string "(unclosed" is a regular expression'

# ---- bottleneck and prompt-tuning adapter_config.json
ft-train --model tiny --data train.tok -o bn --method adapter --adapter-dim 4 --max-steps 1 -q
bad bn adapter_config.json '{"adapter_dim": "4"}' 'x/adapter_config.json: key "adapter_dim": expected an integer, got a string ("4")'
bad bn adapter_config.json '{"adapter_where": ["attn", 2]}' 'key "adapter_where[1]": expected a string (attn or mlp), got an integer (2)'
bad bn adapter_config.json '{"adapter_act": true}' 'key "adapter_act": expected a string, got true'
bad bn adapter_config.json '{"hidden_size": 32.5}' 'key "hidden_size": expected an integer, got a number (32.5)'
ft-train --model tiny --data train.tok -o pt --method prompt --num-virtual-tokens 4 --max-steps 1 -q
bad pt adapter_config.json '{"num_virtual_tokens": "4"}' 'x/adapter_config.json: key "num_virtual_tokens": expected an integer, got a string ("4")'
bad pt adapter_config.json '{"token_dim": "32"}' 'key "token_dim": expected an integer, got a string ("32")'
bad pt adapter_config.json '{"prompt_tuning_init": 1}' 'key "prompt_tuning_init": expected a string, got an integer (1)'

# ---- config.json
ft-eval --model tiny ppl val.tok >base.json
bad tiny config.json '{"hidden_size": "32"}' 'x/config.json: key "hidden_size": expected an integer, got a string ("32")' ft-eval --model x ppl val.tok
bad tiny config.json '{"rms_norm_eps": "1e-5"}' 'key "rms_norm_eps": expected a number, got a string' ft-eval --model x ppl val.tok
bad tiny config.json '{"tie_word_embeddings": "false"}' 'key "tie_word_embeddings": expected true or false' ft-eval --model x ppl val.tok
bad tiny config.json '{"eos_token_id": "2"}' 'key "eos_token_id": expected an integer or a list of integers, got a string' ft-eval --model x ppl val.tok
bad tiny config.json '{"eos_token_id": [2, "x"]}' 'key "eos_token_id[1]": expected an integer, got a string' ft-eval --model x ppl val.tok
bad tiny config.json '{"rope_scaling": "linear"}' 'key "rope_scaling": expected an object, got a string' ft-eval --model x ppl val.tok
bad tiny config.json '{"rope_scaling": {"rope_type": "linear", "factor": "2"}}' 'x/config.json: rope_scaling: key "factor": expected a number' ft-eval --model x ppl val.tok
bad tiny config.json '{"model_type": ["llama"]}' 'key "model_type": expected a string, got an array of 1' ft-eval --model x ppl val.tok
bad tiny config.json '{"num_hidden_layers": 1.5}' 'x/config.json: key "num_hidden_layers": expected an integer, got a number (1.5)' \
  ft-train --model x --data train.tok -o o -q
# transformers' own spellings load unchanged
for js in '{"rope_scaling": null, "head_dim": null, "bos_token_id": null}' '{"eos_token_id": [2, 7]}' \
          '{"num_key_value_heads": 2.0, "torch_dtype": "float32", "rope_scaling": {"rope_type": "default"}}'; do
  set_keys tiny config.json "$js"
  ft-eval --model x ppl val.tok >got.json || fail "config.json $js refused"
  [ "$(loss got.json)" = "$(loss base.json)" ] || fail "config.json $js changed the loss"
done

# ---- ft-train --config (and the train_config.json it writes, which must replay)
for js in '{"lr": "1e-3"}|key "lr": expected a number, got a string ("1e-3")' \
          '{"batch": 2.5}|key "batch": expected an integer, got a number (2.5)' \
          '{"no-pack": 1}|key "no-pack": expected true or false, got an integer (1)' \
          '{"method": ["lora"]}|key "method": expected a string, got an array of 1'; do
  echo "${js%%|*}" >cfg.json
  expect_exit 1 ft-train --config cfg.json --model tiny --data train.tok -o o
  expect_in "cfg.json: ${js#*|}" err
done
echo '{"batch": 2.0, "val": null, "max-steps": 1}' >cfg.json
ft-train --config cfg.json --model tiny --data train.tok -o o -q || fail "--config with 2.0 and null refused"
ft-train --config o/train_config.json -o o2 -q || fail "train_config.json does not replay"
cmp o/adapter_model.safetensors o2/adapter_model.safetensors || fail "train_config.json replay differs"
