# A model directory: tokenizer.json + tokenizer_config.json (BOS/EOS/PAD given by name, as a
# string or an AddedToken object); --info reports them with the default BOS/EOS behaviour.
source "$FT_ROOT/tests/lib.sh"
source "$FT_ROOT/tests/cli/tokenize_tiny.sh.inc"
mkdir model && mv spm.json model/tokenizer.json
echo '{"bos_token":{"content":"<s>","special":true},"eos_token":"</s>","pad_token":"<unk>"}' > model/tokenizer_config.json
ft-tokenize --tokenizer model --info | grep -v tokenizer_id
