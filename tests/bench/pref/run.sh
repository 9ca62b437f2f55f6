#!/usr/bin/env bash
# tests/bench/pref/run.sh — a DPO step against an SFT step of the same tokens: the same pairs
# as one preference stream (DPO: each step the reference forward with the adapter off, the
# policy forward with per-sequence log-probabilities, the backward) and as a plain stream of
# both sides as separate records (SFT), --no-pack so both see the same rows; tokens/s from the
# logs (the first step, a warm-up, dropped) and peak RSS by GNU time. Also DPO with
# --precompute-ref (no reference pass per step).
#   tests/bench/pref/run.sh [--real] [--steps N] [--threads N] [--method lora|full]
#     --real: SmolLM2-135M-Instruct (scripts/model.sh path) instead of a generated 4-layer model
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
steps=6 real=0 threads=${OMP_NUM_THREADS:-$(nproc)} method=lora
while [ $# -gt 0 ]; do
  case "$1" in
    --real) real=1;; --steps) steps=$2; shift;; --threads) threads=$2; shift;; --method) method=$2; shift;;
    *) echo "usage: $0 [--real] [--steps N] [--threads N] [--method lora|full]" >&2; exit 2;;
  esac; shift
done
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
py=$root/.venv/bin/python
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
if [ $real = 1 ]; then
  model=$("$root/scripts/model.sh" path)
  [ -f "$model" ] || { echo "no SmolLM2 model cached (make model)" >&2; exit 77; }
  V=49152
else
  "$py" "$root/tests/tools/make_tiny_model.py" --hf "$work/m" --hidden 512 --intermediate 1536 --layers 4 \
    --heads 8 --kv-heads 4 --vocab 8000 --seed 1 >/dev/null
  model=$work/m V=8000
fi
seq=128 pairs=2   # 2 pairs = 4 rows of 128 per micro-batch
"$py" - "$work" $V <<'PY'
import random, struct, sys
r, d, V = random.Random(0), sys.argv[1], int(sys.argv[2])
def bits(mask):
    nb = (len(mask) + 7) // 8
    b = bytearray((nb + 3) // 4 * 4)
    for i, m in enumerate(mask):
        if m: b[i // 8] |= 1 << (i % 8)
    return bytes(b)
with open(d + "/pairs.tok", "wb") as fp, open(d + "/sft.tok", "wb") as fs:
    fp.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 3, V, 0, 0, 0))
    fs.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 1, V, 0, 0, 0))
    for _ in range(200):
        prompt = [r.randint(3, V - 1) for _ in range(r.randint(40, 60))]
        sides = [prompt + [r.randint(3, V - 1) for _ in range(r.randint(40, 60))] for _ in range(2)]
        masks = [[0] * len(prompt) + [1] * (len(s) - len(prompt)) for s in sides]
        toks, mask = sides[0] + sides[1], masks[0] + masks[1]
        fp.write(struct.pack("<II", len(toks), len(sides[0])) + struct.pack(f"<{len(toks)}I", *toks) + bits(mask))
        for s, m in zip(sides, masks):
            fs.write(struct.pack("<II", len(s), 0) + struct.pack(f"<{len(s)}I", *s) + bits(m))
PY
common="--model $model --method $method --lora-targets all-linear --seq-len $seq --no-pack --no-shuffle --max-steps $steps -q"
run() {  # run NAME ARGS...
  local n=$1; shift
  /usr/bin/time -f '%M' -o "$work/rss-$n" "$root/bin/ft-train" $common "$@" --log "$work/$n.jsonl" -o "$work/out-$n"
}
run sft --data "$work/sft.tok" --batch $((2 * pairs))
run dpo --data "$work/pairs.tok" --objective dpo --batch $pairs
run dpo-pre --data "$work/pairs.tok" --objective dpo --batch $pairs --precompute-ref
echo "model: $([ $real = 1 ] && echo SmolLM2-135M-Instruct || echo 'generated 4 x 512, vocab 8000'), $method, $threads threads, rows of $seq, --no-pack, $((2 * pairs)) rows per step"
printf '%-26s %10s %10s %10s\n' run tokens/s s/step "RSS MB"
for n in sft dpo dpo-pre; do
  "$py" - "$work/$n.jsonl" "$(cat "$work/rss-$n")" "$n" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"loss"' in l]
rows = rows[1:] or rows
tps = sum(r["tokens_per_s"] for r in rows) / len(rows)
dt = (rows[-1]["elapsed_s"] - rows[0]["elapsed_s"]) / max(len(rows) - 1, 1)
name = {"sft": "sft", "dpo": "dpo (reference = adapter off)", "dpo-pre": "dpo --precompute-ref"}[sys.argv[3]]
print(f"{name:<26} {tps:10.1f} {dt:10.2f} {int(sys.argv[2]) / 1024:10.0f}")
PY
done
