# template-jinja.sh — ft-template's Jinja interpreter against Python jinja2 configured as HF
# apply_chat_template configures it: ~50 templates covering whitespace control, Python value
# printing, arithmetic, slicing, loops, macros, call/filter blocks, namespace, filters, tests,
# string methods and tojson render byte-identically; runtime and syntax errors exit 1 with
# "TEMPLATE:LINE:" in the message; raise_exception messages surface.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" -c 'import jinja2' 2>/dev/null || skip "jinja2 not installed in the venv"
"$FT_PY" "$FT_ROOT/tests/parity/template_ref.py" check || fail "ft-template differs from jinja2"
