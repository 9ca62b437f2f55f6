# bench-tiny.sh — ft-eval bench on a tiny random Llama (made by the test suite) over the
# fixtures in tests/fixtures/bench (a few records of each task in the converted JSONL format):
# every request (contexts, continuations, gold, len(choice) in characters and bytes) equal to
# tests/parity/bench_ref.py's, which renders lm-eval's YAML templates with jinja2 and runs its
# task code; every log-likelihood within 1e-3 of the NumPy float64 forward with HF tokenizers
# encoding as lm-eval's _encode_pair, and acc / acc_norm / acc_bytes identical, on the packed,
# shared-context and whole-sequence paths; MMLU 2-shot; compare's gate on bench reports; errors.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" -c 'import tokenizers, safetensors, numpy, jinja2' 2>/dev/null || skip "tokenizers/safetensors/numpy/jinja2 missing in the venv"
ref() { "$FT_PY" "$FT_ROOT/tests/parity/bench_ref.py" "$@"; }
F="$FT_ROOT/tests/fixtures/bench"
T=arc_easy,arc_challenge,hellaswag,piqa,winogrande,boolq,sciq,openbookqa,mmlu
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --seed 5
ft-eval bench --data "$F" --dump-requests req.jsonl $T || fail "--dump-requests"
ref requests "$F" req.jsonl $T 0 -1 || fail "requests differ from lm-eval's"
for p in packed shared whole; do
  ft-eval --model tiny bench -q --path $p --data "$F" --out-dir $p $T >$p.json || fail "bench --path $p"
  ref scores tiny tiny/tokenizer.json "$F" $p $T 0 -1 >$p.out || { cat $p.out; fail "path $p differs from the reference"; }
  [ "$(jq -r .speed.path $p/piqa.json)" = $p ] || fail "path $p not taken"
done
tail -1 packed.out
# 2-shot MMLU (first 2 dev examples of the subject), one subject alone
ft-eval --model tiny bench -q --fewshot 2 --data "$F" --out-dir fs --dump-requests fs.jsonl mmlu,mmlu_high_school_us_history >/dev/null
ref requests "$F" fs.jsonl mmlu,mmlu_high_school_us_history 2 -1 || fail "2-shot requests"
ref scores tiny tiny/tokenizer.json "$F" fs mmlu,mmlu_high_school_us_history 2 -1 >/dev/null || fail "2-shot scores"
[ "$(jq .records fs/mmlu_high_school_us_history.json)" = 1 ] || fail "subject filter"
# --limit, the combined stdout report
ft-eval --model tiny bench -q --limit 2 --data "$F" arc_easy,piqa >lim.json
[ "$(jq '.arc_easy.records + .piqa.records' lim.json)" = 4 ] || fail "--limit 2: $(cat lim.json)"
# compare reads the per-task reports; the gate follows the accuracies
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny2 --seed 6
ft-eval --model tiny2 bench -q --data "$F" --out-dir b $T >/dev/null
for t in hellaswag piqa boolq; do
  a=$(jq .acc packed/$t.json) b=$(jq .acc b/$t.json)
  want=0; awk "BEGIN{exit !($b < $a)}" && want=3
  expect_exit $want ft-eval compare --max-regression acc=0 packed/$t.json b/$t.json
  grep -q '^acc ' out || fail "compare of $t has no acc row"
done
ft-eval compare packed/piqa.json whole/piqa.json --json >same.json
[ "$(jq '[.metrics[] | select(.metric=="acc") | .ci95] | .[0] == [0,0]' same.json)" = true ] || fail "paired CI of equal runs"
# errors
expect_exit 2 ft-eval --model tiny bench --data "$F" arc
expect_in "unknown task 'arc'" err
expect_exit 2 ft-eval --model tiny bench --data "$F" --fewshot 1 arc_easy
expect_in "train split" err
expect_exit 2 ft-eval bench --data "$F" piqa
expect_in "--model is required" err
expect_exit 1 ft-eval --model tiny bench --data nowhere piqa
expect_in "run 'make bench-data' or pass --data DIR" err
mkdir bad && cp "$F"/*.jsonl bad/ && printf '%s\n' '{"goal": "g", "sol1": "a", "sol2": "b", "label": 2}' >>bad/piqa.jsonl
expect_exit 1 ft-eval --model tiny bench --data bad piqa
expect_in "bad/piqa.jsonl:4: the gold label 2 is not an index into the 2 choices" err
expect_exit 1 ft-eval --model tiny bench --data "$F" --fewshot 3 mmlu_high_school_us_history
expect_in "only 2 examples of subject 'high_school_us_history'" err
