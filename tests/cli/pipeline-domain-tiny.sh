# pipelines/domain.mk end to end on a tiny random model: curation (quality, near-dedup),
# tokenization, weighted mixing with general text, LoRA and full training, ppl before/after.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 \
  --heads 4 --kv-heads 2 --vocab 300 --seed 6
head -60 "$FT_ROOT/examples/domain/corpus.jsonl" >domain.jsonl
head -4 "$FT_ROOT/examples/domain/heldout.jsonl" >heldout.jsonl
for method in lora full; do
  make -s -C "$FT_ROOT" -f pipelines/domain.mk FT="$FT_BIN/" MODEL="$PWD/tiny" OUT="$PWD/$method" \
    DOMAIN="$PWD/domain.jsonl" HELDOUT="$PWD/heldout.jsonl" GENERAL="$FT_ROOT/examples/general/general.jsonl" \
    METHOD=$method STEPS=4 SEQ_LEN=128 LR=1e-2 MIN_GAIN= MAX_REGRESSION= TRAIN_FLAGS=-q >log-$method 2>&1 \
    || { cat log-$method; fail "domain pipeline ($method) failed"; }
  expect_in "== domain perplexity" log-$method
  # the mix holds both sources: more records than the cleaned domain docs alone
  d=$(ft-info $method/domain.tok | jq .records); t=$(ft-info $method/train.tok | jq .records)
  [ "$t" -gt 0 ] && [ "$d" -gt 0 ] || fail "empty streams ($d, $t)"
  jq -e '.dropped.quality >= 0' $method/curation.json >/dev/null || fail "no curation stats"
  # training on the domain lowered the held-out domain loss of this random model
  b=$(jq .loss $method/base.heldout.json); a=$(jq .loss $method/tuned.heldout.json)
  awk -v b="$b" -v a="$a" 'BEGIN { exit !(a < b) }' || fail "$method: held-out loss did not go down ($b -> $a)"
done
