# Bad input: clear "ft-tokenize: FILE:LINE: what" errors, exit 1 for data and 2 for usage, no
# partial output file; --skip-bad skips and counts; broken tokenizer files are named.
source "$FT_ROOT/tests/lib.sh"
source "$FT_ROOT/tests/cli/tokenize_tiny.sh.inc"
expect_exit 2 ft-tokenize in.jsonl
expect_in "--tokenizer is required" err
expect_exit 2 ft-tokenize --tokenizer bl.json --bogus
printf '%s\n' '{"text":"abc"}' '{"text": oops}' '{"text":"ab"}' > in.jsonl
expect_exit 1 ft-tokenize --tokenizer bl.json in.jsonl -o out.tok
expect_in "ft-tokenize: in.jsonl:2: invalid JSON" err
[ ! -e out.tok ] || fail "partial output left behind"
ls | grep -q 'out.tok' && fail "temporary output left behind"
expect_exit 0 ft-tokenize --tokenizer bl.json --skip-bad --jsonl in.jsonl
[ "$(wc -l < out)" -eq 2 ] || fail "--skip-bad kept $(wc -l < out) records"
expect_in "skipped 1 bad records" err
echo '{"body":"abc"}' > nofield.jsonl
expect_exit 1 ft-tokenize --tokenizer bl.json nofield.jsonl -o x.tok
expect_in 'nofield.jsonl:1: no string "text" field' err
echo '{"segments":[{"text":"ab","train":"yes"}]}' > seg.jsonl
expect_exit 1 ft-tokenize --tokenizer bl.json seg.jsonl -o x.tok
expect_in 'seg.jsonl:1: segments[0]: "train" must be true or false' err
printf '{"text":"a\xffb"}\n' > utf.jsonl
expect_exit 1 ft-tokenize --tokenizer bl.json utf.jsonl -o x.tok
expect_in 'utf.jsonl:1: invalid UTF-8' err
echo '{"text":"abd"}' > cannot.jsonl
expect_exit 1 ft-tokenize --tokenizer bl.json cannot.jsonl -o x.tok
expect_in 'cannot.jsonl:1: text has a character the vocabulary cannot encode' err
echo '{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a c"]}}' > broken.json
expect_exit 1 ft-tokenize --tokenizer broken.json in.jsonl
expect_in 'broken.json: model.merges[0]: token "c" is not in the vocabulary' err
expect_exit 1 ft-tokenize --tokenizer missing.gguf in.jsonl
expect_in 'missing.gguf' err
printf 'FTOK\x01\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00' > short.tok
expect_exit 1 ft-tokenize --tokenizer bl.json --decode short.tok
expect_in 'short.tok' err
