#!/usr/bin/env bash
# deps.sh — install the Debian packages of DESIGN.md §6 that are missing.
# As root it runs apt-get; otherwise it prints the command and stops.
# Optional packages (MPI for data-parallel ft-train, docs/distributed.md) are installed when
# possible; without them everything builds and the tests that need them skip.
set -euo pipefail
pkgs=(gcc make pkg-config libopenblas-openmp-dev libzstd-dev zstd libjansson-dev libpcre2-dev
      libutf8proc-dev libyaml-dev libcmocka-dev jq parallel python3 python3-venv python3-pip clang libdnnl-dev)
optional=(libopenmpi-dev openmpi-bin)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=() opt_missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
for p in "${optional[@]}"; do installed "$p" || opt_missing+=("$p"); done
install_optional() {
  [ ${#opt_missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "optional (data-parallel ft-train): apt-get install ${opt_missing[*]}" >&2
    return 0
  fi
  echo "deps: installing the optional ${opt_missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq --no-install-recommends "${opt_missing[@]}" ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${opt_missing[@]}"; }; } >&2 ||
    echo "deps: the optional ${opt_missing[*]} could not be installed: ft-train stays one process" >&2
}
if [ ${#missing[@]} -eq 0 ]; then install_optional; exit 0; fi
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
install_optional
