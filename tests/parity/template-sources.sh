# Template sources: HF model dirs (tokenizer_config.json with chat_template as a string or a
# named list, bos/eos as strings or AddedToken objects; chat_template.jinja), GGUF files
# (tokenizer.chat_template and the bos/eos token strings, written here with the gguf package),
# --template auto --model, --bos-token/--eos-token overrides; and the real SmolLM2 GGUF's own
# template rendered like Python jinja2 renders it.
source "$FT_ROOT/tests/lib.sh"
need_py
command -v jq >/dev/null || skip "jq not installed"
"$FT_PY" -c 'import gguf, jinja2' 2>/dev/null || skip "gguf/jinja2 not installed in the venv"
tpl='{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token if m.role == "assistant" }}
{% endfor %}'
echo '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}' >in.jsonl
want=$(printf 'BOS[user] hi\n[assistant] yoEOS\n')
render() { ft-template "$@" in.jsonl | jq -j '[.segments[].text]|join("")'; }

mkdir -p m1 m2 m3
jq -n --arg t "$tpl" '{chat_template: $t, bos_token: "BOS", eos_token: {content: "EOS", lstrip: false}}' >m1/tokenizer_config.json
[ "$(render -t m1)" = "$want" ] || fail "model dir, string chat_template: $(render -t m1)"
[ "$(render --model m1)" = "$want" ] || fail "--model dir (auto)"
[ "$(render -t m1/tokenizer_config.json)" = "$want" ] || fail "tokenizer_config.json path"
jq -n --arg t "$tpl" '{chat_template: [{name: "tool_use", template: "WRONG"}, {name: "default", template: $t}], bos_token: "BOS", eos_token: "EOS"}' >m2/tokenizer_config.json
[ "$(render -t m2)" = "$want" ] || fail "named list chat_template must pick 'default'"
printf '%s' "$tpl" >m3/chat_template.jinja
jq -n '{bos_token: "BOS", eos_token: "EOS"}' >m3/tokenizer_config.json
[ "$(render -t auto -m m3)" = "$want" ] || fail "chat_template.jinja in a model dir"
[ "$(render -t m3 --bos-token B2 --eos-token E2)" = "$(printf 'B2[user] hi\n[assistant] yoE2\n')" ] || fail "--bos-token/--eos-token override"
# a template file with --model: the model's special tokens (its own chat template not needed)
printf '{{ bos_token }}|{{ eos_token }}' >tok.jinja
mkdir -p m5; echo '{"bos_token":"B5","eos_token":{"content":"E5"}}' >m5/tokenizer_config.json
[ "$(render -t tok.jinja -m m5)" = "B5|E5" ] || fail "--template FILE --model DIR: $(render -t tok.jinja -m m5)"
expect_exit 1 ft-template -t tok.jinja -m no-such-model in.jsonl
expect_in "no-such-model: no such file or directory" err
mkdir -p m4; echo '{"bos_token":"<s>"}' >m4/tokenizer_config.json
expect_exit 1 ft-template -t m4 in.jsonl
expect_in "no chat_template" err
echo '{"chat_template": 5}' >m4/tokenizer_config.json
expect_exit 1 ft-template -t m4 in.jsonl
expect_in "chat_template is neither a string nor a list" err

# GGUF with a chat template and a vocabulary (one Python process: it also renders the real
# model's template, extracted by ft-template, with jinja2 for the comparison below)
gg=$(model_path) || true
[ -n "$gg" ] && [ -f "$gg" ] && ft-template -m "$gg" --print-template >smol.jinja || rm -f smol.jinja
jq -nc '{messages: [{role: "user", content: "What is 2+2?"}, {role: "assistant", content: "4."}, {role: "user", content: "Thanks"}]}' >smol.jsonl
"$FT_PY" - "$tpl" <<'PY'
import os, sys, json, gguf
w = gguf.GGUFWriter("t.gguf", "llama")
w.add_chat_template(sys.argv[1])
w.add_tokenizer_model("llama")
w.add_token_list(["<unk>", "BOS", "EOS", "a"])
w.add_bos_token_id(1)
w.add_eos_token_id(2)
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
if os.path.exists("smol.jinja"):
    sys.path.insert(0, os.environ["FT_ROOT"] + "/tests/parity")
    from template_ref import make_env
    msgs = json.loads(open("smol.jsonl").read())["messages"]
    # SmolLM2's template does not use bos/eos; were that to change, the comparison would fail
    out = make_env().from_string(open("smol.jinja").read()).render(messages=msgs, add_generation_prompt=True)
    open("want.txt", "w").write(out)
PY
[ "$(render -t t.gguf)" = "$want" ] || fail "GGUF chat template: $(render -t t.gguf)"
[ "$(render -m t.gguf)" = "$want" ] || fail "--model GGUF (auto)"
[ "$(render -t tok.jinja -m t.gguf)" = "BOS|EOS" ] || fail "--template FILE --model GGUF: $(render -t tok.jinja -m t.gguf)"
printf 'not a gguf' >bad.gguf
expect_exit 1 ft-template -t bad.gguf in.jsonl
expect_in "bad.gguf" err

# the real model's own template, as jinja2 renders it
[ -f smol.jinja ] || skip "SmolLM2 GGUF not cached (make model); other checks passed"
ft-template -m "$gg" --generation-prompt smol.jsonl | jq -j '.segments[0].text' >got.txt
cmp -s got.txt want.txt || { diff want.txt got.txt >&2; fail "SmolLM2 template rendering differs from jinja2"; }
grep -q 'SmolLM' got.txt && grep -q '<|im_start|>assistant' got.txt || fail "SmolLM2 rendering lacks its system prompt or the generation prompt"
