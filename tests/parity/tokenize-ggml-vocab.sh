# Must show #1: every case of llama.cpp's five vocab suites (gpt-2, llama-spm, phi-3, starcoder,
# deepseek-coder) gives exactly HF's ids (the .out lines = encode(text, add_special_tokens=False)).
# The shared .gguf copies were mangled by a UTF-8 "replace" round trip; they are restored first
# by tokenize_gguf_repair.py (verified byte for byte against the mangled file) and cached.
source "$FT_ROOT/tests/lib.sh"
need_py
td="$FT_TESTDATA/tokenizer"
[ -f "$td/ggml-vocab-gpt-2.gguf" ] || skip "no $td"
cache="${FT_CACHE:-$HOME/.cache/ft}/tokenizer-vocab"
{ mkdir -p "$cache" && [ -w "$cache" ]; } 2>/dev/null || { cache=$PWD/vocab; mkdir -p "$cache"; }
fixer="$FT_ROOT/tests/parity/tokenize_gguf_repair.py"
suite="$FT_ROOT/tests/parity/tokenize_suite.py"
for v in gpt-2 llama-spm phi-3 starcoder deepseek-coder; do
  f="$td/ggml-vocab-$v.gguf"
  key=$(cat "$f" "$fixer" | sha256sum | cut -c1-16)
  g="$cache/ggml-vocab-$v.$key.gguf"
  if [ ! -s "$g" ]; then
    "$FT_PY" "$fixer" "$f" "$g.tmp" 2>/dev/null || fail "$v: cannot restore the vocabulary file"
    mv "$g.tmp" "$g"
  fi
  "$FT_PY" "$suite" inp "$f.inp" > "$v.jsonl"
  ft-tokenize --tokenizer "$g" --field text --no-add-bos --no-add-eos --jsonl "$v.jsonl" > "$v.ids" || fail "$v: ft-tokenize failed"
  "$FT_PY" "$suite" check "$f.out" "$v.ids" > "$v.res" 2>&1 || { cat "$v.res" >&2; fail "$v: ids differ from HF"; }
  echo "$v: $(cat "$v.res")"
done
