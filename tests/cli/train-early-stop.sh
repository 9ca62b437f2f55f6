# --early-stop: training on one task while validating on another stops once eval_loss has not
# improved for N evaluations, and the written adapter is the best one (ft-eval's loss on the
# validation set equals the best eval_loss of the log).
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 200 --task reverse
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 5 40 --task copy
ft-train --model tiny --data train.tok --val val.tok --method lora --lora-targets all-linear -o out --seq-len 64 \
  --batch 4 --epochs 5 --lr 2e-2 --eval-every 3 --early-stop 2 --log log.jsonl -v 2>err
expect_in "early stop" err
ft-eval --model tiny --adapter out ppl val.tok >best.json
"$FT_PY" - <<'PY'
import json
log = [json.loads(l) for l in open("log.jsonl")]
ev = [(j["step"], j["eval_loss"]) for j in log if "eval_loss" in j]
steps = [j["step"] for j in log if "loss" in j]
best = min(ev, key=lambda e: e[1])
assert steps[-1] < 5 * 10, "did not stop early"
assert all(e[1] >= best[1] for e in ev[-2:]) and ev[-1][0] - best[0] == 6, (ev, best)
got = json.load(open("best.json"))["loss"]
assert abs(got - best[1]) < 1e-5, (got, best)
PY
