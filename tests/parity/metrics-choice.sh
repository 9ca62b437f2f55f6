# metrics-choice.sh — ft-eval choice on a tiny random Llama (made by the test suite): every
# choice's log-likelihood against the NumPy float64 forward of tests/parity/model_ref.py with
# HF tokenizers encoding context and context+choice as lm-evaluation-harness does (1e-3),
# and acc / acc_norm recomputed from those.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" -c 'import tokenizers, safetensors, numpy' 2>/dev/null || skip "tokenizers/safetensors/numpy missing in the venv"
ref="$FT_ROOT/tests/parity/metrics_ref.py"
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --seed 5
"$FT_PY" "$ref" choice-data data.jsonl
ft-eval --model tiny choice --per-record per.jsonl -o rep.json data.jsonl || fail "ft-eval choice failed"
"$FT_PY" "$ref" choice tiny data.jsonl rep.json per.jsonl || fail "choice differs from the NumPy reference"
# bad records name the line
printf '%s\n' '{"context":"a","choices":["b","c"],"label":2}' >bad.jsonl
expect_exit 1 ft-eval --model tiny choice bad.jsonl
expect_in "bad.jsonl:1: field 'label' is not an index into the 2 choices" err
expect_exit 2 ft-eval choice data.jsonl
expect_in "--model is required" err
