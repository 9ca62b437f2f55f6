#!/usr/bin/env bash
# eval-ppl-tiny.sh — ft-eval ppl on a tiny random model: the loss over masked targets (segment
# JSONL through ft-tokenize) equals the NumPy reference's; --max-len windows score the same
# targets; -o writes atomically; bad inputs fail with exit 1/2 and a message naming the cause
# (foreign tokenizer id, token outside the vocabulary, truncated stream, missing --model).
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mk() { "$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" "$@"; }
ref() { OPENBLAS_NUM_THREADS=1 "$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" "$@"; }
mk --hf m --seed 5
cat >s.jsonl <<'J'
{"segments":[{"text":"<|im_start|>user\nhello the world<|im_end|>\n<|im_start|>assistant\n","train":false},{"text":"in the er there<|im_end|>","train":true}]}
{"segments":[{"text":"abc ","train":false},{"text":"defgh","train":true},{"text":" xyz","train":false},{"text":" the end","train":true}]}
J
ft-tokenize --tokenizer m -o s.tok s.jsonl
ft-eval --model m ppl -o r.json s.tok || fail "ppl"
ref ppl m s.tok >ref.json
cat r.json ref.json
jq -e -s '(.[0].loss - .[1].loss | fabs) < 1e-5 and .[0].tokens == .[1].tokens and .[0].records == 2
          and (.[0].ppl - (.[0].loss | exp) | fabs) < 1e-6 * .[0].ppl' r.json ref.json >/dev/null || fail "loss differs from the reference"
ft-eval --model m ppl --max-len 8 s.tok >w.json
jq -e -s '.[0].tokens == .[1].tokens and .[0].loss != .[1].loss' r.json w.json >/dev/null || fail "windows: $(cat w.json)"
# another tokenizer (different vocabulary) is refused
mk --hf other --seed 5 --vocab 280
expect_exit 1 ft-eval --model other ppl s.tok
expect_in "another tokenizer" err
# token ids beyond the model's vocabulary
ref write-ftok big.tok '[[1,2,3],[4,400,5]]'
expect_exit 1 ft-eval --model m ppl big.tok
expect_in "record 2: token 400 at position 1 is outside the model's vocabulary (300)" err
# truncated stream: exit 1, no output file left behind
head -c 50 s.tok >trunc.tok
expect_exit 1 ft-eval --model m ppl -o out.json trunc.tok
[ ! -e out.json ] || fail "partial output left"
ls | grep -q 'out.json.tmp' && fail "temporary left"
expect_exit 2 ft-eval ppl s.tok
expect_in "--model is required" err
expect_exit 2 ft-eval --model m ppl --max-len 1 s.tok
expect_exit 1 ft-eval --model nowhere ppl s.tok
expect_in "nowhere" err
# --per-record: each record's mean loss equals scoring it alone; tokens-weighted mean = report
ref write-ftok three.tok '[[5,17,99,200,3,4,250,251,10],[7,8],[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]]'
ft-eval --model m ppl --max-len 8 --per-record per.jsonl -o rep.json three.tok
jq -e '.per_record == "per.jsonl"' rep.json >/dev/null || fail "report does not name the per-record file"
for i in 0 1 2; do
  ref write-ftok one.tok "[$(jq -c ".[$i]" <<<'[[5,17,99,200,3,4,250,251,10],[7,8],[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]]')]"
  ft-eval --model m ppl --max-len 8 one.tok >one.json
  jq -e -s --argjson i $i '(.[0].loss - (.[1:] | map(select(.index == $i))[0].loss) | fabs) < 1e-5' one.json per.jsonl >/dev/null ||
    fail "record $i: $(cat one.json) vs $(sed -n "$((i + 1))p" per.jsonl)"
done
jq -e -s '((.[1:] | map(.loss * .tokens) | add) / (.[1:] | map(.tokens) | add) - .[0].loss | fabs) < 1e-6' rep.json per.jsonl >/dev/null ||
  fail "per-record losses do not add up to the report"
ft-eval compare rep.json rep.json >/dev/null || fail "compare cannot read the ppl report"
