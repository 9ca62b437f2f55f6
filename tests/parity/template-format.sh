# template-format.sh — Python string formatting in ft-template's Jinja against jinja2 as HF sets
# it up: the format filter, the % operator and str.format (fixed cases + 300 seeded random
# flags/fill/align/sign/width/grouping/precision/type combinations, error texts compared), and
# recursive loops with loop(), groupby, batch, slice, loop.cycle/changed, namespace edge cases.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" -c 'import jinja2' 2>/dev/null || skip "jinja2 not installed in the venv"
"$FT_PY" "$FT_ROOT/tests/parity/template_format.py" check 2>log || { cat log >&2; fail "ft-template's formatting differs from jinja2"; }
cat log >&2
grep -q '^format: \([0-9]*\)/\1 cases match' log || fail "no format count line"
