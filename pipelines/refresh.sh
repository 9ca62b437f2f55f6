#!/usr/bin/env bash
# refresh.sh — cron-ready: rebuild the dataset from its source and retrain only when the data
# changed. The content hash of the curated training stream is kept in STATE_DIR; when it is the
# same as the last successful run, nothing is trained. A lock keeps two runs from overlapping.
#
# Usage: pipelines/refresh.sh   (configured by variables; e.g. in a crontab:)
#   17 3 * * *  cd /srv/ft && MODEL=/models/base.gguf DATA=/data/chats.jsonl OUT=/srv/ft/runs \
#               pipelines/refresh.sh >>/var/log/ft-refresh.log 2>&1
# Variables: MODEL, DATA (messages JSONL), EVAL (optional held-out set), OUT (default
# build/refresh), FETCH (optional command run first to refresh DATA), plus those of sft.mk.
# Exit: 0 trained (gates passed) or nothing to do; 1 the run failed (a stage or a gate).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MODEL:?set MODEL}" "${DATA:?set DATA}"
OUT=${OUT:-build/refresh}
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock -n 9 || { echo "refresh: another run holds $OUT/.lock; skipping" >&2; exit 0; }
[ -n "${FETCH:-}" ] && { echo "refresh: $FETCH" >&2; bash -c "$FETCH"; }
new=$(sha256sum "$DATA" | cut -d' ' -f1)
old=$(cat "$OUT/data.sha256" 2>/dev/null || true)
if [ "$new" = "$old" ]; then
  echo "refresh: $(date -u +%FT%TZ) data unchanged ($new); nothing to train" >&2
  exit 0
fi
run="$OUT/run-$(date -u +%Y%m%dT%H%M%SZ)"
echo "refresh: $(date -u +%FT%TZ) data changed; training into $run" >&2
set +e
make --no-print-directory -f pipelines/sft.mk MODEL="$MODEL" DATA="$DATA" ${EVAL:+EVAL="$EVAL"} OUT="$run"
rc=$?
set -e
if [ $rc -eq 0 ]; then
  echo "$new" >"$OUT/data.sha256.tmp" && mv "$OUT/data.sha256.tmp" "$OUT/data.sha256"
  ln -sfn "$(basename "$run")" "$OUT/latest"
  echo "refresh: done; $OUT/latest -> $(basename "$run")" >&2
  exit 0
fi
echo "refresh: the run failed (exit $rc); the previous model stays current" >&2
exit 1
