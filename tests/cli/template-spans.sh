# Loss spans on real templates (built-ins and the models' own templates from cases.jsonl):
# the train:true segments are exactly each assistant content (trimmed where the template trims
# it) followed by the marker that closes its turn, in order, and nothing else; the segments
# concatenated are the whole rendering. Contents are chosen to trip naive searches (the
# first answer "OK" also occurs inside the user's question; padded content).
source "$FT_ROOT/tests/lib.sh"
command -v jq >/dev/null || skip "jq not installed"
cases="$FT_TESTDATA/chat-templates/cases.jsonl"
# the first template in the corpus matching a jq condition (no pipe into head: pipefail)
tplof() { jq -j -s "map($1)[0].template" "$cases"; }
conv='[{"role":"system","content":"You are terse."},{"role":"user","content":"Say OK please"},{"role":"assistant","content":"OK"},{"role":"user","content":"Now 2+2?"},{"role":"assistant","content":"  4, of course.  "},{"role":"user","content":"Bye"},{"role":"assistant","content":"Bye!\nSee you."}]'
raw='["OK","  4, of course.  ","Bye!\nSee you."]'
trimmed='["OK","4, of course.","Bye!\nSee you."]'
# check NAME TEMPLATE-ARGS... -- CONTENTS MARKERS (JSON arrays) [no-system]
check() {
  local name=$1; shift
  local args=(); while [ "$1" != -- ]; do args+=("$1"); shift; done; shift
  local contents=$1 markers=$2 msgs=$conv
  [ "${3:-}" = no-system ] && msgs=$(jq -c '.[1:]' <<<"$conv")
  jq -nc --argjson m "$msgs" '{id: "x", messages: $m}' >in.jsonl
  ft-template "${args[@]}" in.jsonl >out.jsonl 2>err || { cat err >&2; fail "$name: ft-template failed"; }
  ft-template "${args[@]}" --train-on-inputs in.jsonl >all.jsonl
  ft-template "${args[@]}" --last-turn-only in.jsonl >last.jsonl
  # one jq pass: train segments in order = content + marker; segments add up to the whole
  # rendering (--train-on-inputs: one trainable segment); --last-turn-only: the final answer
  jq -nr --argjson c "$contents" --argjson k "$markers" --slurpfile o out.jsonl --slurpfile a all.jsonl --slurpfile l last.jsonl '
    ([range($c|length) | $c[.] + $k[.]]) as $want
    | ([$o[0].segments[] | select(.train) | .text]) as $got
    | if $got != $want then "train segments \($got|tojson), expected \($want|tojson)"
      elif $o[0].id != "x" then "id not passed through"
      elif ([$a[0].segments[].train] != [true]) then "--train-on-inputs is not one trainable segment"
      elif ([$o[0].segments[].text] | join("")) != $a[0].segments[0].text then "segments do not add up to the rendering"
      elif ([$l[0].segments[] | select(.train) | .text] != [$want[-1]]) then "--last-turn-only: \([$l[0].segments[] | select(.train) | .text]|tojson)"
      else "ok" end' >verdict
  [ "$(cat verdict)" = ok ] || fail "$name: $(cat verdict)"
  echo "ok $name" >&2
}

check chatml -t chatml -- "$raw" '["<|im_end|>\n","<|im_end|>\n","<|im_end|>\n"]'
check llama3 -t llama3 -- "$trimmed" '["<|eot_id|>","<|eot_id|>","<|eot_id|>"]'
check mistral -t mistral -- "$raw" '["</s>","</s>","</s>"]'
check gemma -t gemma -- "$trimmed" '["<end_of_turn>\n","<end_of_turn>\n","<end_of_turn>\n"]' no-system
check phi3 -t phi3 -- "$raw" '["<|end|>\n","<|end|>\n","<|end|>\n<|endoftext|>"]'
if [ -f "$cases" ]; then
  tplof 'select(.name | startswith("teknium/OpenHermes"))' >openhermes.jinja
  check openhermes-chatml -t openhermes.jinja -- "$raw" '["<|im_end|>\n","<|im_end|>\n","<|im_end|>\n"]'
  tplof 'select(.name | contains("v1\u0027 template with a system"))' >mistral-v1.jinja
  check mistral-v1 -t mistral-v1.jinja --bos-token '<s>' --eos-token '</s>' -- "$raw" '["</s>","</s>","</s>"]'
  tplof 'select(.name | startswith("google/gemma-7b-it"))' >gemma-it.jinja
  check gemma-7b-it -t gemma-it.jinja -- "$trimmed" '["<end_of_turn>\n","<end_of_turn>\n","<end_of_turn>\n"]' no-system
  tplof 'select(.name | startswith("Phi-3-mini"))' >phi3-mini.jinja
  check phi3-mini -t phi3-mini.jinja -- "$raw" '["<|end|>\n","<|end|>\n","<|end|>\n"]'
fi
# --generation-prompt: the final answer is held out as "reference", the rest ends with the prompt
jq -nc --argjson m "$conv" '{id: "g", messages: $m}' >in.jsonl
ft-template -t chatml --generation-prompt in.jsonl >gen.jsonl
[ "$(jq -r .reference gen.jsonl)" = "$(printf 'Bye!\nSee you.')" ] || fail "reference not held out: $(cat gen.jsonl)"
[ "$(jq -c '[.segments[].train]' gen.jsonl)" = '[false]' ] || fail "--generation-prompt segments must all be train:false"
want='<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nSay OK please<|im_end|>\n<|im_start|>assistant\nOK<|im_end|>\n<|im_start|>user\nNow 2+2?<|im_end|>\n<|im_start|>assistant\n  4, of course.  <|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n'
[ "$(jq -j '.segments[0].text' gen.jsonl)" = "$(printf '%b' "$want")" ] ||
  fail "--generation-prompt rendering: $(jq .segments[0].text gen.jsonl)"
# tool use (Mistral v3, tools announced before the last user turn): the final answer still
# trains on content + "</s>"; the tool-call turn, which the prefix renderings cannot isolate
# (the tools block moves), is reported and gets no loss rather than a wrong one
if [ -f "$cases" ]; then
  tplof 'select(.name | startswith("Mistral-Large-Instruct-2407"))' >mistral-v3.jinja
  jq -nc '{tools: [{type: "function", function: {name: "get_weather", parameters: {type: "object"}}}],
           messages: [{role: "user", content: "Weather in Paris?"},
                      {role: "assistant", content: null, tool_calls: [{id: "abc123def", type: "function", function: {name: "get_weather", arguments: {city: "Paris"}}}]},
                      {role: "tool", tool_call_id: "abc123def", content: "22C"},
                      {role: "assistant", content: "It is 22C."}, {role: "user", content: "Thanks"}]}' >tools.jsonl
  ft-template -t mistral-v3.jinja --eos-token '</s>' tools.jsonl >out.jsonl 2>err
  [ "$(jq -c '[.segments[] | select(.train) | .text]' out.jsonl)" = '["It is 22C.</s>"]' ] || fail "tools: $(cat out.jsonl)"
  expect_in "1 assistant message(s) do not appear" err
fi
# tool calls with a Qwen2.5-style template: the tool-call turn trains on the text it adds
# (the call and "<|im_end|>\n"), the answer on content + marker
jq -nc '{tools: [{type: "function", function: {name: "get_weather", parameters: {type: "object"}}}],
         messages: [{role: "user", content: "Weather in Paris?"},
                    {role: "assistant", content: null, tool_calls: [{type: "function", function: {name: "get_weather", arguments: {city: "Paris"}}}]},
                    {role: "tool", content: "22C"}, {role: "assistant", content: "It is 22C."}]}' >tools.jsonl
ft-template -t "$FT_ROOT/tests/cli/template-qwen25.jinja" tools.jsonl >out.jsonl 2>err
want='["<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n","It is 22C.<|im_end|>\n"]'
[ "$(jq -c '[.segments[] | select(.train) | .text]' out.jsonl)" = "$want" ] || fail "qwen tool calls: $(jq -c '[.segments[] | select(.train) | .text]' out.jsonl)"
[ ! -s err ] || fail "qwen tool calls: unexpected warning $(cat err)"
# a template that rewrites the answers (upper-cases them) while a later user message repeats
# the original text: reported and given no loss, never masked onto the user's words
printf "{%% for m in messages %%}<{{ m.role }}>{{ m.content|upper if m.role == 'assistant' else m.content }}</s>{%% endfor %%}" >upper.jinja
echo '{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"hello"},{"role":"user","content":"hello"},{"role":"assistant","content":"ok"}]}' >rw.jsonl
ft-template -t upper.jinja rw.jsonl >out.jsonl 2>err
[ "$(jq -c '[.segments[] | select(.train)]' out.jsonl)" = '[]' ] || fail "rewritten answers were masked: $(cat out.jsonl)"
expect_in "2 assistant message(s) do not appear in the rendering" err
# a template that drops them: the same report
printf "{%% for m in messages if m.role != 'assistant' %%}{{ m.content }}{%% endfor %%}" >drop.jinja
ft-template -t drop.jinja rw.jsonl >out.jsonl 2>err
[ "$(jq -j '[.segments[].text] | join("")' out.jsonl)" = xhello ] || fail "drop: $(cat out.jsonl)"
[ "$(jq -c '[.segments[] | select(.train)]' out.jsonl)" = '[]' ] || fail "dropped answers were masked: $(cat out.jsonl)"
expect_in "2 assistant message(s) do not appear in the rendering" err
# a template that marks its assistant text with {% generation %} (HF's assistant mask): the
# marks are the spans, whatever they cover (here once content + marker, once content only)
printf "{%% for m in messages %%}<|im_start|>{{ m.role }}\n{%% if m.role == 'assistant' %%}{%% generation %%}{{ m.content }}<|im_end|>{%% endgeneration %%}\n{%% else %%}{{ m.content }}<|im_end|>\n{%% endif %%}{%% endfor %%}" >gen1.jinja
printf "{%% for m in messages %%}<|im_start|>{{ m.role }}\n{%% if m.role == 'assistant' %%}{%% generation %%}{{ m.content }}{%% endgeneration %%}{%% else %%}{{ m.content }}{%% endif %%}<|im_end|>\n{%% endfor %%}" >gen2.jinja
echo '{"messages":[{"role":"user","content":"OK?"},{"role":"assistant","content":"OK"},{"role":"user","content":"b"},{"role":"assistant","content":"c"}]}' >g.jsonl
[ "$(ft-template -t gen1.jinja g.jsonl | jq -c '[.segments[] | select(.train) | .text]')" = '["OK<|im_end|>","c<|im_end|>"]' ] || fail "generation marks (content + marker)"
[ "$(ft-template -t gen2.jinja g.jsonl | jq -c '[.segments[] | select(.train) | .text]')" = '["OK","c"]' ] || fail "generation marks (content only)"
[ "$(ft-template -t gen2.jinja g.jsonl | jq -j '[.segments[].text] | join("")')" = "$(printf '<|im_start|>user\nOK?<|im_end|>\n<|im_start|>assistant\nOK<|im_end|>\n<|im_start|>user\nb<|im_end|>\n<|im_start|>assistant\nc<|im_end|>\n')" ] || fail "generation template rendering"
