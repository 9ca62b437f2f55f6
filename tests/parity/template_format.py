"""template_format.py — Python string formatting and loop features in ft-template's Jinja
interpreter against jinja2 set up as HF sets it up (template_ref.make_env: the immutable
sandbox, trim_blocks, lstrip_blocks, loopcontrols).

Cases: fixed ones plus seeded random ones (deterministic) for the `format` filter, the `%`
operator and str.format (flags, fill, align, sign, '#', '0', width, grouping, precision,
every type; conversions; auto/manual/named fields), and for recursive loops, groupby,
batch, slice, loop.cycle/changed/previtem and namespace. Each case is rendered by jinja2 and
by `ft-template --train-on-inputs`: outputs must be byte-identical; where jinja2 raises,
ft-template must exit 1 with jinja2's message (Python's exception text) in its error.

usage: template_format.py check   (ft-template on PATH; prints "format: N/N cases match")
"""
import random
import sys

import jinja2

sys.path.insert(0, __import__("os").path.dirname(__file__))
from template_ref import MSGS, TemplateError, make_env, render, run_tool  # noqa: E402

FIXED = [
    # the issue: a width in a format filter
    "[{{ '%-9s'|format(messages[0].role) }}] [{{ '%9s'|format('user') }}]",
    "{{ '%s=%d'|format('n', 42) }} {{ '%(name)s is %(age)d'|format(name='Ann', age=7) }} {{ '%s'|format([1, 2]) }}",
    "{{ '%s'|format((1, 2)) }} {{ '%s'|format(a=1) }} {{ 'plain'|format() }} {{ '100%%'|format() }} {{ 5|format() }}",
    "{{ '%05.2f' % 3.14159 }} {{ '%s %s' % ('a', 'b') }} {{ '%(k)s' % {'k': 'v'} }} {{ '%s' % [1, 'x'] }}",
    "{{ '%s' % {'a': 1} }} {{ '%d%%' % 50 }} {{ '%c%c' % (72, 'i') }} {{ '%r %a' % ('é', 'é') }} {{ '%x %X %o' % (255, 255, 8) }}",
    "{{ '%#x %#X %#o' % (255, 255, 8) }} {{ '%+d % d %d' % (5, 5, -5) }} {{ '%.3d|%5.3d|%-6.2d|' % (5, -5, 7) }}",
    "{{ '%e|%E|%g|%G|%f|%F' % (12345.678, 0.000123, 1e-10, 1e20, 2.5, 1.0) }} {{ '%.0e %.0f %#.0f %#g' % (5.5, 2.5, 3, 3) }}",
    "{{ '%*d|%-*d|%.*f' % (5, 3, 4, 7, 2, 3.14159) }} {{ '%d %i %u' % (3.99, -3.99, True) }} {{ '%s %r' % (none, true) }}",
    "{{ '%5s|%-5s|%.2s|%5.1s|' % ('é', 'ab', 'héllo', true) }} {{ '%(a)s %(a)r' % {'a': \"it's\"} }} {{ '' % () }}",
    "{{ '%s' % (1.0,) }} {{ '%s' % 1e16 }} {{ '%r' % 0.1 }} {{ '%.15g' % 0.1 }} {{ '%.17g' % 0.1 }} {{ '%g' % 100000 }} {{ '%g' % 1000000 }}",
    "{{ 'abc' % [1] }} {{ 'x' % {} }} {{ '%s' % [] }} {{ '%ld %hd' % (5, 6) }} {{ '%%%s%%' % 1 }}",
    # str.format
    "{{ '{} {:>8} {0!r}'.format('a', 'b') if false else '{} {:>8}'.format('a', 'b') }} {{ '{0!r} {0!s} {0!a}'.format('é') }}",
    "{{ '{name:^10.3f}|'.format(name=3.14159) }} {{ '{0}{1}{0}'.format('x', 'y') }} {{ '{:,}'.format(1234567) }} {{ '{:_}'.format(1234567) }}",
    "{{ '{:010,}'.format(1234) }} {{ '{:08,}'.format(1234) }} {{ '{:#010_x}'.format(255) }} {{ '{:#b} {:#o} {:X}'.format(5, 8, 255) }}",
    "{{ '{:=+8}|{:<05}|{:^7}|{:*^9}|'.format(-5, 5, 'ab', 'mid') }} {{ '{:05}'.format('ab') }} {{ '{:é>6}'.format('x') }}",
    "{{ '{:.3}|{:.0}|{:.0}|{}|{}'.format(123.0, 0.1, 0.0, 1e-05, 1e16) }} {{ '{:%} {:.1%} {:.0%}'.format(0.5, 0.125, 1) }}",
    "{{ '{:n} {:n} {:e} {:.2E}'.format(12.0, 1234, 5, 1234.5) }} {{ '{:c}{:c}'.format(72, 105) }} {{ '{:>5c}|'.format(65) }}",
    "{{ '{:z.2f} {:.2f} {:+.1f}'.format(-0.001, -0.001, 0) }} {{ '{:#} {:#.3} {:#g}'.format(5.0, 5.0, 2.0) }} {{ '{:,.2f}'.format(1234567.891) }}",
    "{{ '{0[0]} {0[1]} {1[k]} {1.k}'.format(['a', 'b'], {'k': 'v'}) }} {{ '{m.role}'.format(m=messages[0]) }} {{ '{:{}}|'.format('x', 5) }}",
    "{{ '{:{w}.{p}f}|'.format(3.14159, w=8, p=2) }} {{ '{{}} {{x}}'.format() }} {{ '{}'.format(none) }} {{ '{}'.format([1, 'a']) }} {{ '{:d}'.format(true) }}",
    "{{ '{}'.format(true) }} {{ '{:>6}'.format(true) }} {{ '{!r:>6}'.format('a') }} {{ '{0[9]}|'.format([1]) }} {{ '{}|'.format(nope) }}",
    "{{ '{:,}'.format(1234567.0) }} {{ '{:,}'.format(-1234.5) }} {{ '{:_b}'.format(255) }} {{ '{:x<5.2}'.format('abc') }} {{ '{:<+6d}|'.format(3) }}",
    "{% set f = '%-6s|%6.2f' %}{% for m in messages %}{{ f % (m.role, loop.index / 3) }}\n{% endfor %}",
    "{% for m in messages %}{{ '{:>2}. {:<10}|{}'.format(loop.index, m.role, m.content | length) }}\n{% endfor %}",
    "{{ ('%s' % 'x') | upper }} {{ '%s-%s' % ('a', 'b') ~ '!' }} {{ '%d' % 2 ** 10 }} {{ '%s' % ('a' ~ 1) }}",
    "{{ 'é\u2028\\x7f\\u00a0' | tojson if false else ['é\u2028\\x7f\\u00a0', 'a\\tb'] }} {{ '%r' % '\\U0001f600' }} {{ '%a' % 'x\\U0001f600' }}",
]

ERRORS = [
    "{{ '%s %s' % ('a',) }}", "{{ '%s' % ('a', 'b') }}", "{{ '%d' % 'x' }}", "{{ '%x' % 1.5 }}", "{{ '%f' % 'x' }}",
    "{{ '%c' % 'ab' }}", "{{ '%z' % 1 }}", "{{ '%(a)s' % ('x',) }}", "{{ '%(a)s' % {} }}", "{{ '%' % () }}",
    "{{ '%(a' % {} }}", "{{ 'abc' % 5 }}", "{{ '%s'|format() }}", "{{ '%s'|format(1, a=2) }}", "{{ '%*d' % ('x', 1) }}",
    "{{ '%c' % 1114112 }}", "{{ '%(a)s' % [1] }}", "{{ '%(a)s %s' % {'a': 1} }}", "{{ '%-5%' % () }}", "{{ '%5%' % (1,) }}",
    "{{ '{'.format() }}", "{{ '}'.format() }}", "{{ '{}{0}'.format(1) }}", "{{ '{0}{}'.format(1) }}", "{{ '{2}'.format(1) }}",
    "{{ '{a}'.format(1) }}", "{{ '{0!x}'.format(1) }}", "{{ '{:d}'.format('a') }}", "{{ '{:+}'.format('a') }}",
    "{{ '{:.2}'.format(5) }}", "{{ '{:,x}'.format(5) }}", "{{ '{:d}'.format(5.0) }}", "{{ '{:>5}'.format(none) }}",
    "{{ '{:x}'.format([1]) }}", "{{ '{:abc}'.format(5) }}", "{{ '{:.}'.format(5.0) }}", "{{ '{:,_}'.format(5) }}",
    "{{ '{:=5}'.format('a') }}", "{{ '{:#}'.format('a') }}", "{{ '{:+c}'.format(65) }}", "{{ '{:s}'.format(true) }}",
    "{{ '{:>5}'.format(nope) }}", "{{ '{:{:{}}}'.format(1, 2, 3) }}", "{{ '{0.}'.format(1) }}",
]

LOOPS = [
    # recursive loops with loop() and depth
    "{% for x in tree recursive %}[{{ loop.depth }}/{{ loop.depth0 }}:{{ x.n }}{% if x.c %}({{ loop(x.c) }}){% endif %}]{% endfor %}",
    "{% for x in tree recursive %}{{ '  ' * loop.depth0 }}{{ loop.index }}.{{ x.n }}{{ ' last' if loop.last }}\n{% if x.c %}{{ loop(x.c) }}{% endif %}{% endfor %}",
    "{% for x in tree recursive %}{% if x.c %}{{ x.n }}>{{ loop(x.c) | trim }}<{% else %}{{ x.n }},{% endif %}{% endfor %}",
    "{% set ns = namespace(k=0) %}{% for x in tree recursive %}{% set ns.k = ns.k + 1 %}{{ loop(x.c or []) }}{% endfor %}{{ ns.k }}",
    "{% for x in tree if x.n != 'b' recursive %}{{ x.n }}{{ loop.length }}{{ loop(x.c or []) }}{% else %}-{% endfor %}",
    "{% for k, v in {'a': 1, 'b': 2}.items() recursive %}{{ k }}{{ v }}{{ loop.depth }}{% endfor %}",
    # groupby
    "{% for g in people | groupby('city') %}{{ g.grouper }}: {{ g.list | map(attribute='name') | join(', ') }}; {% endfor %}",
    "{% for city, items in people | groupby('city') %}{{ city }}={{ items | length }} {% endfor %}{{ (people | groupby('city'))[0] }}",
    "{% for g in people | groupby('age', default=0) %}{{ g.grouper }}:{{ g.list | length }} {% endfor %}",
    "{% for g in people | groupby('city', case_sensitive=true) %}{{ g[0] }} {% endfor %}|{% for g in pairs | groupby(0) %}{{ g.grouper }}{{ g.list }} {% endfor %}",
    "{% for g in words | groupby('0', case_sensitive=true) %}{{ g.grouper }}{{ g.list | join }} {% endfor %}|{% for g in words | groupby('0') %}{{ g.grouper }}{{ g.list | join }} {% endfor %}",
    "{% for g in people | groupby('meta.team') %}{{ g.grouper }}:{{ g.list | map(attribute='name') | join }} {% endfor %}",
    # batch and slice
    "{% for row in range(7) | batch(3) %}{{ row }}{% endfor %}|{% for row in range(7) | batch(3, 'x') %}{{ row | join }} {% endfor %}",
    "{{ 'abcde' | batch(2) | list }} {{ [] | batch(2) | list }} {% for c in range(7) | slice(3) %}{{ c }}{% endfor %}|{{ range(5) | slice(2, 0) | list }}",
    "{{ range(10) | slice(4) | list }} {{ range(2) | slice(3, 'f') | list }}",
    # loop helpers
    "{% for x in 'abcde' %}{{ loop.cycle('o', 'e', 'x') }}{% endfor %}|{% for x in [1, 1, 2, 2, 1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}",
    "{% for x in [1, 2, 3] %}{{ loop.previtem | default('^') }}{{ x }}{{ loop.nextitem | default('$') }} {% endfor %}",
    "{% for x in [3, 1] %}{{ loop.changed(x, 1) }}{{ loop.changed(x, 1) }}{% endfor %}|{% for m in messages %}{% if loop.changed(m.role) %}{{ m.role }} {% endif %}{% endfor %}",
    # namespace edge cases
    "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{% set ns.a = 5 %}{{ ns.a }} {{ ns }}",
    "{% set ns = namespace(items=[], n=0) %}{% for m in messages %}{% for c in m.role %}{% set ns.n = ns.n + 1 %}{% endfor %}{% set ns.items = ns.items + [m.role[0]] %}{% endfor %}{{ ns.n }} {{ ns.items | join }}",
    "{% set ns = namespace() %}{% set ns.x = 'set' %}{{ ns.x }} {{ ns.missing is defined }} {{ ns.missing | default('d') }}",
    "{% set ns = namespace(a=1) %}{% macro bump() %}{% set ns.a = ns.a + 10 %}{% endmacro %}{{ bump() }}{{ ns.a }}",
    "{% set ns = namespace(v='x') %}{% set t %}{% set ns.v = 'in' %}{% endset %}{{ ns.v }} {{ ns is mapping }} {{ ns.v is string }}",
]
LOOP_ERRORS = [
    "{{ loop(1) }}", "{% for x in [1] %}{{ loop([2]) }}{% endfor %}", "{{ [1] | batch(0) | list }}",
    "{% for g in [1, 'a'] | groupby('x') %}{% endfor %}{{ people | groupby('age') | list }}",
    "{% set ns = namespace(1) %}",
]

DATA = {
    "tree": [{"n": "a", "c": [{"n": "a1"}, {"n": "a2", "c": [{"n": "a2x"}]}]}, {"n": "b", "c": [{"n": "b1"}]}, {"n": "c"}],
    "people": [{"name": "Ann", "city": "Oslo", "age": 30, "meta": {"team": "x"}}, {"name": "Bob", "city": "Bergen", "meta": {"team": "y"}},
               {"name": "Cid", "city": "Oslo", "age": 30, "meta": {"team": "x"}}, {"name": "Dee", "city": "Bergen", "age": 25, "meta": {"team": "x"}}],
    "pairs": [[2, "b"], [1, "a"], [2, "c"]],
    "words": ["apple", "avocado", "bean", "Apple"],
}


def jlit(v):
    """A Jinja literal for a Python value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, float):
        r = repr(v)
        return r if not r.startswith("-") else f"({r})"
    if isinstance(v, int):
        return str(v) if v >= 0 else f"({v})"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, tuple):
        return "(" + "".join(jlit(x) + ", " for x in v) + ")"
    if isinstance(v, list):
        return "[" + ", ".join(jlit(x) for x in v) + "]"
    raise TypeError(v)


INTS = [0, 1, -1, 7, 42, -42, 255, 1234, -98765, 1234567, 2 ** 31, -(2 ** 40) - 3]
FLOATS = [0.0, -0.0, 0.5, 1.0, -1.5, 2.675, 3.14159, 0.1, 1e-05, 0.000123456, 123456.789, -98765.4321, 1e16, 1.5e22,
          1e-10, 12345678.9, 0.999999, 9.9999999, 100.0, 2.5]
STRS = ["", "a", "ab", "héllo", "日本", "it's", "x y", "-5"]


def rnd_value(rnd, kind):
    if kind == "i":
        return rnd.choice(INTS)
    if kind == "f":
        return rnd.choice(FLOATS)
    if kind == "s":
        return rnd.choice(STRS)
    return rnd.choice(INTS + FLOATS + STRS + [True, False, None, [1, "a"]])


def rnd_percent(rnd):
    t = rnd.choice("sdiuxXoeEfFgGcr") if rnd.random() < 0.93 else rnd.choice("ak%")
    flags = "".join(f for f in "-+ #0" if rnd.random() < 0.25)
    width = str(rnd.randint(0, 14)) if rnd.random() < 0.7 else ""
    prec = "." + str(rnd.randint(0, 9)) if rnd.random() < 0.5 else ""
    kind = {"s": "a", "r": "a", "a": "s", "c": "i"}.get(t, "f" if t in "eEfFgG" else "i")
    if rnd.random() < 0.1:
        kind = "any"   # a wrong type now and then: both must fail the same way
    v = rnd_value(rnd, kind)
    if t == "c" and isinstance(v, int) and not isinstance(v, bool):
        v = abs(v) % 0x2000 + 32
    spec = "%" + flags + width + prec + t
    form = rnd.random()
    if form < 0.4:
        return f"[{{{{ {spec!r} % {jlit(v)} }}}}]"
    if form < 0.7:
        return f"[{{{{ {spec!r}|format({jlit(v)}) }}}}]"
    w = rnd_value(rnd, "any")
    return f"[{{{{ {('%s|' + spec)!r} % ({jlit(w)}, {jlit(v)}) }}}}]"


def rnd_spec(rnd, kind):
    fill = rnd.choice([" ", "*", "0", "é", "_", ">"]) if rnd.random() < 0.3 else ""
    align = rnd.choice("<>=^") if fill or rnd.random() < 0.4 else ""
    sign = rnd.choice("+- ") if rnd.random() < 0.3 else ""
    z = "z" if rnd.random() < 0.07 else ""
    alt = "#" if rnd.random() < 0.15 else ""
    zero = "0" if rnd.random() < 0.2 else ""
    width = str(rnd.randint(1, 16)) if rnd.random() < 0.6 else ""
    group = rnd.choice(",_") if rnd.random() < 0.2 else ""
    prec = "." + str(rnd.randint(0, 8)) if rnd.random() < 0.45 else ""
    types = {"i": "bcdoxXneEfFgG%", "f": "eEfFgGn%", "s": "s"}[kind]
    t = rnd.choice(types) if rnd.random() < 0.75 else ""
    if t == "c":
        prec = ""
    return fill + align + sign + z + alt + zero + width + group + prec + t


def rnd_strformat(rnd):
    n = rnd.randint(1, 3)
    vals, fields = [], []
    mode = rnd.choice(["auto", "manual", "named"])
    for i in range(n):
        kind = rnd.choice("iifs")
        v = rnd_value(rnd, kind)
        if kind == "i" and rnd.random() < 0.3:
            v = abs(v) % 500 + 32
        vals.append(v)
        conv = rnd.choice(["", "", "", "!r", "!s", "!a"])
        spec = rnd_spec(rnd, "s" if conv else kind)
        name = "" if mode == "auto" else str(i) if mode == "manual" else f"v{i}"
        fields.append("{" + name + conv + (":" + spec if spec else "") + "}")
    fmt = "|".join(fields) + "|"
    if mode == "named":
        args = ", ".join(f"v{i}={jlit(v)}" for i, v in enumerate(vals))
    else:
        args = ", ".join(jlit(v) for v in vals)
    return f"{{{{ {fmt!r}.format({args}) }}}}"


def random_cases(n, seed=20240916):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        k = i % 3
        out.append(rnd_percent(rnd) + rnd_percent(rnd) if k == 0 else rnd_strformat(rnd) if k == 1 else
                   "{{ " + repr("{:" + rnd_spec(rnd, "f" if rnd.random() < 0.5 else "i") + "}") + ".format(" +
                   jlit(rnd_value(rnd, rnd.choice("iff"))) + ") }}")
    return out


def run_case(env, src):
    """(ok, detail): jinja2 and ft-template agree on src."""
    src = "".join(f"{{% set {k} = {jdata(v)} %}}" for k, v in DATA.items()) + src   # the loop cases' data
    try:
        want, err = render(env, src, MSGS), None
    except jinja2.TemplateSyntaxError as e:
        want, err = None, ("syntax", str(e))
    except (TemplateError, jinja2.TemplateError, TypeError, ValueError, KeyError, IndexError, OverflowError,
            AttributeError) as e:
        want, err = None, (type(e).__name__, str(e))
    rc, got, stderr = run_tool(src, MSGS)
    if err is None:
        if rc == 0 and got == want:
            return True, ""
        return False, f"  jinja2      : {want!r}\n  ft-template : {got!r} (exit {rc}) {stderr.strip()}"
    if rc != 1:
        return False, f"  jinja2 raised {err}; ft-template exit {rc}: {got!r}"
    if err[0] in ("syntax", "FilterArgumentError", "UndefinedError", "SecurityError", "TemplateRuntimeError"):
        return True, ""    # jinja2's own wording: only that both fail
    if err[1] not in stderr:
        return False, f"  jinja2 raised {err}; ft-template said: {stderr.strip()}"
    return True, ""


def jdata(v):
    if isinstance(v, dict):
        return "{" + ", ".join(f"{jlit(k)}: {jdata(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(jdata(x) for x in v) + "]"
    return jlit(v)


def check():
    env = make_env()
    groups = {"format": FIXED + ERRORS + random_cases(int(__import__("os").environ.get("FMT_N", "300")), int(__import__("os").environ.get("FMT_SEED", "20240916"))), "loops": LOOPS + LOOP_ERRORS}
    bad = 0
    for name, cases in groups.items():
        ok = 0
        for i, src in enumerate(cases):
            good, detail = run_case(env, src)
            ok += good
            if not good:
                print(f"{name} case {i}: {src!r}\n{detail}", file=sys.stderr)
        print(f"{name}: {ok}/{len(cases)} cases match jinja2 {jinja2.__version__}", file=sys.stderr)
        bad += len(cases) - ok
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["check"]:
        sys.exit(check())
    if sys.argv[1:2] == ["show"]:   # print the generated random cases
        for c in random_cases(int(sys.argv[2])):
            print(c)
        sys.exit(0)
    sys.exit(2)
