# Every tool: -h/--help prints usage on stdout and exits 0; --version prints "NAME (ft) X.Y.Z";
# an unknown flag exits 2 with a message on stderr naming the tool (DESIGN.md §4).
source "$FT_ROOT/tests/lib.sh"
n=0
for t in "$FT_BIN"/ft-*; do
  name=$(basename "$t")
  for h in -h --help; do
    expect_exit 0 "$t" $h
    [ -s out ] || fail "$name $h printed nothing on stdout"
    grep -qi usage out || fail "$name $h: no 'Usage' line"
  done
  expect_exit 0 "$t" --version
  grep -Eq "^$name \(ft\) [0-9]+\.[0-9]+\.[0-9]+$" out || fail "$name --version printed '$(cat out)'"
  expect_exit 2 "$t" --no-such-flag-xyz
  grep -q "^$name: " err || fail "$name: unknown flag message does not start with '$name: ': $(cat err)"
  n=$((n + 1))
done
[ $n -ge 1 ] || fail "no tools found in $FT_BIN"
