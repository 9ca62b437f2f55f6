# Must show #1: every llama.cpp vocabulary suite in $FT_TESTDATA/tokenizer (ggml-vocab-NAME.gguf
# with its .inp cases and .out ids; the .out lines are HF encode(text, add_special_tokens=False))
# gives exactly the .out ids, read from the shared files as they are. Whatever suites are there
# are run (sorted by name), one line per vocabulary.
source "$FT_ROOT/tests/lib.sh"
need_py
td="$FT_TESTDATA/tokenizer"
ls "$td"/ggml-vocab-*.gguf.out >/dev/null 2>&1 || skip "no llama.cpp vocabulary suites in $td"
suite="$FT_ROOT/tests/parity/tokenize_suite.py"
n=0
for out in "$td"/ggml-vocab-*.gguf.out; do
  f=${out%.out}
  v=$(basename "$f" .gguf); v=${v#ggml-vocab-}
  [ -f "$f" ] && [ -f "$f.inp" ] || fail "$v: $out has no .gguf or .inp next to it"
  "$FT_PY" "$suite" inp "$f.inp" > "$v.jsonl"
  ft-tokenize --tokenizer "$f" --field text --no-add-bos --no-add-eos --jsonl "$v.jsonl" > "$v.ids" 2> "$v.err" ||
    { cat "$v.err" >&2; fail "$v: ft-tokenize failed"; }
  "$FT_PY" "$suite" check "$out" "$v.ids" > "$v.res" 2>&1 || { cat "$v.res" >&2; fail "$v: ids differ from HF"; }
  echo "$v: $(cat "$v.res")"
  n=$((n + 1))
done
echo "$n vocabularies"
