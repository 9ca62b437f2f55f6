# ft-merge on a tiny random model against NumPy (tests/parity/merge_ref.py):
#  - merged f32 weights == W + sum_i w_i * scale_i * B_i A_i (LoRA and rsLoRA, two adapters weighted)
#  - merged model logits == base + adapter logits (ft-eval, f32 within 1e-4); the bf16 merge is the
#    exact round-to-nearest-even bf16 of the f32 merge
#  - GGUF export: metadata carried, tensors == the HF merge with Q/K permuted back, readable by gguf-py,
#    and ft's loader gives the same logits; llama.cpp LoRA adapter GGUF layout; errors leave nothing
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
ref="$FT_PY $FT_ROOT/tests/parity/merge_ref.py"
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --gguf tiny.gguf --gguf-type f32 --hidden 32 \
  --intermediate 64 --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seed 3
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 2 6
$ref make-adapter lora tiny 1 4 8 0 q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj
$ref make-adapter rs tiny 2 4 8 1 q_proj,v_proj,down_proj

# one adapter, f32 and bf16, LoRA and rsLoRA
for ad in lora rs; do
  ft-merge --model tiny --adapter $ad --dtype f32 -o m-$ad -q
  $ref expect-merge tiny m-$ad $ad 1
  ft-eval --model tiny --adapter $ad ppl --dump-logits want-$ad.f32 val.tok >/dev/null
  ft-eval --model m-$ad ppl --dump-logits got-$ad.f32 val.tok >/dev/null
  $ref logits-close want-$ad.f32 got-$ad.f32 300 1e-4
  ft-merge --model tiny --adapter $ad -o b-$ad -q            # bf16 default
  $ref bf16-of m-$ad b-$ad                                  # == RNE bf16 of the f32 merge
done

# two adapters with weights
ft-merge --model tiny --adapter lora --weight 0.7 --adapter rs --weight -0.3 --dtype f32 -o m2 -q
$ref expect-merge tiny m2 lora 0.7 rs -0.3

# sharding: tiny shard size gives several files plus an index, same weights
ft-merge --model tiny --adapter lora --dtype f32 --shard-size 20K -o shard -q
[ -f shard/model.safetensors.index.json ] || fail "no index for a sharded merge"
[ "$(ls shard/*.safetensors | wc -l)" -gt 1 ] || fail "not sharded"
$ref expect-merge tiny shard lora 1

# GGUF out of a GGUF base
ft-merge --model tiny.gguf --adapter lora --dtype f32 -o m.gguf -q
$ref gguf-matches m.gguf tiny.gguf m-lora
ft-eval --model m.gguf ppl --dump-logits gg.f32 val.tok >/dev/null
$ref logits-close want-lora.f32 gg.f32 300 1e-4
ft-merge --model tiny.gguf --adapter lora --dtype q8_0 -o q.gguf -q
"$FT_PY" -c "from gguf import GGUFReader; g = GGUFReader('q.gguf'); assert any(t.tensor_type.name == 'Q8_0' for t in g.tensors)"
# the tokenizer metadata gives the same ids
if command -v ft-tokenize >/dev/null; then
  printf '{"text": "the cat sat in the hat"}\n' >t.jsonl
  ft-tokenize --tokenizer tiny.gguf --jsonl t.jsonl >a.json
  ft-tokenize --tokenizer m.gguf --jsonl t.jsonl >b.json
  cmp -s a.json b.json || fail "merged GGUF tokenizes differently"
fi

# llama.cpp LoRA adapter GGUF (rsLoRA alpha rewritten)
ft-merge --model tiny --adapter rs --to-gguf-adapter -o rs.gguf -q
$ref gguf-adapter rs.gguf rs 4 2

# mismatches: nothing written
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf other --hidden 48 --intermediate 64 --layers 2 --vocab 300 --seed 1
expect_exit 1 ft-merge --model other --adapter lora -o bad -q
[ ! -e bad ] || fail "a failed merge left output behind"
ls -d bad.tmp* 2>/dev/null && fail "a failed merge left a temporary dir"
sed 's/"LORA"/"IA3"/' lora/adapter_config.json >x && mkdir -p ia3 && mv x ia3/adapter_config.json && cp lora/adapter_model.safetensors ia3/
expect_exit 1 ft-merge --model tiny --adapter ia3 -o bad
expect_in "peft_type" err
[ ! -e bad ] || fail "a failed merge left output behind"
expect_exit 1 ft-merge --model tiny --adapter lora -o m-lora
expect_in "not empty" err
true
