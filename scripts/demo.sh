#!/usr/bin/env bash
# demo.sh — `make demo`: the whole pipeline on SmolLM2-135M-Instruct. Until every stage
# exists it says which are missing and exits non-zero; it never pretends.
set -uo pipefail
cd "$(dirname "$0")/.."
missing=()
for t in ft-template ft-tokenize ft-filter ft-train ft-merge ft-eval ft-report; do
  [ -x "bin/$t" ] || missing+=("$t")
done
[ -f pipelines/sft.mk ] || missing+=("pipelines/sft.mk")
if [ ${#missing[@]} -gt 0 ]; then
  echo "demo: not runnable yet; these parts of the pipeline are still missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
scripts/model.sh fetch smollm2 >/dev/null || exit 1
start=$SECONDS
rm -f build/demo/report.html   # the page printed at the end is this run's
echo "demo: LoRA instruction tuning of SmolLM2-135M-Instruct on examples/json-extract (pipelines/sft.mk, work dir build/demo)"
make --no-print-directory -f pipelines/sft.mk MODEL="$(scripts/model.sh path)" OUT=build/demo "$@"
rc=$?
echo "demo: finished in $((SECONDS - start)) s (exit $rc)"
[ -f build/demo/report.html ] && echo "demo: report: $PWD/build/demo/report.html (Markdown: build/demo/report.md)"
exit $rc
