# ft-merge refuses a PREFIX_TUNING adapter dir (exit 1, data error), naming the dir, saying why it
# cannot be folded into W and pointing at ft-eval --adapter; nothing is written.
. "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --heads 4 \
  --kv-heads 2 --vocab 300 --seed 1
mkdir ad
printf '{"peft_type": "PREFIX_TUNING", "task_type": "CAUSAL_LM", "num_virtual_tokens": 4, "token_dim": 32, "num_layers": 2, "prefix_projection": false}\n' >ad/adapter_config.json
expect_exit 1 ft-merge --model tiny --adapter ad -o merged
expect_in "ft-merge: ad: PREFIX_TUNING adapters are virtual tokens, not weights" err
expect_in "evaluate with ft-eval --adapter ad" err
[ ! -e merged ] || fail "a refused merge left output behind"
# also when it comes after a mergeable adapter, and for --to-gguf-adapter
"$FT_PY" "$FT_ROOT/tests/parity/merge_ref.py" make-adapter lora tiny 1 2 4 0 q_proj
expect_exit 1 ft-merge --model tiny --adapter lora --adapter ad -o merged
expect_in "ft-merge: ad: " err
[ ! -e merged ] || fail "a refused merge left output behind"
expect_exit 1 ft-merge --model tiny --adapter ad --to-gguf-adapter -o ad.gguf
expect_in "ft-merge: ad: " err
[ ! -e ad.gguf ] || fail "a refused conversion left output behind"
true
