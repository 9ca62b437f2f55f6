# pipelines/dpo.mk end to end on a tiny random GGUF model: every stage runs (SFT on the chosen
# answers, merge, pairs through template/tokenize/filter, DPO from the SFT model with --val,
# generations of both models, score, compare), no network. The model is random: no gain is
# expected (the gate is off); the real run is documented in docs/methods.md.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --gguf tiny.gguf --gguf-type f32 --hidden 32 \
  --intermediate 64 --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seed 5
head -24 "$FT_ROOT/examples/preference/train.jsonl" >train.jsonl
head -4 "$FT_ROOT/examples/preference/heldout.jsonl" >heldout.jsonl
make -s -C "$FT_ROOT" -f pipelines/dpo.mk FT="$FT_BIN/" MODEL="$PWD/tiny.gguf" OUT="$PWD/out" PAIRS="$PWD/train.jsonl" \
  HELDOUT="$PWD/heldout.jsonl" SFT_STEPS=2 DPO_STEPS=3 SEQ_LEN=512 MAX_NEW=4 TRAIN_FLAGS=-q >log 2>&1 || { cat log; fail "pipeline failed"; }
for f in sft.tok pairs.tok pairs-val.tok sft/adapter_model.safetensors sft.gguf dpo/adapter_model.safetensors \
         sft.gen.jsonl dpo.gen.jsonl sft.score.json dpo.score.json dpo.log.jsonl; do
  [ -s out/$f ] || fail "stage output out/$f missing"
done
expect_in "== held-out pairs" log
expect_in "== held-out prompts" log
# DPO's first step: policy = reference (the SFT model), so ln 2 and zero rewards
head -1 out/dpo.log.jsonl | grep -q '"eval_loss": 0.693147' || fail "DPO step 0 eval is not ln 2"
[ "$(jq -s 'map(select(has("output") and has("reference"))) | length' out/dpo.gen.jsonl)" = 4 ] || fail "generate lost records"
true
