#!/usr/bin/env bash
# tests/bench/metrics/run.sh — pairs/s of `ft-eval score` beside Python sacrebleu (BLEU, chrF)
# and rouge-score (ROUGE-1/2/L/Lsum) on the same generated corpus, in the same run.
# Usage: tests/bench/metrics/run.sh [PAIRS]   (default 20000; not part of `make test`)
# ft-eval runs on one thread (like the Python references) unless FT_BENCH_THREADS is set.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
n=${1:-20000}
py="$root/.venv/bin/python"
bin="${FT_BIN:-$root/bin}/ft-eval"
[ -x "$py" ] || { echo "no venv: run scripts/venv.sh" >&2; exit 1; }
[ -x "$bin" ] || { echo "no $bin: run make" >&2; exit 1; }
export OMP_NUM_THREADS="${FT_BENCH_THREADS:-1}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$py" "$root/tests/parity/metrics_ref.py" gen "$dir/c.jsonl" "$n"

ft_time() {   # seconds for ft-eval score with the given metric options
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" score --bootstrap 0 "$@" -o "$dir/r.json" "$dir/c.jsonl"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
t_bleu=$(ft_time --metrics bleu)
t_chrf=$(ft_time --metrics chrf)
t_rouge=$(ft_time --metrics rouge)
t_stem=$(ft_time --metrics rouge --rouge-stem)
t_all=$(ft_time)

"$py" - "$dir/c.jsonl" "$n" "$t_bleu" "$t_chrf" "$t_rouge" "$t_stem" "$t_all" <<'PY'
import json, sys, time
from sacrebleu.metrics import BLEU, CHRF
from rouge_score import rouge_scorer
path, n = sys.argv[1], int(sys.argv[2])
ft = dict(zip(["bleu", "chrf", "rouge", "rouge-stem", "all"], map(float, sys.argv[3:8])))
hyps, refs = [], []
for line in open(path, encoding="utf-8"):
    r = json.loads(line)
    hyps.append(r["output"])
    refs.append(r["reference"] if isinstance(r["reference"], list) else [r["reference"]])
k = max(map(len, refs))
streams = [[r[i] if i < len(r) else None for r in refs] for i in range(k)]
def timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t
py = {}
py["bleu"] = timed(lambda: BLEU().corpus_score(hyps, streams))
py["chrf"] = timed(lambda: CHRF().corpus_score(hyps, streams))
types = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
for name, stem in (("rouge", False), ("rouge-stem", True)):
    sc = rouge_scorer.RougeScorer(types, use_stemmer=stem)
    py[name] = timed(lambda: [sc.score_multi(r, h) for h, r in zip(hyps, refs)])
py["all"] = None
import os
print(f"{n} pairs (1-3 references), one process each, wall time; ft-eval on {os.environ['OMP_NUM_THREADS']} thread(s)")
print(f"{'metric':<12} {'ft-eval pairs/s':>16} {'python pairs/s':>16} {'speedup':>8}  reference")
refname = {"bleu": "sacrebleu BLEU", "chrf": "sacrebleu chrF", "rouge": "rouge-score",
           "rouge-stem": "rouge-score use_stemmer", "all": "-"}
for m in ft:
    f = n / ft[m]
    if py[m] is None:
        print(f"{m:<12} {f:>16.0f} {'-':>16} {'-':>8}  em,f1,bleu,chrf,rouge in one run")
    else:
        p = n / py[m]
        print(f"{m:<12} {f:>16.0f} {p:>16.0f} {f / p:>7.1f}x  {refname[m]}")
print("(ft-eval times include process start, JSONL parsing and report writing; python times exclude imports and file reading)")
PY
