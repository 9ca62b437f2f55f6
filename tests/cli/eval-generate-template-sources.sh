#!/usr/bin/env bash
# eval-generate-template-sources.sh — ft-eval generate finds a model's chat template where
# ft-template does (lib/template/template.h): a chat_template.json beside a tokenizer_config.json without
# one renders {"messages"} as Python jinja2 renders the same template (the greedy output equals
# that of the jinja2-rendered text given as a segment prompt); a broken template file is an
# error naming it, and a model without any template refuses only {"messages"} records.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" -c 'import jinja2' 2>/dev/null || skip "jinja2 missing in the venv"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf m --seed 21
"$FT_PY" - <<'PY'
import json
p = "m/tokenizer_config.json"
c = json.load(open(p)); c.pop("chat_template", None); json.dump(c, open(p, "w"))
tpl = "{% for m in messages %}<{{ m.role }}> {{ m.content }}{{ eos_token }}\n{% endfor %}{% if add_generation_prompt %}<assistant> {% endif %}"
json.dump({"chat_template": tpl}, open("m/chat_template.json", "w"))
PY
echo '{"id":1,"messages":[{"role":"user","content":"in the end"}]}' >q.jsonl
echo '{"id":2,"prompt":"the world"}' >p.jsonl
# without a template: prompt records work, messages records are refused
ft-eval --model m generate --max-new-tokens 4 p.jsonl >/dev/null || fail "prompt record without a template"
mv m/chat_template.json tpl.json
expect_exit 1 ft-eval --model m generate --max-new-tokens 4 q.jsonl
expect_in '{"messages"} needs a chat template, and m has none' err
mv tpl.json m/chat_template.json
# the reference rendering: jinja2 with the tokenizer's EOS string
"$FT_PY" - <<'PY'
import json, jinja2
tpl = json.load(open("m/chat_template.json"))["chat_template"]
eos = json.load(open("m/tokenizer_config.json")).get("eos_token")
eos = eos["content"] if isinstance(eos, dict) else eos
msgs = json.loads(open("q.jsonl").readline())["messages"]
text = jinja2.Environment().from_string(tpl).render(messages=msgs, add_generation_prompt=True, eos_token=eos, bos_token="")
assert eos and eos in text, (eos, text)
print(json.dumps({"id": 1, "segments": [{"text": text, "train": False}]}), file=open("s.jsonl", "w"))
PY
ft-eval --model m generate --max-new-tokens 12 q.jsonl >msg.out || fail "messages with chat_template.json"
ft-eval --model m generate --max-new-tokens 12 s.jsonl >seg.out
jq -e -s '.[0].output == .[1].output and (.[0].output | length) > 0' msg.out seg.out >/dev/null ||
  fail "chat_template.json rendering differs from jinja2's: $(cat msg.out seg.out)"
# a broken template file is an error, not "no template"
echo '{"chat_template": "{% for m in messages %}"}' >m/chat_template.json
expect_exit 1 ft-eval --model m generate --max-new-tokens 4 p.jsonl
expect_in "chat_template.json" err
