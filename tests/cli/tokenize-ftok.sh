# FTOK output: the 32-byte header carries version 1, the mask flag, the vocabulary size and the
# tokenizer id (the one --info prints); records carry u32 ids and the loss mask bits (LSB first,
# padded to 4 bytes), byte for byte; --decode turns FTOK and --jsonl output back into text.
source "$FT_ROOT/tests/lib.sh"
source "$FT_ROOT/tests/cli/tokenize_tiny.sh.inc"
echo '{"segments":[{"text":"ab","train":false},{"text":"c abc","train":true}]}' > seg.jsonl
ft-tokenize --tokenizer bl.json seg.jsonl -o out.tok
id=$(ft-tokenize --tokenizer bl.json --info | sed -n 's/^tokenizer_id //p')
[ ${#id} -eq 16 ] || fail "no tokenizer id in --info"
le=""; for i in 14 12 10 8 6 4 2 0; do le="$le\\x${id:$i:2}"; done
{ printf 'FTOK\x01\x00\x01\x00\x09\x00\x00\x00\x00\x00\x00\x00'; printf "$le"; printf '\0\0\0\0\0\0\0\0'
  printf '\x03\0\0\0\0\0\0\0\x05\0\0\0\x03\0\0\0\x05\0\0\0\x06\0\0\0'; } > want.tok
cmp out.tok want.tok || { od -An -tx1 out.tok >&2; fail "FTOK bytes differ"; }
ft-tokenize --tokenizer bl.json --decode out.tok
ft-tokenize --tokenizer bl.json --jsonl seg.jsonl | ft-tokenize --tokenizer bl.json --decode
zstd -q out.tok -o out.tok.zst && ft-tokenize --tokenizer bl.json --decode out.tok.zst
