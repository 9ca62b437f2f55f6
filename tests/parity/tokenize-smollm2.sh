# The real model's GGUF vocabulary (SmolLM2-135M-Instruct: gpt2 model, pre "smollm") gives the
# ids of HF `tokenizers` running an equivalent tokenizer.json built from the same vocabulary
# (Digits(individual) + ByteLevel, as SmolLM2's own tokenizer.json), on the >= 1 MB corpus;
# loading either gives the same FTOK tokenizer id.
source "$FT_ROOT/tests/lib.sh"
need_py
m=$(model_path) || true
[ -n "$m" ] && [ -f "$m" ] || skip "SmolLM2 GGUF not cached (make model)"
H="$FT_ROOT/tests/parity/tokenize_parity.py"
cache="${FT_CACHE:-$HOME/.cache/ft}/tokenizer-vocab"
{ mkdir -p "$cache" && [ -w "$cache" ]; } 2>/dev/null || cache=$PWD
cache="$cache/smollm2-$(stat -c %s "$m")"
if [ ! -s "$cache/tokenizer.json" ]; then
  "$FT_PY" "$H" from-gguf "$m" "$cache.tmp" 2>/dev/null || fail "cannot build tokenizer.json from $m"
  rm -rf "$cache"; mv "$cache.tmp" "$cache"
fi
"$FT_PY" "$H" corpus corpus.jsonl 1100
"$FT_PY" "$H" encode "$cache/tokenizer.json" corpus.jsonl hf.jsonl
ft-tokenize --tokenizer "$m" --jsonl --no-add-bos --no-add-eos corpus.jsonl > ft.jsonl || fail "ft-tokenize failed"
"$FT_PY" "$H" compare hf.jsonl ft.jsonl corpus.jsonl 2> cmp || { cat cmp >&2; fail "ids differ from HF"; }
cat cmp
ft-tokenize --tokenizer "$m" --info > a
ft-tokenize --tokenizer "$cache/tokenizer.json" --info > b
[ "$(grep tokenizer_id a)" = "$(grep tokenizer_id b)" ] || fail "tokenizer ids differ: $(grep tokenizer_id a b)"
grep -q '^vocab_size 49152$' a || fail "vocab size: $(grep vocab_size a)"
