# make install PREFIX=...: every tool, a man page per tool that man(1) renders with its NAME
# and OPTIONS sections, and the pipelines.
. "$FT_ROOT/tests/lib.sh"
make -s -C "$FT_ROOT" install PREFIX="$PWD/p" >log 2>&1 || { cat log; fail "make install failed"; }
for t in "$FT_BIN"/ft-*; do
  n=$(basename "$t")
  [ -x "p/bin/$n" ] || fail "$n not installed"
  [ -f "p/share/man/man1/$n.1" ] || fail "no man page for $n"
  command -v man >/dev/null || continue
  MANWIDTH=100 man -l "p/share/man/man1/$n.1" >page 2>manerr || fail "man cannot render $n.1: $(cat manerr)"
  grep -q "^NAME" page && grep -qi "options\|synopsis" page || fail "$n.1 lacks NAME/SYNOPSIS/OPTIONS"
  grep -q "$n" page || fail "$n.1 does not name $n"
done
[ -f p/share/ft/pipelines/sft.mk ] && [ -x p/share/ft/pipelines/sweep.sh ] || fail "pipelines not installed"
