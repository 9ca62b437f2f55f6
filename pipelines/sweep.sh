#!/usr/bin/env bash
# sweep.sh — a learning-rate × LoRA-rank grid, one ft-train run per cell under GNU parallel,
# each scored by its validation loss; the results are gathered with jq into one table.
#
# Usage: pipelines/sweep.sh MODEL TRAIN.tok VAL.tok OUT [extra ft-train flags...]
# Variables: LRS (default "1e-4 3e-4 1e-3"), RANKS (default "4 8 16"), JOBS (parallel jobs,
# default 1: training already uses every core), STEPS (default 50), FT (dir of the binaries).
# Output: OUT/lr=X,r=Y/ (adapter + log), OUT/results.jsonl and a table on stdout sorted by
# final eval_loss. Exit 1 if any run failed (the others still finish and are reported).
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
model=$1 train=$2 val=$3 out=$4; shift 4
FT=${FT:-$(cd "$(dirname "$0")/.." && pwd)/bin/}
LRS=${LRS:-"1e-4 3e-4 1e-3"} RANKS=${RANKS:-"4 8 16"} JOBS=${JOBS:-1} STEPS=${STEPS:-50}
mkdir -p "$out"
export FT model train val out STEPS
run_one() {  # run_one LR RANK EXTRA...
  local lr=$1 r=$2; shift 2
  local dir="$out/lr=$lr,r=$r"
  rm -rf "$dir"
  "${FT}ft-train" --model "$model" --data "$train" --val "$val" --method lora --lr "$lr" --lora-r "$r" \
    --lora-alpha $((2 * r)) --max-steps "$STEPS" --eval-every "$STEPS" --log "$dir.log.jsonl" -q "$@" -o "$dir" \
    && jq -c --arg lr "$lr" --argjson r "$r" 'select(has("eval_loss")) | {lr: ($lr | tonumber), r: $r, step, eval_loss}' \
         "$dir.log.jsonl" | tail -1
}
export -f run_one
status=0
parallel --will-cite --halt never -j "$JOBS" run_one {1} {2} "$@" ::: $LRS ::: $RANKS >"$out/results.jsonl" || status=1
jq -rs 'sort_by(.eval_loss) | (["lr", "r", "steps", "eval_loss"] | @tsv), (.[] | [.lr, .r, .step, .eval_loss] | @tsv)' \
  "$out/results.jsonl" | column -t
exit $status
