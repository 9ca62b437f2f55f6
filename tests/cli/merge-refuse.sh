# ft-merge refuses adapter dirs that cannot be folded into W — BOTTLENECK, PROMPT_TUNING,
# PREFIX_TUNING — with exit 1 (data error), naming the dir, saying why and pointing at
# ft-eval --adapter; also after a mergeable adapter and for --to-gguf-adapter; nothing is written.
. "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --heads 4 \
  --kv-heads 2 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/parity/merge_ref.py" make-adapter lora tiny 1 2 4 0 q_proj

# refused DIR CONFIG_JSON REASON
refused() {
  mkdir "$1"
  printf '%s\n' "$2" >"$1/adapter_config.json"
  expect_exit 1 ft-merge --model tiny --adapter "$1" -o merged
  expect_in "ft-merge: $1: $3" err
  expect_in "evaluate with ft-eval --adapter $1" err
  [ ! -e merged ] || fail "a refused merge of $1 left output behind"
  expect_exit 1 ft-merge --model tiny --adapter lora --adapter "$1" -o merged
  expect_in "ft-merge: $1: " err
  [ ! -e merged ] || fail "a refused merge of lora + $1 left output behind"
  expect_exit 1 ft-merge --model tiny --adapter "$1" --to-gguf-adapter -o ad.gguf
  expect_in "ft-merge: $1: " err
  [ ! -e ad.gguf ] || fail "a refused conversion of $1 left output behind"
}
refused bn '{"peft_type": "BOTTLENECK", "task_type": "CAUSAL_LM", "adapter_dim": 8, "adapter_where": ["mlp"]}' \
  "bottleneck adapters add layers (down-projection, nonlinearity, up-projection) that cannot be folded into W"
refused prompt '{"peft_type": "PROMPT_TUNING", "task_type": "CAUSAL_LM", "num_virtual_tokens": 4, "token_dim": 32, "num_layers": 2}' \
  "PROMPT_TUNING adapters are virtual tokens, not weights"
refused prefix '{"peft_type": "PREFIX_TUNING", "task_type": "CAUSAL_LM", "num_virtual_tokens": 4, "token_dim": 32, "num_layers": 2, "prefix_projection": false}' \
  "PREFIX_TUNING adapters are virtual tokens, not weights"
