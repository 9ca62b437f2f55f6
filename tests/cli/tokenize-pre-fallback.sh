# A GGUF vocabulary whose tokenizer.ggml.pre names a pre-tokenizer ft does not know is used
# with llama.cpp's "default" regexes, and the tool says so on stderr (the library reports it
# through the log hooks the tools install): its ids equal those of the same vocabulary with
# tokenizer.ggml.pre = "default", which loads without a warning.
source "$FT_ROOT/tests/lib.sh"
need_py
src="$FT_TESTDATA/tokenizer/ggml-vocab-gpt-2.gguf"
[ -f "$src" ] || skip "no $src"
for pre in no-such-pre-tokenizer default; do
"$FT_PY" - "$src" "$pre.gguf" "$pre" <<'PY'
import sys, gguf
r = gguf.GGUFReader(sys.argv[1])
w = gguf.GGUFWriter(sys.argv[2], arch="gpt2")
for f in r.fields.values():
    if f.name.startswith("GGUF.") or f.name == "general.architecture":
        continue
    vt = f.types[0]
    if f.name == "tokenizer.ggml.pre":
        w.add_string(f.name, sys.argv[3]); continue
    if vt == gguf.GGUFValueType.ARRAY:
        sub = f.types[-1]
        if sub == gguf.GGUFValueType.STRING:
            vals = [bytes(f.parts[i]).decode("utf-8", "surrogateescape") for i in f.data]
        else:
            vals = [f.parts[i].tolist()[0] for i in f.data]
        w.add_array(f.name, vals)
    elif vt == gguf.GGUFValueType.STRING:
        w.add_string(f.name, bytes(f.parts[f.data[0]]).decode("utf-8"))
    else:
        w.add_key_value(f.name, f.parts[f.data[0]].tolist()[0], vt)
w.write_header_to_file(); w.write_kv_data_to_file(); w.close()
PY
done
printf '{"text":"Hello world, 123 apples! It'"'"'s 4567 o'"'"'clock."}\n' > in.jsonl
expect_exit 0 ft-tokenize --tokenizer no-such-pre-tokenizer.gguf --no-add-bos --no-add-eos --jsonl in.jsonl
expect_in 'ft-tokenize: warning: no-such-pre-tokenizer.gguf:' err
expect_in '"default"' err
mv out unknown.jsonl
expect_exit 0 ft-tokenize --tokenizer default.gguf --no-add-bos --no-add-eos --jsonl in.jsonl
[ ! -s err ] || { cat err >&2; fail "the explicit default pre-tokenizer warned"; }
cmp -s unknown.jsonl out || { cat unknown.jsonl out >&2; fail "the fallback's ids differ from the explicit default's"; }
