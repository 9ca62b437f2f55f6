#!/usr/bin/env bash
# eval-ppl-smollm2.sh — SmolLM2-135M-Instruct perplexity on a held-out English text written for
# this test (tests/parity/model-smollm2.txt, 248 tokens): a plausible range for a 135M model
# (measured 15.9), and the same loss whether scored whole or in --max-len 64 windows plus
# --max-len windows never dropping a target (tokens = n - 1 in both).
source "$FT_ROOT/tests/lib.sh"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}   # no spinning threads on a shared machine
M=$(model_path) && [ -f "$M" ] || skip "SmolLM2 GGUF not cached (make model)"
jq -c -Rs '{text:.}' "$FT_ROOT/tests/parity/model-smollm2.txt" | ft-tokenize --tokenizer "$M" -o e.tok - || fail "tokenize"
ft-eval --model "$M" ppl e.tok >whole.json || fail "ppl"
cat whole.json
jq -e '.ppl > 5 and .ppl < 40 and .records == 1 and .tokens > 200' whole.json >/dev/null || fail "implausible perplexity"
ft-eval --model "$M" ppl --max-len 64 e.tok >win.json || fail "ppl --max-len"
jq -e --slurpfile w whole.json '.tokens == $w[0].tokens and .loss > $w[0].loss' win.json >/dev/null ||
  fail "windows must score the same tokens, with less context (higher loss): $(cat win.json)"
