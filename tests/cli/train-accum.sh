# Gradient accumulation takes the mean over all target tokens of the step: the same rows split
# as 1x4, 2x2, 4x1 micro-batches (or --batch-tokens) give the same per-step losses and grad
# norms (to float rounding) and nearly the same weights; --no-pack trains too.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --vocab 300 --seed 6
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 7 120
common=(--model tiny --data train.tok --method full --seq-len 64 --max-steps 4 --lr 1e-3 -q)
ft-train "${common[@]}" --batch 4 --grad-accum 1 -o a --log a.jsonl
ft-train "${common[@]}" --batch 2 --grad-accum 2 -o b --log b.jsonl
ft-train "${common[@]}" --batch 1 --batch-tokens 256 -o c --log c.jsonl
ft-train "${common[@]}" --batch 4 --no-pack -o d --log d.jsonl
"$FT_PY" - <<'PY'
import json
def rows(p):
    return [(j["loss"], j["grad_norm"]) for j in map(json.loads, open(p))]
a, b, c, d = rows("a.jsonl"), rows("b.jsonl"), rows("c.jsonl"), rows("d.jsonl")
assert len(a) == len(b) == len(c) == len(d) == 4
for x, y, z in zip(a, b, c):
    for i in range(2):
        assert abs(x[i] - y[i]) <= 1e-5 * abs(x[i]) and abs(x[i] - z[i]) <= 1e-5 * abs(x[i]), (x, y, z)
# unpacked rows hold fewer tokens per step: a different (but finite, decreasing) run
assert d[-1][0] < d[0][0], d
PY
