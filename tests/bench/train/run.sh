#!/usr/bin/env bash
# tests/bench/train/run.sh — ft-train throughput: training tokens/s, peak RSS and achieved
# GFLOP/s against this machine's measured sgemm peak (same thread count), for full
# fine-tuning (6·N·tokens, N = parameters in matmuls incl. the LM head) and LoRA (the real
# count: forward 2·N, backward through the frozen base 2·N, plus the adapters' own products).
#   tests/bench/train/run.sh [--real] [--steps N] [--threads N]
#     --real: SmolLM2-135M-Instruct (make -s model-path) instead of a generated 4-layer model
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
steps=6 real=0 threads=${OMP_NUM_THREADS:-$(nproc)}
while [ $# -gt 0 ]; do
  case "$1" in
    --real) real=1;; --steps) steps=$2; shift;; --threads) threads=$2; shift;;
    *) echo "usage: $0 [--real] [--steps N] [--threads N]" >&2; exit 2;;
  esac; shift
done
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
py=$root/.venv/bin/python
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/sgemm" "$root/tests/bench/train/sgemm_peak.c" -lopenblas
peak=$("$work/sgemm" 1024 5)   # measured again after the runs: the larger counts (shared machines vary)
if [ $real = 1 ]; then
  model=$("$root/scripts/model.sh" path)
  [ -f "$model" ] || { echo "no SmolLM2 model cached (make model)" >&2; exit 77; }
  seq=256 batch=2
else
  "$py" "$root/tests/tools/make_tiny_model.py" --hf "$work/m" --hidden 512 --intermediate 1536 --layers 4 \
    --heads 8 --kv-heads 4 --vocab 8000 --seed 1 >/dev/null
  model=$work/m seq=256 batch=4
fi
"$py" - "$work/d.tok" <<'PY'
import random, struct, sys
r = random.Random(0)
with open(sys.argv[1], "wb") as f:
    f.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 0, 8000, 0, 0, 0))
    for _ in range(400):
        n = r.randint(60, 120)
        f.write(struct.pack("<II", n, 0) + struct.pack("<%dI" % n, *[r.randint(3, 7999) for _ in range(n)]))
PY
for method in lora full; do
  /usr/bin/time -f '%M' -o "$work/rss-$method" "$root/bin/ft-train" --model "$model" --data "$work/d.tok" --method $method \
    --lora-targets all-linear --lora-r 16 --seq-len $seq --batch $batch --max-steps "$steps" --log "$work/$method.jsonl" \
    -o "$work/out-$method" -q
done
peak2=$("$work/sgemm" 1024 5)
peak=$(awk -v a="$peak" -v b="$peak2" 'BEGIN { print (a > b) ? a : b }')
echo "sgemm peak (1024^3, $threads threads): $peak GFLOP/s"
printf '%-6s %10s %10s %12s %8s %10s\n' method tokens/s GFLOP/s "% of sgemm" "RSS MB" "s/step"
for method in lora full; do
  cp "$work/rss-$method" "$work/rss"
  "$py" - "$work/$method.jsonl" "$model" "$method" "$peak" "$(cat "$work/rss")" <<'PY'
import json, os, sys
log, model, method, peak, rss = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
rows = [json.loads(l) for l in open(log)][1:] or [json.loads(l) for l in open(log)]   # first step warms up
tps = sum(r["tokens_per_s"] for r in rows) / len(rows)
if os.path.isdir(model):
    c = json.load(open(os.path.join(model, "config.json")))
    C, F, L, V = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"], c["vocab_size"]
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
else:   # SmolLM2-135M
    C, F, L, V, H, KV = 576, 1536, 30, 49152, 9, 3
D = C // H
lin = [(C, H * D), (C, KV * D), (C, KV * D), (H * D, C), (C, F), (C, F), (F, C)]   # (in, out)
n_mm = L * sum(i * o for i, o in lin) + V * C
r = 16
if method == "full":
    flops = 6 * n_mm
else:   # forward 2N + dx through the base 2N; adapters: forward, recompute x@A^T, dB, du, dA, dx
    flops = 4 * n_mm + L * sum(2 * r * (i + o) + 2 * r * i + 2 * r * o + 2 * r * o + 2 * r * i + 2 * r * i for i, o in lin)
g = flops * tps / 1e9
print("%-6s %10.1f %10.2f %11.1f%% %8.0f %10.2f" % (method, tps, g, 100 * g / peak, rss / 1024,
      sum(x["elapsed_s"] for x in rows[-1:]) / max(1, rows[-1]["step"])))
PY
done
