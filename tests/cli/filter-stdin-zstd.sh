# FTOK is detected on stdin (also zstd-compressed), a .zst output is compressed, and the
# records and mask survive the round trip unchanged.
source "$FT_ROOT/tests/lib.sh"
PY=$FT_PY; [ -x "$PY" ] || PY=$(command -v python3) || skip "no python3"
H="$FT_ROOT/tests/cli/filter-ftok.py"
printf '{"tokens":[1,2,3,4,5,6,7,8,9],"mask":[0,0,0,1,1,1,0,1,1]}\n{"tokens":[],"mask":[]}\n{"tokens":[7],"mask":[1]}\n' >in.toks
$PY "$H" write in.tok --mask --vocab 10 --tokid 123 <in.toks
zstd -q in.tok -o in.tok.zst
ft-filter <in.tok.zst -o out.tok.zst
[ "$(head -c 4 out.tok.zst | od -An -tx1 | tr -d ' ')" = 28b52ffd ] || fail "output is not zstd"
zstd -qdc out.tok.zst >out.tok
cmp -s in.tok out.tok || fail "round trip changed the stream"
cat in.tok | ft-filter --min-trained 1 >t.tok
$PY "$H" read t.tok >t.toks
[ "$(wc -l <t.toks)" -eq 2 ] || fail "--min-trained 1 kept $(wc -l <t.toks) records, expected 2"
