# make demo's pipeline (pipelines/sft.mk) end to end on a tiny random GGUF model: every stage
# runs (template, tokenize, filter, train, merge, generate, score, ppl, compare), no network.
# The model is random, so no gain is expected: gates are off here; the real run is `make demo`.
# Its byte-level toy tokenizer makes 13 tokens only 13 characters (the shared instruction), so
# decontamination uses 64-token n-grams here.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --gguf tiny.gguf --gguf-type f32 --hidden 32 \
  --intermediate 64 --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seed 5
head -40 "$FT_ROOT/examples/json-extract/train.jsonl" >train.jsonl
head -4 "$FT_ROOT/examples/json-extract/eval.jsonl" >eval.jsonl
head -2 "$FT_ROOT/examples/general/general.jsonl" >general.jsonl
make -s -C "$FT_ROOT" -f pipelines/sft.mk FT="$FT_BIN/" MODEL="$PWD/tiny.gguf" OUT="$PWD/out" DATA="$PWD/train.jsonl" \
  EVAL="$PWD/eval.jsonl" GENERAL="$PWD/general.jsonl" STEPS=3 SEQ_LEN=128 MAX_NEW=4 MIN_GAIN= MAX_REGRESSION= NGRAM=64 \
  TRAIN_FLAGS=-q >log 2>&1 || { cat log; fail "pipeline failed"; }
for f in train.tok val.tok filter.json adapter/adapter_model.safetensors merged.gguf base.gen.jsonl tuned.gen.jsonl \
         base.score.json tuned.score.json base.ppl.json tuned.ppl.json train.log.jsonl report.html report.md; do
  [ -s out/$f ] || fail "stage output out/$f missing"
done
expect_in "== task" log
expect_in "== general text perplexity" log
# every eval record got an output and kept its reference
[ "$(jq -s 'map(select(has("output") and has("reference"))) | length' out/tuned.gen.jsonl)" = 4 ] || fail "generate lost records"
# re-running is a no-op for the stages (Make dependencies): no tool but compare runs again
make -C "$FT_ROOT" -f pipelines/sft.mk FT="$FT_BIN/" MODEL="$PWD/tiny.gguf" OUT="$PWD/out" DATA="$PWD/train.jsonl" \
  EVAL="$PWD/eval.jsonl" GENERAL="$PWD/general.jsonl" STEPS=3 SEQ_LEN=128 MAX_NEW=4 MIN_GAIN= MAX_REGRESSION= NGRAM=64 -n >dry 2>&1
grep -E 'ft-(template|tokenize|filter|train|merge) |ft-eval --model|ft-eval score' dry && fail "up-to-date stages would run again"
true
