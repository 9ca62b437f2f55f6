# pipelines/curate.sh (parallel --pipe --tee + ft-filter --shard == unsharded curation as a
# multiset), sweep.sh (parallel grid, jq table) and refresh.sh (retrains only on changed data).
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
# curate: 4 shards give the same records as one unsharded run
cat "$FT_ROOT/examples/domain/corpus.jsonl" "$FT_ROOT/examples/domain/corpus.jsonl" >big.jsonl
SHARDS=4 FT="$FT_BIN/" "$FT_ROOT/pipelines/curate.sh" big.jsonl sharded.jsonl --dedup exact --quality 2>curate.err
ft-filter --dedup exact --quality -o whole.jsonl big.jsonl
[ "$(sort sharded.jsonl | sha256sum)" = "$(sort whole.jsonl | sha256sum)" ] || fail "sharded curation differs"
[ "$(wc -l <whole.jsonl)" -lt 300 ] || fail "exact dedup did not drop the duplicated half"
# sweep: a 2 x 2 grid on a tiny model, one row per cell, sorted by eval_loss
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --vocab 300 --seed 2
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 40
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 2 8
LRS="1e-3 1e-2" RANKS="2 4" STEPS=3 FT="$FT_BIN/" "$FT_ROOT/pipelines/sweep.sh" tiny train.tok val.tok sw --seq-len 64 >table
[ "$(wc -l <sw/results.jsonl)" = 4 ] || { cat table; fail "sweep did not produce 4 results"; }
head -1 table | grep -q eval_loss || fail "no table header"
jq -s -e 'map(.eval_loss) as $l | $l == ($l | sort)' <(tail -n +2 table | awk '{print "{\"eval_loss\":" $4 "}"}') >/dev/null \
  || fail "table not sorted by eval_loss"
# refresh: same data twice -> the second run trains nothing
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf t2 --gguf t2.gguf --gguf-type f32 --hidden 32 --intermediate 64 \
  --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seed 5
head -20 "$FT_ROOT/examples/json-extract/train.jsonl" >d.jsonl
head -2 "$FT_ROOT/examples/json-extract/eval.jsonl" >e.jsonl
env MODEL="$PWD/t2.gguf" DATA="$PWD/d.jsonl" EVAL="$PWD/e.jsonl" OUT="$PWD/r" FT="$FT_BIN/" STEPS=2 SEQ_LEN=128 \
  MAX_NEW=2 MIN_GAIN= MAX_REGRESSION= NGRAM=64 GENERAL="$FT_ROOT/examples/general/general.jsonl" \
  "$FT_ROOT/pipelines/refresh.sh" >r1 2>&1 || { cat r1; fail "first refresh failed"; }
[ -L r/latest ] || fail "no latest link"
env MODEL="$PWD/t2.gguf" DATA="$PWD/d.jsonl" OUT="$PWD/r" "$FT_ROOT/pipelines/refresh.sh" >r2 2>&1
expect_in "nothing to train" r2
[ "$(ls -d r/run-* | wc -l)" = 1 ] || fail "unchanged data was trained again"
