# --seq-len (ft-train) and --max-len (ft-eval ppl, generate) above the model's
# max_position_embeddings are accepted with a warning on stderr naming both numbers (issue #17);
# at the limit there is none. The limit is read here from the tiny model's config.json; prompt
# tuning's virtual tokens count against it.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 8
MP=$("$FT_PY" -c 'import json; print(json.load(open("tiny/config.json"))["max_position_embeddings"])')
[ "$MP" -gt 2 ] || fail "tiny model without max_position_embeddings"
expect_exit 0 ft-train --model tiny --data train.tok -o a --max-steps 1 --seq-len $((MP + 1)) -q
expect_in "ft-train: warning: --seq-len $((MP + 1)) is above the model's max_position_embeddings $MP" err
expect_exit 0 ft-train --model tiny --data train.tok -o b --max-steps 1 --seq-len "$MP"
! grep -q "warning" err || { cat err >&2; fail "a warning at --seq-len = max_position_embeddings"; }
expect_exit 0 ft-train --model tiny --data train.tok -o c --max-steps 1 --seq-len $((MP - 2)) --method prompt \
  --num-virtual-tokens 4 -q
expect_in "warning: --seq-len $((MP - 2)) (+ 4 virtual tokens) is above the model's max_position_embeddings $MP" err
expect_exit 0 ft-eval --model tiny ppl --max-len $((MP + 1)) train.tok
expect_in "ft-eval ppl: warning: --max-len $((MP + 1)) is above the model's max_position_embeddings $MP" err
expect_exit 0 ft-eval --model tiny ppl --max-len "$MP" train.tok
! grep -q "warning" err || { cat err >&2; fail "ft-eval ppl warned at --max-len = max_position_embeddings"; }
echo '{"prompt": "hello"}' >p.jsonl
expect_exit 0 ft-eval --model tiny generate --max-len $((MP * 2)) --max-new-tokens 1 p.jsonl
expect_in "ft-eval generate: warning: --max-len $((MP * 2)) is above the model's max_position_embeddings $MP" err
