# Must show #2: ft-tokenize gives the ids of HF `tokenizers` on a >= 1 MB mixed corpus (prose,
# code, CJK, Arabic, emoji/ZWJ, whitespace runs, digits, odd code points, special tokens in the
# text) for byte-level BPE (GPT-2 style and Llama-3 style regex + ignore_merges) and
# byte-level with every normalizer (NFKC, Lowercase, NFD, NFC, Replace, Strip), and
# SentencePiece-style BPE with byte fallback (Llama-2 normalizer layout and Metaspace layout),
# seven more pre-tokenizer layouts and added tokens with lstrip/rstrip/single_word/normalized,
# tokenizers trained here by `tokenizers` itself. Decoding matches HF decode, and
# decode(encode(x)) == x wherever the tokenizer is lossless; -j 2 output equals -j 1 output.
source "$FT_ROOT/tests/lib.sh"
need_py
H="$FT_ROOT/tests/parity/tokenize_parity.py"
"$FT_PY" "$H" corpus corpus.jsonl 1100
[ "$(wc -c < corpus.jsonl)" -ge 1048576 ] || fail "corpus smaller than 1 MB"
kinds="bytelevel llama3 normalized spm metaspace"
"$FT_PY" "$H" build-all corpus.jsonl $kinds 2>/dev/null || fail "cannot build the reference tokenizers"
for k in $kinds; do
  "$FT_PY" "$H" encode $k/tokenizer.json corpus.jsonl $k.hf
  ft-tokenize --tokenizer $k --jsonl --no-add-bos --no-add-eos corpus.jsonl > $k.ft || fail "$k: ft-tokenize failed"
  "$FT_PY" "$H" compare $k.hf $k.ft corpus.jsonl 2> $k.cmp || { cat $k.cmp >&2; fail "$k: ids differ from HF"; }
  ft-tokenize --tokenizer $k --decode $k.ft > $k.dec || fail "$k: decode failed"
  "$FT_PY" "$H" decode-compare $k/tokenizer.json $k.ft $k.dec || fail "$k: decode differs from HF"
  case $k in spm|metaspace) lossy=spm;; *) lossy=;; esac
  [ $k = normalized ] || "$FT_PY" "$H" roundtrip corpus.jsonl $k.dec $lossy 2>/dev/null || fail "$k: decode(encode(x)) != x"
  echo "$k: $(cat $k.cmp)"
done
# pre-tokenizer layouts (Split behaviours, invert, Digits, Punctuation, Whitespace, prefix
# space, and those of DeepSeek LLM / Coder, Falcon, Command-R) over the byte-level model, and
# Gemma's (Replace normalizer, no pre-tokenizer) over the SentencePiece-style one, on the first
# 150 records
head -150 corpus.jsonl > part.jsonl
for v in $("$FT_PY" "$H" variants) gemma; do
  src=bytelevel; [ $v = gemma ] && src=spm   # Gemma's layout needs a SentencePiece-style model
  "$FT_PY" "$H" derive $src $v v-$v
  "$FT_PY" "$H" encode v-$v/tokenizer.json part.jsonl v-$v.hf
  ft-tokenize --tokenizer v-$v --jsonl --no-add-bos --no-add-eos part.jsonl > v-$v.ft || fail "$v: ft-tokenize failed"
  "$FT_PY" "$H" compare v-$v.hf v-$v.ft part.jsonl 2> v-$v.cmp || { cat v-$v.cmp >&2; fail "pre-tokenizer $v: ids differ from HF"; }
done
echo "pre-tokenizer layouts: $(ls v-*.cmp | wc -l) match"   # (incl. added-flags)
# GGUF vocabularies with tokenizer.ggml.pre llama-bpe / qwen2 (written by the `gguf` package from
# the Llama-3 style and a Qwen2 style tokenizer.json) give HF's ids of those tokenizer.json files
"$FT_PY" "$H" qwen2-json bytelevel qwen2
for k in llama3:llama-bpe qwen2:qwen2; do
  d=${k%%:*}; pre=${k##*:}
  "$FT_PY" "$H" to-gguf $d/tokenizer.json $pre $d.gguf 2>/dev/null || fail "$d: cannot write the GGUF"
  "$FT_PY" "$H" encode $d/tokenizer.json part.jsonl g-$d.hf
  ft-tokenize --tokenizer $d.gguf --jsonl --no-add-bos --no-add-eos part.jsonl > g-$d.ft || fail "$d.gguf: ft-tokenize failed"
  "$FT_PY" "$H" compare g-$d.hf g-$d.ft part.jsonl 2> g-$d.cmp || { cat g-$d.cmp >&2; fail "GGUF pre $pre: ids differ from HF"; }
done
echo "gguf pre llama-bpe, qwen2: match"
ft-tokenize --tokenizer bytelevel -j 2 --no-add-bos --no-add-eos corpus.jsonl -o j2.tok
ft-tokenize --tokenizer bytelevel -j 1 --no-add-bos --no-add-eos corpus.jsonl -o j1.tok
cmp j1.tok j2.tok || fail "-j 2 output differs from -j 1"
