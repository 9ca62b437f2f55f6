# Segments: texts concatenated and encoded as one string; a token is a target when it STARTS in
# a train:true segment ("abc" starts in the untrained "ab" -> -100; "Ġ" and "abc" start in
# "c abc"); special tokens written in the text are recognised; no BOS/EOS even where the
# tokenizer adds them to plain text; passthrough fields kept in --jsonl output.
source "$FT_ROOT/tests/lib.sh"
source "$FT_ROOT/tests/cli/tokenize_tiny.sh.inc"
printf '%s\n' '{"id":7,"segments":[{"text":"ab","train":false},{"text":"c abc","train":true}]}' \
              '{"segments":[{"text":"ab<|x|>","train":true},{"text":"c","train":false}]}' > seg.jsonl
ft-tokenize --tokenizer bl.json --jsonl seg.jsonl
printf '%s\n' '{"segments":[{"text":"hi","train":false},{"text":"hi","train":true}]}' > seg2.jsonl
ft-tokenize --tokenizer spm.json --jsonl seg2.jsonl
