#!/usr/bin/env bash
# tests/bench/decode/run.sh — decode speed of ft against llama.cpp on the same GGUF (SmolLM2-135M-
# Instruct Q4_1: make -s model-path) and the same thread count, the two run alternately in this
# one script (ft, llama.cpp, ft, llama.cpp, ... ROUNDS times) so a shared machine's load hits
# both alike; prints each round, the best of each side and the ratios, and the load average.
#   one stream:  bench_decode.c tg N (ft_model_decode, native weights; f32 too)  vs  llama-bench -p 0 -n N
#   many:        bench_decode.c S sequences x P prompt tokens, T steps            vs  llama-batched-bench
#                -npp P -ntg T -npl S (decode tokens/s: S*T / decode time, S_TG)
#   end to end:  ft-eval generate on the demo's 50 prompts x 48 new tokens (wall, load included)
# llama.cpp: built from the vendor/llama.cpp of the PyPI llama-cpp-python sdist (pip download
# --no-deps --no-binary :all: llama-cpp-python; cmake -DGGML_NATIVE=ON, -j2) into $LLAMA_DIR
# (default /work/venvs/llamacpp); skipped (exit 77) when its binaries are absent.
#   tests/bench/decode/run.sh [--threads N] [--rounds R] [--tg N] [--npl S] [--npp P] [--ntg T] [--no-e2e]
# Not part of make test (minutes).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
threads=2 rounds=3 tg=64 npl=16 npp=64 ntg=48 e2e=1
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift;; --rounds) rounds=$2; shift;; --tg) tg=$2; shift;;
    --npl) npl=$2; shift;; --npp) npp=$2; shift;; --ntg) ntg=$2; shift;; --no-e2e) e2e=0;;
    *) echo "usage: $0 [--threads N] [--rounds R] [--tg N] [--npl S] [--npp P] [--ntg T] [--no-e2e]" >&2; exit 2;;
  esac; shift
done
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
model=$(make -s -C "$root" model-path) || { echo "no SmolLM2 model cached (make model)" >&2; exit 77; }
ldir=${LLAMA_DIR:-/work/venvs/llamacpp}
lb=$(ls "$ldir"/llama_cpp_python-*/vendor/llama.cpp/build/bin/llama-bench 2>/dev/null | head -1 || true)
lbb=$(ls "$ldir"/llama_cpp_python-*/vendor/llama.cpp/build/bin/llama-batched-bench 2>/dev/null | head -1 || true)
[ -x "$lb" ] && [ -x "$lbb" ] || { echo "llama.cpp not built in $ldir (see the header of $0)" >&2; exit 77; }
py=$root/.venv/bin/python
make -s -C "$root" build/libft.a bin/ft-eval bin/ft-template >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cc -O2 -fopenmp -I"$root/lib" -I"$root/kernels" -o "$work/bench_decode" "$root/tests/bench/decode/bench_decode.c" \
  "$root/build/libft.a" -ljansson -lzstd -lpcre2-8 -lutf8proc -lopenblas -lm
echo "model: $model; $threads threads, OMP_WAIT_POLICY=$OMP_WAIT_POLICY; $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "llama.cpp: $(dirname "$lb")"
for r in $(seq "$rounds"); do
  "$work/bench_decode" "$model" native "$tg" "$npl" "$npp" "$ntg" >>"$work/ft.jsonl"
  "$lb" -m "$model" -t "$threads" -p 0 -n "$tg" -r 1 -o json 2>/dev/null >"$work/lb$r.json" || echo "round $r: llama-bench failed"
  "$lbb" -m "$model" -t "$threads" -c $(( npl * (npp + ntg) + 64 )) -b 2048 -ub 512 -npp "$npp" -ntg "$ntg" -npl "$npl" \
    2>/dev/null >"$work/lbb$r.txt" || echo "round $r: llama-batched-bench failed (exit $?; an AMX build on a VM without AMX dies of SIGILL: rebuild with -DGGML_NATIVE=OFF -DGGML_AVX512=ON ...)"
  echo "round $r: ft $(tail -1 "$work/ft.jsonl" | cut -c1-200)"
done
"$work/bench_decode" "$model" f32 "$tg" 0 0 0 >"$work/ft32.json"
if [ "$e2e" = 1 ]; then
  "$root/bin/ft-template" --model "$model" --generation-prompt -o "$work/p.jsonl" "$root/examples/json-extract/eval.jsonl"
  for w in native f32; do
    b=16; [ $w = f32 ] && b=1
    s=$(date +%s.%N)
    "$root/bin/ft-eval" --model "$model" --weights $w generate --batch $b --max-new-tokens 48 -o "$work/g-$w.jsonl" "$work/p.jsonl"
    echo "$w $(echo "$(date +%s.%N) - $s" | bc)" >>"$work/e2e.txt"
  done
  cmp -s "$work/g-native.jsonl" "$work/g-f32.jsonl" && echo "end to end: native --batch 16 outputs == f32 --batch 1 outputs" ||
    echo "end to end: native and f32 outputs DIFFER"
fi
"$py" - "$work" "$rounds" <<'PY'
import glob, json, re, sys
w, R = sys.argv[1], int(sys.argv[2])
ft = [json.loads(l) for l in open(f"{w}/ft.jsonl")]
lb = []
for r in range(1, R + 1):
    try:
        lb += [x["avg_ts"] for x in json.load(open(f"{w}/lb{r}.json")) if x.get("n_gen", 0) > 0]
    except Exception as e:
        print("llama-bench output unreadable:", e)
lbb = []
for r in range(1, R + 1):
    for line in open(f"{w}/lbb{r}.txt"):
        c = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(c) >= 10 and c[0].isdigit():   # PP TG B N_KV T_PP S_PP T_TG S_TG T S
            lbb.append(float(c[7]))
f32 = json.load(open(f"{w}/ft32.json"))
print(f"one stream tg{ft[0]['tg']}: ft native {[x['tg_tps'] for x in ft]} tok/s (f32 weights: {f32['tg_tps']}), "
      f"llama.cpp {lb} tok/s")
if lb: print(f"  best ft / best llama.cpp = {max(x['tg_tps'] for x in ft) / max(lb):.2f}x")
S, P, T = ft[0]["S"], ft[0]["P"], ft[0]["T"]
print(f"{S} sequences x {P} prompt + {T} new tokens, decode tokens/s: ft {[x['batch_tg_tps'] for x in ft]}, "
      f"llama-batched-bench S_TG {lbb}")
if lbb: print(f"  best ft / best llama.cpp = {max(x['batch_tg_tps'] for x in ft) / max(lbb):.2f}x")
try:
    e = dict(l.split() for l in open(f"{w}/e2e.txt"))
    n = sum(1 for _ in open(f"{w}/g-native.jsonl"))
    print(f"end to end, ft-eval generate on {n} demo prompts x 48 new tokens: native --batch 16 {float(e['native']):.1f} s, "
          f"f32 --batch 1 {float(e['f32']):.1f} s ({float(e['f32']) / float(e['native']):.2f}x)")
except FileNotFoundError:
    pass
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores: above that the machine was shared)"
