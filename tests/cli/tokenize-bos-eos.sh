# Plain text records: BOS/EOS follow the tokenizer's post-processor (<s> here) unless
# --add-bos/--no-add-bos/--add-eos/--no-add-eos say otherwise; --field picks the text field.
source "$FT_ROOT/tests/lib.sh"
source "$FT_ROOT/tests/cli/tokenize_tiny.sh.inc"
echo '{"text":"hi\né","body":"hi hi"}' > t.jsonl
ft-tokenize --tokenizer spm.json --jsonl t.jsonl
ft-tokenize --tokenizer spm.json --jsonl --no-add-bos t.jsonl
ft-tokenize --tokenizer spm.json --jsonl --add-eos t.jsonl
ft-tokenize --tokenizer spm.json --jsonl --no-add-bos --add-eos --field body t.jsonl
