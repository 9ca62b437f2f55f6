#!/usr/bin/env bash
# tests/cuda/collect_libs.sh — packs the shared libraries that build/cuda/* need besides glibc
# libstdc++ and CUDA (OpenBLAS and its Fortran runtime, gomp; jansson, zstd, pcre2, utf8proc when linked)
# into .cudalibs.tar.gz, for a GPU machine whose image lacks them: carry build/cuda and
# .cudalibs.tar.gz; tests/cuda/gpu_check.sh unpacks it and puts it on LD_LIBRARY_PATH.
# Add "/.cudalibs.tar.gz" to .git/info/exclude so it is never committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ldd "$root"/build/cuda/* | awk '/=>/ {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libpthread|libdl|librt|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so|cuda|cublas' |
  while read -r lib; do cp -L "$lib" "$tmp/"; done
tar -C "$tmp" -czf "$root/.cudalibs.tar.gz" .
ls -la "$root/.cudalibs.tar.gz"
