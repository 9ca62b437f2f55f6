# Folders (layers) depend only downward: every #include "..." of a file under lib/ and
# kernels/ names a header of the file's own layer or of a lower one, by the order in
# lib/LAYERS; every source file has a layer. Fails naming each include that points up.
. "$FT_ROOT/tests/lib.sh"
cd "$FT_ROOT"
map=lib/LAYERS
[ -f "$map" ] || fail "$map is missing"
order=(); declare -A rank; pats=()
while read -r layer rest; do
  [ -z "$layer" ] || [[ "$layer" == \#* ]] && continue
  rank[$layer]=${#order[@]}; order+=("$layer")
  read -ra globs <<<"$rest"   # (no pathname expansion: the globs are matched below)
  for p in "${globs[@]}"; do pats+=("$layer:$p"); done
done < "$map"
layer_of() {   # layer_of PATH -> prints the layer or nothing
  local s=${1%.*} e
  for e in "${pats[@]}"; do
    # shellcheck disable=SC2053
    if [[ "$s" == ${e#*:} ]]; then echo "${e%%:*}"; return 0; fi
  done
  return 0
}
declare -A hdr
for h in lib/*/*.h kernels/*.h kernels/*/*.h kernels/*/*.cuh; do [ -f "$h" ] && hdr[$(basename "$h")]=$h; done
bad=0
for f in lib/*/*.c lib/*/*.h kernels/*.h kernels/*/*.c kernels/*/*.h kernels/*/*.cu kernels/*/*.cuh; do
  [ -f "$f" ] || continue
  lf=$(layer_of "$f")
  [ -n "$lf" ] || { echo "no layer for $f in $map" >&2; bad=1; continue; }
  while read -r inc; do
    h=${hdr[$(basename "$inc")]:-}
    [ -n "$h" ] || continue    # a system or generated header
    lh=$(layer_of "$h")
    [ -n "$lh" ] || continue   # reported as "no layer" above
    if [ "${rank[$lh]}" -gt "${rank[$lf]}" ]; then
      echo "$f ($lf) includes $inc ($lh): points up the order of $map" >&2; bad=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
[ "$bad" = 0 ] || fail "includes against the layer order"
echo "layers: ${order[*]} — every include points down"
