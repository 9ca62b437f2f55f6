#!/usr/bin/env bash
# eval-generate-template.sh — ft-template --generation-prompt | ft-eval generate: the segment
# prompt gives the same greedy output as the {"messages"} record rendered by generate itself
# (both from the model's chat template), and passthrough fields (id, reference) are kept.
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf m --seed 21
echo '{"id":"a","messages":[{"role":"user","content":"in the end"},{"role":"assistant","content":"the answer"}]}' >c.jsonl
echo '{"id":"a","messages":[{"role":"user","content":"in the end"}]}' >q.jsonl
ft-template --template m --generation-prompt c.jsonl | ft-eval --model m generate --max-new-tokens 12 >seg.out
ft-eval --model m generate --max-new-tokens 12 q.jsonl >msg.out
jq -e -s '.[0].reference == "the answer" and .[0].id == "a" and .[0].output == .[1].output and (.[0].output | length) > 0' \
  seg.out msg.out >/dev/null || fail "segments and messages prompts differ: $(cat seg.out msg.out)"
# the chat template's rendering budget, as ft-template's: a limit below what the template needs
# (its loop runs once per message: two here) fails naming the budget
echo '{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"in the end"}]}' >q2.jsonl
expect_exit 1 ft-eval --model m generate --template-limit iterations=1 --max-new-tokens 2 q2.jsonl
expect_in "loop budget" err
expect_exit 0 ft-eval --model m generate --template-limit iterations=1000 --max-new-tokens 12 q.jsonl
cmp -s out msg.out || fail "a budget the template does not reach changed the output"
expect_exit 2 ft-eval --model m generate --template-limit bogus=1 q.jsonl
