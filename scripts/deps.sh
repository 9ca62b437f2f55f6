#!/usr/bin/env bash
# deps.sh — install the Debian packages of DESIGN.md §6 that are missing.
# As root it runs apt-get; otherwise it prints the command and stops.
set -euo pipefail
pkgs=(gcc make pkg-config libopenblas-openmp-dev libzstd-dev zstd libjansson-dev libpcre2-dev
      libutf8proc-dev libcmocka-dev jq parallel python3 python3-venv python3-pip clang libdnnl-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "run as root:  apt-get update && $cmd" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
