#!/usr/bin/env bash
# eval-generate-smollm2.sh — greedy chat answers of SmolLM2-135M-Instruct (chat template from
# the GGUF, stop at <|im_end|>): the capital of France is Paris, 2 + 2 is 4.
source "$FT_ROOT/tests/lib.sh"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}   # no spinning threads on a shared machine
M=$(model_path) && [ -f "$M" ] || skip "SmolLM2 GGUF not cached (make model)"
cat >q.jsonl <<'J'
{"id":1,"messages":[{"role":"user","content":"What is the capital of France?"}]}
{"id":2,"messages":[{"role":"user","content":"What is 2 + 2?"}]}
J
ft-eval --model "$M" generate --max-new-tokens 24 -o out.jsonl q.jsonl || fail "generate"
cat out.jsonl
jq -s -e 'map(select(.id == 1))[0].output | test("Paris")' out.jsonl >/dev/null || fail "no Paris"
jq -s -e 'map(select(.id == 2))[0].output | test("4")' out.jsonl >/dev/null || fail "no 4"
[ "$(wc -l <out.jsonl)" -eq 2 ] || fail "expected 2 records"
