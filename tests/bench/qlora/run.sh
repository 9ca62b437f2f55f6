#!/usr/bin/env bash
# tests/bench/qlora/run.sh — QLoRA vs LoRA on SmolLM2-135M-Instruct (make -s model-path) with
# identical settings: peak RSS of each ft-train run (GNU time), their ratio, s/step, the frozen
# NF4 base's bytes/param (nf4_bytes.c), and eval loss of the base as f32 and as NF4 and after
# training. Not part of make test (minutes on a shared CPU).
#   tests/bench/qlora/run.sh [--steps N] [--seq-len T] [--batch B] [--threads N]
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
steps=4 seq=256 batch=4 threads=${OMP_NUM_THREADS:-1}
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift;; --seq-len) seq=$2; shift;; --batch) batch=$2; shift;; --threads) threads=$2; shift;;
    *) echo "usage: $0 [--steps N] [--seq-len T] [--batch B] [--threads N]" >&2; exit 2;;
  esac; shift
done
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
model=$(make -s -C "$root" model-path)
[ -f "$model" ] || { echo "no SmolLM2 model cached (make model)" >&2; exit 77; }
[ -x /usr/bin/time ] && /usr/bin/time -f '%M' true 2>/dev/null || { echo "GNU time missing (apt-get install -y time)" >&2; exit 77; }
bin=$root/bin py=$root/.venv/bin/python
# nf4_bytes links build/libft.a as it is: bring it (and the tools) up to date first
make -s -C "$root" build/libft.a bin/ft-train bin/ft-eval bin/ft-template bin/ft-tokenize >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
head -40 "$root/examples/json-extract/train.jsonl" | "$bin/ft-template" -m "$model" |
  "$bin/ft-tokenize" --tokenizer "$model" -o "$work/d.tok"
cc -O2 -I"$root/lib" -I"$root/kernels" -o "$work/nf4_bytes" "$root/tests/bench/qlora/nf4_bytes.c" \
  "$root/build/libft.a" -ljansson -lzstd -lpcre2-8 -lutf8proc -lopenblas -fopenmp -lm
echo "model: $model ($threads threads; seq-len $seq, batch $batch, $steps steps)"
echo "frozen base for qlora: $("$work/nf4_bytes" "$model")"
for method in lora qlora; do
  /usr/bin/time -f '%M' -o "$work/rss-$method" "$bin/ft-train" --model "$model" --data "$work/d.tok" \
    --method $method --seq-len "$seq" --batch "$batch" --max-steps "$steps" --log "$work/$method.jsonl" \
    -o "$work/out-$method" -q
done
"$bin/ft-eval" --model "$model" ppl "$work/d.tok" >"$work/base-f32.json"
"$bin/ft-eval" --model "$model" --quantize nf4 ppl "$work/d.tok" >"$work/base-nf4.json"
"$bin/ft-eval" --model "$model" --adapter "$work/out-lora" ppl "$work/d.tok" >"$work/lora.json"
"$bin/ft-eval" --model "$model" --quantize nf4 --adapter "$work/out-qlora" ppl "$work/d.tok" >"$work/qlora.json"
"$py" - "$work" <<'PY'
import json, sys
w = sys.argv[1]
def sps(m):
    rows = [json.loads(l) for l in open(f"{w}/{m}.jsonl")]
    t = [r["elapsed_s"] for r in rows]
    return (t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else t[0]   # the first step warms up
rss = {m: int(open(f"{w}/rss-{m}").read().split()[-1]) / 1024 for m in ("lora", "qlora")}
loss = {k: json.load(open(f"{w}/{k}.json"))["loss"] for k in ("base-f32", "base-nf4", "lora", "qlora")}
print(f"{'method':8} {'peak RSS MB':>12} {'s/step':>8} {'base loss':>10} {'trained loss':>13}")
print(f"{'lora':8} {rss['lora']:12.0f} {sps('lora'):8.2f} {loss['base-f32']:10.4f} {loss['lora']:13.4f}")
print(f"{'qlora':8} {rss['qlora']:12.0f} {sps('qlora'):8.2f} {loss['base-nf4']:10.4f} {loss['qlora']:13.4f}")
print(f"peak RSS qlora/lora = {rss['qlora'] / rss['lora']:.3f} ({rss['lora'] - rss['qlora']:.0f} MB less)")
PY
