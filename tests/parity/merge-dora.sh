# ft-merge of DoRA adapters (PEFT use_dora) on tiny random models against NumPy
# (tests/parity/dora_ref.py, written from PEFT's formulas):
#  - the adapter is written by NumPy in PEFT's layout (lora_magnitude_vector, use_dora true) with
#    B != 0 and mag != ||W||_row, so loading PEFT-written files is tested too;
#  - merged f32 weights == (mag / ||W + s B A||_row) * (W + s B A) (LoRA and rsLoRA scales; llama,
#    and qwen2 whose q/k/v biases must stay unchanged);
#  - ft-eval on base + adapter (the DoRA forward) == ft-eval on the merged model: logits within
#    1e-4 and the same perplexity; the GGUF route (GGUF base in, GGUF out) gives the same logits;
#  - a weighted DoRA merge and --to-gguf-adapter are refused with a reason, nothing written.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
ref="$FT_PY $FT_ROOT/tests/parity/dora_ref.py"
mk="$FT_PY $FT_ROOT/tests/tools/make_tiny_model.py"
$mk --hf tiny --gguf tiny.gguf --gguf-type f32 --hidden 32 --intermediate 64 --layers 2 --heads 4 --kv-heads 2 \
  --vocab 300 --seed 5
$mk --hf qwen --arch qwen2 --hidden 32 --intermediate 64 --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seed 6
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 2 6
$ref make-adapter dora tiny 1 4 8 0 q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj
$ref make-adapter dora-rs qwen 2 4 8 1 q_proj,k_proj,v_proj,down_proj
$ref forward-check tiny dora

for pair in tiny:dora qwen:dora-rs; do
  base=${pair%%:*} ad=${pair#*:}
  ft-merge --model $base --adapter $ad --dtype f32 -o m-$ad -q
  $ref expect-merge $base m-$ad $ad
  ft-eval --model $base --adapter $ad ppl --dump-logits want-$ad.f32 val.tok >want-$ad.json
  ft-eval --model m-$ad ppl --dump-logits got-$ad.f32 val.tok >got-$ad.json
  "$FT_PY" "$FT_ROOT/tests/parity/merge_ref.py" logits-close want-$ad.f32 got-$ad.f32 300 1e-4
  ft-eval --model $base ppl --dump-logits base-$ad.f32 val.tok >/dev/null
  cmp -s base-$ad.f32 want-$ad.f32 && fail "the DoRA adapter $ad did not change the logits"
  "$FT_PY" - want-$ad.json got-$ad.json <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
pa, pb = a.get("ppl", a.get("perplexity")), b.get("ppl", b.get("perplexity"))
assert pa is not None and abs(pa - pb) <= 1e-4 * pa, (pa, pb)
print(f"ppl base+adapter {pa:.6g}, merged {pb:.6g}")
PY
done

# GGUF base in, GGUF out: the same logits as base + adapter (Q/K rows permuted on the way in and out)
ft-merge --model tiny.gguf --adapter dora --dtype f32 -o m.gguf -q
ft-eval --model m.gguf ppl --dump-logits gg.f32 val.tok >/dev/null
"$FT_PY" "$FT_ROOT/tests/parity/merge_ref.py" logits-close want-dora.f32 gg.f32 300 1e-4

# refusals, nothing written
expect_exit 1 ft-merge --model tiny --adapter dora --weight 0.5 -o bad
expect_in "ft-merge: dora: a DoRA adapter merges only with weight 1 (got --weight 0.5)" err
[ ! -e bad ] || fail "a refused merge left output behind"
expect_exit 1 ft-merge --model tiny --adapter dora --to-gguf-adapter -o bad.gguf
expect_in "ft-merge: dora: a DoRA adapter (lora_magnitude_vector) cannot be written as a llama.cpp LoRA GGUF" err
[ ! -e bad.gguf ] || fail "a refused conversion left output behind"
true
