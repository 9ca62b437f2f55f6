#!/usr/bin/env bash
# tests/bench/methods/run.sh — every ft-train method on SmolLM2-135M-Instruct (make -s model-path)
# on the same small task: json-extract SFT records (the first --train of
# examples/json-extract/train.jsonl), held-out loss on the first --eval records of eval.jsonl
# before (the base: f32, or NF4 for qlora) and after training, the trainable parameters and
# their fraction of the base (ft-train's log), peak RSS (GNU time) and s/step. Not part of
# make test (tens of minutes on a 2-core CPU).
#   tests/bench/methods/run.sh [--steps N] [--train N] [--eval N] [--threads N] [METHOD...]
# METHOD: full lora dora qlora prompt prefix prefix-mlp adapter (default: all)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
steps=20 ntrain=80 neval=40 threads=${OMP_NUM_THREADS:-2}
methods=()
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift;; --train) ntrain=$2; shift;; --eval) neval=$2; shift;; --threads) threads=$2; shift;;
    -*) echo "usage: $0 [--steps N] [--train N] [--eval N] [--threads N] [METHOD...]" >&2; exit 2;;
    *) methods+=("$1");;
  esac; shift
done
[ ${#methods[@]} -gt 0 ] || methods=(full lora dora qlora prompt prefix prefix-mlp adapter)
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads OMP_WAIT_POLICY=passive
model=$(make -s -C "$root" model-path)
[ -f "$model" ] || { echo "no SmolLM2 model cached (make model)" >&2; exit 77; }
[ -x /usr/bin/time ] && /usr/bin/time -f '%M' true 2>/dev/null || { echo "GNU time missing (apt-get install -y time)" >&2; exit 77; }
bin=$root/bin py=$root/.venv/bin/python
work=${FT_BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
ex=$root/examples/json-extract
head -"$ntrain" "$ex/train.jsonl" | "$bin/ft-template" -m "$model" | "$bin/ft-tokenize" --tokenizer "$model" -o "$work/train.tok"
head -"$neval" "$ex/eval.jsonl" | "$bin/ft-template" -m "$model" | "$bin/ft-tokenize" --tokenizer "$model" -o "$work/eval.tok"
echo "model: $model; $steps steps of 4 x 256 tokens on $ntrain records; eval on $neval held-out records; $threads threads"
"$bin/ft-eval" --model "$model" ppl "$work/eval.tok" >"$work/base-f32.json"
"$bin/ft-eval" --model "$model" --quantize nf4 ppl "$work/eval.tok" >"$work/base-nf4.json"
common=(--model "$model" --data "$work/train.tok" --seq-len 256 --batch 4 --max-steps "$steps" --warmup 2 --seed 1)
for m in "${methods[@]}"; do
  eval_flags=() base=base-f32
  case $m in
    full) flags=(--method full --lr 5e-5);;
    lora) flags=(--method lora --lora-targets all-linear --lora-r 8 --lr 1e-3);;
    dora) flags=(--method lora --dora --lora-targets all-linear --lora-r 8 --lr 1e-3);;
    qlora) flags=(--method qlora --lora-targets all-linear --lora-r 8 --lr 1e-3); eval_flags=(--quantize nf4); base=base-nf4;;
    prompt) flags=(--method prompt --num-virtual-tokens 20 --prompt-init "Extract the fields as JSON." --lr 3e-2);;
    prefix) flags=(--method prefix --num-virtual-tokens 20 --prompt-init "Extract the fields as JSON." --lr 1e-2);;
    prefix-mlp) flags=(--method prefix --num-virtual-tokens 20 --prefix-projection --prefix-hidden 256 --lr 1e-3);;
    adapter) flags=(--method adapter --adapter-dim 64 --lr 1e-3);;
    *) echo "unknown method $m" >&2; exit 2;;
  esac
  /usr/bin/time -f '%M' -o "$work/$m.rss" "$bin/ft-train" "${common[@]}" "${flags[@]}" --log "$work/$m.jsonl" \
    -o "$work/out-$m" 2>"$work/$m.err" || { cat "$work/$m.err" >&2; exit 1; }
  if [ "$m" = full ]; then
    "$bin/ft-eval" --model "$work/out-$m" ppl "$work/eval.tok" >"$work/$m.json"
  else
    "$bin/ft-eval" --model "$model" "${eval_flags[@]}" --adapter "$work/out-$m" ppl "$work/eval.tok" >"$work/$m.json"
  fi
  echo "$m $base" >>"$work/done"
  echo "  $m done" >&2
done
"$py" - "$work" <<'PY'
import json, re, sys
w = sys.argv[1]
print(f"| method | trainable params | % of base | eval loss before | eval loss after | peak RSS MB | s/step |")
print(f"|---|---:|---:|---:|---:|---:|---:|")
for line in open(f"{w}/done"):
    m, base = line.split()
    err = open(f"{w}/{m}.err").read()
    g = re.search(r"(\d+) trainable parameters, ([0-9.]+)% of", err)
    rows = [json.loads(l) for l in open(f"{w}/{m}.jsonl") if '"loss"' in l]
    t = [r["elapsed_s"] for r in rows]
    sps = (t[-1] - t[0]) / (len(t) - 1)   # the first step warms up
    rss = int(open(f"{w}/{m}.rss").read().split()[-1]) / 1024
    before = json.load(open(f"{w}/{base}.json"))["loss"]
    after = json.load(open(f"{w}/{m}.json"))["loss"]
    print(f"| {m} | {int(g.group(1)):,} | {float(g.group(2)):.3f} | {before:.4f}{' (NF4)' if base == 'base-nf4' else ''} | {after:.4f} | {rss:.0f} | {sps:.2f} |")
PY
