#!/usr/bin/env bash
# tests/bench/train/run.sh — ft-train throughput at --precision f32 and bf16: training tokens/s,
# peak RSS and achieved GFLOP/s against this machine's GEMM peaks measured in the same run
# (f32: ft's sgemm = OpenBLAS; bf16: ft's bf16 GEMM, tests/bench/train/gemm_peak.c; same thread
# count), for full fine-tuning (6·N·tokens, N = parameters in matmuls incl. the LM head) and LoRA
# (the real count: forward 2·N, backward through the frozen base 2·N, plus the adapters' own
# products). With --torch, PyTorch + PEFT runs the same job (torch_train.py: f32 and bf16
# autocast) alternately with ft, and the ratios are printed. The load average is printed at the
# start and the end: on a shared machine compare the ratios, not the absolute rates (tok/cpu-s:
# tokens per CPU-second of the whole ft-train run, loading included, steadier under load).
#   tests/bench/train/run.sh [--real] [--steps N] [--threads N] [--torch]
#     --real: SmolLM2-135M-Instruct (make -s model-path), 4 rows x 256 tokens per step, LoRA r16
#             alpha32 on all linears; else a generated 4-layer model
#     --torch: also PyTorch (python: $FT_TORCH_PY, default /work/venvs/torch/bin/python; needs --real)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
steps=6 real=0 torch=0 threads=${OMP_NUM_THREADS:-$(nproc)}
while [ $# -gt 0 ]; do
  case "$1" in
    --real) real=1;; --steps) steps=$2; shift;; --threads) threads=$2; shift;; --torch) torch=1;;
    *) echo "usage: $0 [--real] [--steps N] [--threads N] [--torch]" >&2; exit 2;;
  esac; shift
done
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
unset FT_PRECISION
py=$root/.venv/bin/python
tpy=${FT_TORCH_PY:-/work/venvs/torch/bin/python}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
dnnl=$(nm "$root/build/libft.a" 2>/dev/null | grep -c " U dnnl_gemm_bf16bf16f32" >/dev/null && echo -ldnnl || true)
cc -O2 -fopenmp -D_GNU_SOURCE -I"$root/kernels" -I"$root/lib" -o "$work/gemm" "$root/tests/bench/train/gemm_peak.c" \
  "$root/build/libft.a" $dnnl -lopenblas -lm
peaks() { for k in f32 bf16; do echo "$k $("$work/gemm" $k 1024 5)"; done; }   # again after the runs: the larger
peaks >"$work/peak1"
if [ $real = 1 ]; then
  model=$("$root/scripts/model.sh" path)
  [ -f "$model" ] || { echo "no SmolLM2 model cached (make model)" >&2; exit 77; }
  seq=256 batch=4 vocab=49152
else
  [ $torch = 0 ] || { echo "--torch needs --real" >&2; exit 2; }
  "$py" "$root/tests/tools/make_tiny_model.py" --hf "$work/m" --hidden 512 --intermediate 1536 --layers 4 \
    --heads 8 --kv-heads 4 --vocab 8000 --seed 1 >/dev/null
  model=$work/m seq=256 batch=4 vocab=8000
fi
"$py" - "$work/d.tok" "$vocab" <<'PY'
import random, struct, sys
r, V = random.Random(0), int(sys.argv[2])
with open(sys.argv[1], "wb") as f:
    f.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 0, V, 0, 0, 0))
    for _ in range(400):
        n = r.randint(60, 120)
        f.write(struct.pack("<II", n, 0) + struct.pack("<%dI" % n, *[r.randint(3, min(V, 8000) - 1) for _ in range(n)]))
PY
for method in lora full; do
  for prec in f32 bf16; do
    /usr/bin/time -f '%M %U %S' -o "$work/rss-$method-$prec" "$root/bin/ft-train" --model "$model" --data "$work/d.tok" \
      --method $method --lora-targets all-linear --lora-r 16 --lora-alpha 32 --seq-len $seq --batch $batch \
      --max-steps "$steps" --precision $prec --log "$work/$method-$prec.jsonl" -o "$work/out-$method-$prec" -q
    if [ $torch = 1 ]; then   # the peer right after, same mode
      "$tpy" "$root/tests/bench/train/torch_train.py" "$model" $method $prec "$steps" "$threads" $batch $seq \
        2>"$work/torch.err" >"$work/torch-$method-$prec" || { cat "$work/torch.err" >&2; echo 0 >"$work/torch-$method-$prec"; }
    fi
  done
done
peaks >"$work/peak2"
pk() { awk -v k=$1 '$1 == k { print $2 }' "$work/peak1" "$work/peak2" | sort -g | tail -1; }
echo "GEMM peaks (1024^3, $threads threads): f32 sgemm $(pk f32) GFLOP/s, bf16 $(pk bf16) GFLOP/s"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-5s %10s %10s %11s %8s %8s %11s %16s\n' method prec tokens/s GFLOP/s "% of peak" "RSS MB" "vs f32" "tok/cpu-s" "torch"
export FT_BENCH_TOKENS=$((steps * batch * seq))
for method in lora full; do
  for prec in f32 bf16; do
    "$py" - "$work/$method-$prec.jsonl" "$model" "$method" "$(pk $prec)" "$(cat "$work/rss-$method-$prec")" "$prec" \
      "$work/$method-f32.jsonl" "$(cat "$work/torch-$method-$prec" 2>/dev/null || echo -)" <<'PY'
import json, os, sys
log, model, method, peak, rss, prec, f32log, torch = sys.argv[1:9]
u = rss.split()
peak, rss, cpu = float(peak), int(u[0]), float(u[1]) + float(u[2])
cpu_tps = int(os.environ["FT_BENCH_TOKENS"]) / cpu   # per CPU-second of the whole run, model loading included
def tps(p):
    rows = [json.loads(l) for l in open(p)]
    rows = [r for r in rows if "tokens_per_s" in r]
    rows = rows[1:] or rows   # the first step warms up
    return sum(r["tokens_per_s"] for r in rows) / len(rows)
t = tps(log)
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
g = flops * t / 1e9
vs = "%.2fx" % (t / tps(f32log))
tv = "-" if torch == "-" else "%s (%.2fx)" % (torch, t / float(torch)) if float(torch) > 0 else "failed"
print("%-6s %-5s %10.1f %10.2f %10.1f%% %8.0f %8s %11.1f %16s" % (method, prec, t, g, 100 * g / peak, rss / 1024, vs,
                                                                  cpu_tps, tv))
PY
  done
done
