# The rendering budget (issue #17, items 1-2): runaway loops and growing lists stop fast with
# an error naming the limit and how to raise it, in bounded time and memory; a loop
# iteration's memory is released at its end; raised limits let a moderate template pass;
# with the limits raised so that memory runs out first, the render fails with exit 1 and a
# message (it used to end in a segmentation fault).
source "$FT_ROOT/tests/lib.sh"
echo '{"messages":[{"role":"user","content":"hi"}]}' >in.jsonl
# under the sanitizers the address space cannot be limited (ASan reserves terabytes)
lim() { if [ -n "${FT_SAN:-}" ]; then "$@"; else (ulimit -v "$MEM_KB"; exec "$@"); fi; }
MEM_KB=1600000
run() {   # run EXIT TEMPLATE-SOURCE [ft-template options]: render in.jsonl with it, under 1.6 GB and 120 s
  local want=$1 src=$2; shift 2
  printf '%s' "$src" >t.jinja
  rm -f out.jsonl
  expect_exit "$want" lim timeout 120 ft-template -t t.jinja --train-on-inputs -o out.jsonl "$@" in.jsonl
}
text() { "$FT_PY" -c 'import json,sys; print("".join(s["text"] for s in json.loads(open("out.jsonl").readline())["segments"]))' 2>/dev/null ||
         sed -e 's/^{"segments":\[{"text":"//' -e 's/","train":true}\]}$//' out.jsonl; }

# 1. nested loops without a bound (3.1 GB, and 20 GB for range(1000), before): the loop budget
for outer in 100 1000; do
  run 1 "{% for a in range($outer) %}{% for b in range(100000) %}{% endfor %}{% endfor %}x"
  expect_in "ft-template: in.jsonl:1: t.jinja:1: template exceeded the loop budget (10000000 iterations); raise it with --template-limit iterations=N" err
  [ ! -e out.jsonl ] || fail "partial output after the loop budget"
done
# ... and with the budget raised, the 10,000,100 iterations run in constant memory (under 1.6 GB; 3.1 GB before)
run 0 '{% for a in range(100) %}{% for b in range(100000) %}{% endfor %}{% endfor %}x' --template-limit iterations=20000000
[ "$(text)" = x ] || fail "raised loop budget: got '$(text)', expected 'x'"

# 2. a list doubling 30 times (8 GB before): the list size budget
run 1 '{% set ns = namespace(a=[1]) %}{% for i in range(30) %}{% set ns.a = ns.a + ns.a %}{% endfor %}'
expect_in "t.jinja:1: template exceeded the list/dict size budget (1000000 items); raise it with --template-limit items=N" err

# a raised limit lets a moderate loop pass, a lower one stops it (output computed by hand)
loop60='{% for i in range(60) %}{{ i % 10 }}{% endfor %}'
run 1 "$loop60" --template-limit iterations=59
expect_in "template exceeded the loop budget (59 iterations); raise it with --template-limit iterations=N" err
run 0 "$loop60" --template-limit iterations=60
[ "$(text)" = 012345678901234567890123456789012345678901234567890123456789 ] || fail "60 iterations: got '$(text)'"
# the other limits, each named
run 1 '{% for i in range(100) %}0123456789{% endfor %}' --template-limit output=999
expect_in "template exceeded the output budget (999 bytes); raise it with --template-limit output=BYTES" err
run 0 '{% for i in range(100) %}0123456789{% endfor %}' --template-limit output=1k
[ "$(text | wc -c)" -eq 1001 ] || fail "output=1k: $(text | wc -c) bytes"
run 1 '{{ "x" * 2000000 }}' --template-limit output=1M
expect_in "template exceeded the output budget (1048576 bytes)" err
rec='{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}.{% endmacro %}{{ f(9) }}'
run 1 "$rec" --template-limit depth=9
expect_in "template exceeded the recursion budget (9 nested calls); raise it with --template-limit depth=N" err
run 0 "$rec" --template-limit depth=10
[ "$(text)" = .......... ] || fail "depth=10: got '$(text)'"
run 1 '{% set ns = namespace(s="") %}{% for i in range(100000) %}{% set ns.s = ns.s ~ "0123456789" %}{% endfor %}'
expect_in "template exceeded the memory budget (1073741824 bytes); raise it with --template-limit memory=BYTES" err
run 1 '{% set x = range(2000)|list %}' --template-limit items=1999
expect_in "list/dict size budget (1999 items)" err
expect_exit 2 ft-template -t chatml --template-limit loops=5 in.jsonl
expect_in "unknown key" err
expect_exit 2 ft-template -t chatml --template-limit depth=100000 in.jsonl
expect_in "at most 1024" err

# values stored in a namespace from inside loops survive the per-iteration release
# (sum of 0..999 = 499500; 1000 iterations of 10 characters; nested: 20 * 30 items)
run 0 '{% set ns = namespace(l=[], s="", d={}) %}{% for i in range(1000) %}{% set ns.l = ns.l + [i] %}{% set ns.s = ns.s ~ "0123456789" %}{% endfor %}{{ ns.l|sum }} {{ ns.s|length }} {{ ns.l[999] }}'
[ "$(text)" = "499500 10000 999" ] || fail "namespace values across iterations: got '$(text)'"
run 0 '{% set ns = namespace(n=[]) %}{% for a in range(20) %}{% set row = [] %}{% for b in range(30) %}{% set ns.n = ns.n + [a ~ "-" ~ b] %}{% endfor %}{% endfor %}{{ ns.n|length }} {{ ns.n[0] }} {{ ns.n[599] }} {{ ns.n[31] }}'
[ "$(text)" = "600 0-0 19-29 1-1" ] || fail "nested namespace values: got '$(text)'"

# with the limits raised past the memory there is, the list case ends with exit 1 and a message
if [ -z "${FT_SAN:-}" ]; then
  MEM_KB=2000000
  run 1 '{% set ns = namespace(a=[1]) %}{% for i in range(30) %}{% set ns.a = ns.a + ns.a %}{% endfor %}' \
    --template-limit items=100000000000,memory=1000G
  expect_in "t.jinja:1: out of memory while rendering" err
  run 1 '{% set ns = namespace(s="x") %}{% for i in range(1000000) %}{% set ns.s = ns.s ~ ns.s[:1000] %}{% endfor %}' \
    --template-limit iterations=100000000000,memory=1000G
  expect_in "t.jinja:1: out of memory while rendering" err
fi
exit 0
