#!/usr/bin/env bash
# eval-generate-tiny.sh — ft-eval generate options on a tiny random model: --max-new-tokens 0,
# seeded sampling reproducible (and seed-dependent), --stop cuts the greedy output at the
# first occurrence, bad records fail with FILE:LINE (or are skipped with --skip-bad),
# {"messages"} without a chat template and prompts longer than --max-len are refused.
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf m --seed 21
cat >p.jsonl <<'J'
{"id":1,"prompt":"the weather in"}
{"id":2,"messages":[{"role":"user","content":"hi there"}]}
J
ft-eval --model m generate --max-new-tokens 0 p.jsonl >z.jsonl
jq -e -s 'length == 2 and all(.[]; .output == "") and .[0].id == 1' z.jsonl >/dev/null || fail "max-new-tokens 0"
ft-eval --model m generate --temperature 1 --top-k 50 --seed 1 --max-new-tokens 16 p.jsonl >s1.jsonl
ft-eval --model m generate --temperature 1 --top-k 50 --seed 1 --max-new-tokens 16 -o s1b.jsonl p.jsonl
ft-eval --model m generate --temperature 1 --top-k 50 --seed 2 --max-new-tokens 16 p.jsonl >s2.jsonl
cmp s1.jsonl s1b.jsonl || fail "same seed, different samples"
cmp -s s1.jsonl s2.jsonl && fail "different seeds, same samples"
# --stop: pick an ASCII substring of the greedy output and expect the text before it
ft-eval --model m generate --max-new-tokens 40 p.jsonl >g.jsonl
stop=$("$FT_PY" -c '
import json, re, sys
o = json.loads(open("g.jsonl").readline())["output"]
m = re.search(r"[A-Za-z0-9]{2}", o[1:])
print(m.group(0) if m else "")')
if [ -n "$stop" ]; then
  ft-eval --model m generate --max-new-tokens 40 --stop "$stop" p.jsonl >st.jsonl
  "$FT_PY" - "$stop" <<'P' || fail "--stop"
import json, sys
s = sys.argv[1]
full = json.loads(open("g.jsonl").readline())["output"]
got = json.loads(open("st.jsonl").readline())["output"]
assert got == full.split(s)[0], (full, got, s)
P
fi
# bad records
printf '%s\n' '{"id":1,"prompt":"a"}' '{"id":2,"nothing":true}' '{"id":3,"prompt":"b"}' >bad.jsonl
expect_exit 1 ft-eval --model m generate --max-new-tokens 2 bad.jsonl
expect_in "bad.jsonl:2: record has none of" err
expect_exit 0 ft-eval --model m generate --max-new-tokens 2 --skip-bad bad.jsonl
[ "$(jq -s 'map(.id)' out | tr -d ' \n')" = "[1,3]" ] || fail "--skip-bad kept $(cat out)"
# no chat template
jq 'del(.chat_template)' m/tokenizer_config.json >t && mv t m/tokenizer_config.json
expect_exit 1 ft-eval --model m generate p.jsonl
expect_in "p.jsonl:2: {\"messages\"} needs a chat template" err
expect_exit 1 ft-eval --model m generate --max-len 4 p.jsonl
expect_in "does not fit the context of 4" err
expect_exit 2 ft-eval --model m generate --top-p 0 p.jsonl
