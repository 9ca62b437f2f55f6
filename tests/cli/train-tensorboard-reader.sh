# ft-train --tensorboard DIR read back by TensorBoard's own event reader (EventAccumulator of
# the `tensorboard` package, which checks the record CRCs): the same scalars at the same steps
# as the --log JSONL. Needs a venv with tensorboard (FT_TB_PY, default /work/venvs/tb/bin/python:
# python3 -m venv /work/venvs/tb && /work/venvs/tb/bin/pip install tensorboard); skips without.
. "$FT_ROOT/tests/lib.sh"
need_py
tbpy=${FT_TB_PY:-/work/venvs/tb/bin/python}
[ -x "$tbpy" ] && "$tbpy" -c 'import tensorboard' 2>/dev/null || skip "no tensorboard venv ($tbpy): see this test's header"
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 40
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 2 8
ft-train --model tiny --data train.tok --val val.tok -o run --max-steps 9 --eval-every 4 --lr 1e-2 --log log.jsonl \
  --tensorboard tb -q
"$tbpy" - <<'PY'
import json, struct
from tensorboard.backend.event_processing import event_accumulator
ea = event_accumulator.EventAccumulator("tb", size_guidance={event_accumulator.SCALARS: 0})
ea.Reload()
got = {(t, e.step): e.value for t in ea.Tags()["scalars"] for e in ea.Scalars(t)}
f32 = lambda v: struct.unpack("<f", struct.pack("<f", v))[0]
want = {}
for line in open("log.jsonl"):
    j = json.loads(line)
    for k, v in j.items():
        if k != "step": want[(k, j["step"])] = f32(v)
assert got == want, sorted(set(got) ^ set(want))[:10]
assert {"loss", "eval_loss", "lr", "grad_norm", "tokens_per_s"} <= set(ea.Tags()["scalars"])
print("tensorboard read", len(got), "scalars")
PY
