"""template_ref.py — Python jinja2 reference for ft-template's Jinja interpreter.

Renders a battery of templates (every feature chat templates use: whitespace control,
literals, Python value printing, arithmetic, slicing by code points, loop.*, macros, call
blocks, namespace, filters, tests, string methods, tojson) with the environment HF
apply_chat_template builds (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loopcontrols, tojson = json.dumps(ensure_ascii=False), raise_exception), runs
`ft-template --template T --train-on-inputs` on the same messages, and compares the
concatenated segment text (or, for templates that raise, that both fail with the message).

usage: template_ref.py check        (ft-template on PATH; exit 1 on any difference)
       template_ref.py bench TEMPLATE_FILE DATA.jsonl N [e2e]   (records/s of jinja2 rendering)
"""
import json
import os
import subprocess
import sys
import time

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateError(Exception):
    pass


class GenerationTag(jinja2.ext.Extension):
    """{% generation %}...{% endgeneration %} as HF's AssistantTracker renders it (the body)."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(msg):
        raise TemplateError(msg)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols, GenerationTag])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "  Héllo wörld, ça va? 日本語 "},
    {"role": "assistant", "content": "Fine.\nThanks!", "meta": {"score": 0.5, "tags": ["a", "B", "a"]}},
    {"role": "user", "content": "Why's \"that\"?"},
]

CASES = [
    # whitespace control: trim_blocks, lstrip_blocks, '-' and '+'
    "{% for m in messages %}\n  {% if m.role == 'user' %}\n    U:{{ m.content }}\n  {% endif %}\n{% endfor %}\nend",
    "a  {%- if true %}  b  {% endif -%}  c\n  {%+ if true %}d{% endif %}\n   {#- c -#}   e",
    "x\n    {# comment #}\ny {%- raw %} {{ not parsed }} {% endraw %}\n",
    "{{- ' lead' -}}\n\n  {{ 'x' }}  \n{% if true -%}\n  trimmed\n{%- endif %}\n",
    "  {% set a = 1 %}\n  {{ a }}\n{%+ set b = 2 %}{{ b }}",
    # literals and Python printing
    "{{ 1 }} {{ 1.0 }} {{ 2.50 }} {{ 1e20 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1/3 }} {{ -0.5 }} {{ 10**16 * 1.0 }}",
    "{{ true }} {{ none }} {{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v', 'n': [1]} }} {{ \"it's\" }} {{ ['it\\'s', 'q\"'] }}",
    "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 3 * 'ab' }} {{ [1] * 3 }} {{ 1 + 2.0 }}",
    "{{ 'a' ~ 1 ~ none ~ true }} {{ 'x' + 'y' }} {{ [1, 2] + [3] }} {{ (1, 2) }} {{ 'abc' 'def' }}",
    "{{ '\\u00e9\\x41\\n\\t|' }}",
    # comparisons, membership, logic
    "{{ 1 < 2 < 3 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }} {{ 'ell' in 'hello' }} {{ 3 not in [1, 2] }}",
    "{{ 'k' in {'k': 1} }} {{ not true or false }} {{ 0 or 'x' }} {{ 1 and 2 }} {{ none and 1 }} {{ 'yes' if 0 else 'no' }}",
    "[{{ 'shown' if false }}] {{ undefined_thing }}|{{ undefined_thing is defined }}|{{ messages[9] is defined }}",
    # subscripts and slicing (code points)
    "{{ messages[1].content[2:7] }}|{{ messages[1].content[::-1] }}|{{ messages[1].content[-5:] }}|{{ messages[-1]['role'] }}",
    "{{ messages[1:3] | length }} {{ messages[::2] | map(attribute='role') | join(',') }} {{ 'héllo'[1] }} {{ [1,2,3][-1] }}",
    "{{ messages[2].meta.score }} {{ messages[2]['meta']['tags'][1] }} {{ messages[0].nope is defined }}",
    # loops
    "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}",
    "{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }}{{ ',' if not loop.last }}{% endfor %}",
    "{% for m in [] %}x{% else %}empty{% endfor %}|{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }} {% endfor %}",
    "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 5 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for x in 'ab' %}{{ loop.cycle('odd', 'even') }}{{ loop.previtem is defined }}{% endfor %}|{{ range(2, 11, 3) | list }}",
    "{% for m in messages %}{% set x = m.role %}{% endfor %}[{{ x }}]{% set ns = namespace(n=0, last='') %}"
    "{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set ns.last = m.role %}{% endfor %}{{ ns.n }} {{ ns.last }}",
    # set, block set, macros, call blocks, filter blocks
    "{% set t %}<{{ messages[0].content }}>{% endset %}{{ t | upper }} {% set d = {'a': [1, 2]} %}{{ d.a[1] }}",
    "{% macro tag(name, body='-', end='/') %}<{{ name }}>{{ body }}<{{ end }}{{ name }}>{% endmacro %}"
    "{{ tag('a') }}{{ tag('b', 'x') }}{{ tag('c', end='\\\\') }}",
    "{% macro wrap(x) %}[{{ caller(x) }}]{% endmacro %}{% call(v) wrap(3) %}v={{ v * 2 }}{% endcall %}",
    "{% filter upper %}shout {{ messages[0].content }}{% endfilter %}",
    # filters
    "{{ messages[1].content | trim }}|{{ '  x ' | trim }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}|{{ 'Ab' | lower }}{{ 'ab' | upper }}",
    "{{ messages | length }} {{ messages | first | tojson }} {{ (messages | last).role }} {{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }}",
    "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | map('trim') | join(' / ') }}",
    "{{ messages | rejectattr('role', 'in', ['user', 'system']) | list | length }} {{ [0, 1, '', 'a'] | select | list }}",
    "{{ messages[2].meta.tags | unique | list }} {{ ['a', 'A', 'b'] | unique | join }} {{ none | default('d') }} {{ '' | default('e', true) }} {{ u | default('f') }}",
    "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(3, true) }}|{{ 'x,y' | replace(',', ';') }}|{{ 'aaa' | replace('a', 'b', 2) }}",
    "{{ '42' | int + 1 }} {{ '3.5' | float }} {{ 'x' | int }} {{ 3.7 | int }} {{ 2.567 | round(2) }} {{ -3 | abs }} {{ [1, 2.5] | sum }} {{ [3, 1] | min }} {{ ['b', 'a'] | max }}",
    "{{ {'b': 1, 'a': 2} | dictsort }} {{ {'x': 1} | items | list }} {{ [1, 2] | reverse | list }} {{ 'abc' | reverse }} {{ 'one two  three' | wordcount }}",
    "{{ 5 | string + '!' }} {{ [1, 2] | string }} {{ 'abc' | list }} {{ 'x' | center(5) }}|{{ '%s-%s' | format(1, 'b') }}",
    # tojson as HF does it
    "{{ messages | tojson }}",
    "{{ messages[2] | tojson(indent=2) }}\n{{ {'u': 'é\\u2028\"\\\\', 'f': [1.0, 1e-7, 100000000000000000000.0], 'e': {}, 'l': []} | tojson }}",
    "{{ {'b': none, 'a': true} | tojson(indent=4) }}",
    # tests
    "{{ 1 is number }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is iterable }} {{ none is none }} {{ true is true }} {{ 0 is false }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }}",
    "{{ 'a' is equalto 'a' }} {{ 2 is gt 1 }} {{ 1 is in [1] }} {{ 'abc' is lower }} {{ 1.5 is float }} {{ 1 is integer }} {{ x is undefined }} {{ messages is sequence }} {{ 1 is not string }}",
    # string methods
    "{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}",
    "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.upper() }} {{ 'Hello'.lower() }} {{ 'hello world'.title() }} {{ \"it's\".title() }} {{ 'hELLO'.capitalize() }}",
    "{{ 'a-b'.replace('-', '+') }} {{ '{} and {}'.format(1, 'x') }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{n}!'.format(n=5) }} {{ 'hello'.find('l') }} {{ 'hello'.count('l') }} {{ ', '.join(['a', 'b']) }}",
    "{{ '12'.isdigit() }} {{ 'ab'.isalpha() }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b', 'dflt') }} {{ {'a': 1}.keys() | list }} {{ {'a': 1}.values() | list }}",
    # scoping as jinja2 has it
    "{% for x in [1, 2, 3] %}{% if loop.first %}{% set y = 'a' %}{% endif %}[{{ y }}]{% endfor %}",
    "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}{% if true %}{% set z = 3 %}{% endif %}{{ z }}",
    "{% macro m() %}{{ later }}{{ inner() }}{% endmacro %}{% macro inner() %}in{% endmacro %}{% set later = 'L' %}{{ m() }}",
    "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ b }}{% endfor %}{{ loop.index }}{% endfor %}",
    "{{ messages[0] }} {{ none | default('d') }} {{ 'a' * 0 }}|{{ 1 if none }}|{{ 1.5e3 }} {{ 10 / 2 }} {{ 2 ** -1 }} {{ 'abc'[5:] }}|{{ {'a': 1} | list }}",
    "{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %} {{ 'a' < 'B' }} {{ [1, 'a'] | join(', ') }} {{ messages | map(attribute='role') | list }}",
    # generators (map/select/...): always truthy, iterated once; round keeps ints; tuples slice to tuples
    "{% if messages | selectattr('role', 'equalto', 'nobody') %}truthy{% endif %}|{{ messages | selectattr('role', 'equalto', 'user') | list | length }}",
    "{% set g = messages | selectattr('role', 'equalto', 'user') %}{% for m in g %}a{% endfor %}{% for m in g %}b{% endfor %}|{{ g | first }}",
    "{{ 3 | round }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ -0.5 | round }} {{ u is iterable }} {{ u is sequence }} {{ (1, 2, 3)[1:] }}",
    # filters with keyword arguments
    "{{ messages | join(', ', attribute='role') }}|{{ messages | map(attribute='nope', default='-') | join }}|{{ messages | selectattr('meta', 'defined') | map(attribute='role') | join }}",
    "{{ messages | sort(attribute='role', reverse=true) | map(attribute='role') | join(',') }}|{{ messages | unique(attribute='role') | map(attribute='role') | join(',') }}",
    "{{ 'a\n\nb' | indent(width=3, first=true, blank=true) }}|{{ '' | default('E', boolean=true) }}|{{ 'xxhixx' | trim('x') }}|{{ 2.5 | round(0, 'ceil') }} {{ 2.5 | round(method='floor') }}",
    "{{ 'x' | float(default=1.5) }} {{ '0x1A' | int(base=16) if false else 1 }} {{ messages | map('upper') | list if false else 'ok' }} {{ ['b', 'a'] | sort(case_sensitive=true) }} {{ {'b': 1, 'A': 2} | dictsort(by='key') if false else 1 }}",
    "{{ messages | selectattr('role', 'ne', 'user') | rejectattr('role', '==', 'system') | map(attribute='content') | map('replace', '\n', ' ') | join }}",
    "{{ [3, 1, 2] | select('gt', 1) | list }} {{ [1, 2, 3, 4] | reject('even') | list }} {{ [1, 2, 3] | map('string') | join('+') }} {{ ['a', 'B'] | map('upper') | list }}",
    # tuple assignment
    "{% set a, b = 1, 'two' %}{{ a }}{{ b }}{% set k, v = ('x', [1]) %}{{ k }}{{ v }}{% set p, q = 'ab' %}{{ q }}{{ p }}",
    # HF's {% generation %} marker
    "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}!{% endgeneration %}{% else %}{{ m.role }}{% endif %}{% endfor %}",
    # errors
    "{{ raise_exception('Conversation roles must alternate!') }}",
    "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% endfor %}",
]

ERROR_CASES = [   # both must fail; the reference message (any jinja2 wording) just has to exist
    "{{ 'a' + 1 }}",
    "{{ undefined_thing.attr }}",
    "{{ messages[0].content.nope.deeper }}",
    "{% for x in 5 %}{% endfor %}",
    "{{ 1 / 0 }}",
]

SYNTAX_ERRORS = ["{% if x %}", "{% for %}", "{{ 'unterminated }}", "{% endfor %}", "{{ a b }}", "{% bogus %}",
                 "{% break %}", "{% for x in [1] %}{% else %}{% continue %}{% endfor %}",
                 "{% for x in [1] %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}"]


TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "Name"}},
                          "required": ["city"]}}}]
TOOL_MSGS = [
    {"role": "system", "content": "Use tools."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "abc123def", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "tool_call_id": "abc123def", "name": "get_weather", "content": "22C, sunny"},
    {"role": "assistant", "content": "It is 22C and sunny."},
    {"role": "user", "content": "Thanks"},
]
# real templates from the shared corpus that use tools / tool_calls
TOOL_TEMPLATES = ["Mistral-Large-Instruct-2407", "Mistral-Nemo-Instruct-2407", "ibm-granite/granite-3.0-8b-instruct",
                  "yandex/YandexGPT-5-Lite-8B-instruct"]


def whitespace_cases(n, seed=7):
    """Random templates mixing text, spaces, tabs and newlines with tags carrying every
    whitespace-control modifier: the trim_blocks/lstrip_blocks rules are where renderers drift."""
    import random
    rnd = random.Random(seed)
    texts = ["", " ", "  ", "\t", "\n", " \n", "\n  ", "x", " y ", "\n\n", "z\n  "]
    opens = ["{%", "{%-", "{%+"]
    closes = ["%}", "-%}", "+%}"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 5)):
            kind = rnd.choice(["if", "for", "set", "var", "comment"])
            o, c = rnd.choice(opens), rnd.choice(closes)
            t = lambda: rnd.choice(texts)
            if kind == "if":
                parts.append(f"{t()}{o} if true {c}{t()}{rnd.choice(opens)} endif {rnd.choice(closes)}{t()}")
            elif kind == "for":
                parts.append(f"{t()}{o} for m in messages[:2] {c}{t()}{{{{ m.role }}}}{t()}{rnd.choice(opens)} endfor {rnd.choice(closes)}{t()}")
            elif kind == "set":
                parts.append(f"{t()}{o} set v = 1 {c}{t()}")
            elif kind == "var":
                parts.append(f"{t()}{rnd.choice(['{{', '{{-'])} 'v' {rnd.choice(['}}', '-}}'])}{t()}")
            else:
                parts.append(f"{t()}{rnd.choice(['{#', '{#-'])} c {rnd.choice(['#}', '-#}'])}{t()}")
        out.append("".join(parts))
    return out


def _block(rnd, d, vars_):
    out = []
    for _ in range(rnd.randint(1, 3)):
        k = rnd.random()
        v = rnd.choice(vars_)
        if d > 2 or k < 0.3:
            out.append(rnd.choice([f"{{{{ {v} }}}}", f"{{{{ ns.n }}}}", "{{ loop.index if loop is defined }}",
                                   f"{{% set {v} = {rnd.choice(['1', v + ' ~ 1', 'loop.index0 if loop is defined else 9', 'x'])} %}}",
                                   "{% set ns.n = ns.n + 1 %}", "{{ m.role if m is defined }}", "{{ caller() if caller is defined }}",
                                   "{{ mac(1) }}", "{% if loop is defined and loop.index == 2 %}{% break %}{% endif %}",
                                   "{% if loop is defined and loop.first %}{% continue %}{% endif %}", ",", "\n"]))
        elif k < 0.55:
            it = rnd.choice(["messages", "messages[1:3]", "range(3)", "[]", "'ab'", "{'p': 1, 'q': 2}"])
            flt = rnd.choice(["", " if loop is not defined", " if m != 1"]) if it == "messages" else ""
            out.append(f"{{% for m in {it}{flt} %}}{_block(rnd, d + 1, vars_)}{rnd.choice(['', '{% else %}E'])}{{% endfor %}}")
        elif k < 0.75:
            out.append(f"{{% if {rnd.choice(['x', 'y is defined', 'ns.n > 1', 'm is defined', 'true'])} %}}{_block(rnd, d + 1, vars_)}{{% else %}}{_block(rnd, d + 1, vars_)}{{% endif %}}")
        elif k < 0.85:
            out.append(f"{{% set {v} %}}{_block(rnd, d + 1, vars_)}{{% endset %}}[{{{{ {v} }}}}]")
        else:
            out.append(f"{{% call mac(2) %}}{_block(rnd, d + 1, vars_)}{{% endcall %}}")
    return "".join(out)


def statement_cases(n, seed=11):
    """Random nestings of for (with else, inline if, break/continue), if, set, block set,
    namespace updates, macros and call blocks: scoping and loop control as jinja2 has them."""
    import random
    rnd = random.Random(seed)
    head = ("{% set ns = namespace(n=0) %}{% set x = 'X' %}"
            "{% macro mac(a) %}<{{ a }}{{ x }}{{ caller() if caller is defined }}>{% endmacro %}")
    return [head + _block(rnd, 0, ["x", "y", "z"]) for _ in range(n)]


def render(env, src, msgs, **kw):
    return env.from_string(src).render(messages=msgs, bos_token="<s>", eos_token="</s>", add_generation_prompt=False, **kw)


def run_tool(src, msgs, tools=None):
    with open("t.jinja", "w") as f:
        f.write(src)
    rec = {"messages": msgs}
    if tools is not None:
        rec["tools"] = tools
    with open("in.jsonl", "w") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    p = subprocess.run(["ft-template", "--template", "t.jinja", "--bos-token", "<s>", "--eos-token", "</s>",
                        "--train-on-inputs", "in.jsonl"], capture_output=True)
    text = None
    if p.returncode == 0:
        lines = p.stdout.decode().split("\n")[:-1]
        assert len(lines) == 1, p.stdout
        text = "".join(s["text"] for s in json.loads(lines[0])["segments"])
    return p.returncode, text, p.stderr.decode()


def check():
    env = make_env()
    bad = 0
    stmts = statement_cases(50)
    for i, src in enumerate(CASES + whitespace_cases(60) + stmts):
        try:
            want, err = render(env, src, MSGS), None
        except TemplateError as e:
            want, err = None, str(e)
        except (jinja2.TemplateSyntaxError, SyntaxError):
            want, err = None, "syntax"
        rc, got, stderr = run_tool(src, MSGS)
        if err == "syntax":
            if rc != 1:
                print(f"case {i}: jinja2 rejects {src!r}; ft-template exit {rc}", file=sys.stderr)
                bad += 1
        elif err is not None:
            if rc != 1 or err not in stderr:
                print(f"case {i}: jinja2 raised {err!r}; ft-template exit {rc}: {stderr.strip()}", file=sys.stderr)
                bad += 1
        elif rc != 0 or got != want:
            print(f"case {i}: {src!r}\n  jinja2      : {want!r}\n  ft-template : {got!r} (exit {rc}) {stderr.strip()}",
                  file=sys.stderr)
            bad += 1
    for i, src in enumerate(ERROR_CASES + SYNTAX_ERRORS):
        try:
            render(env, src, MSGS)
            print(f"error case {i}: jinja2 did not fail on {src!r}", file=sys.stderr)
            bad += 1
        except (jinja2.TemplateError, TypeError, ZeroDivisionError, SyntaxError):
            pass
        rc, got, stderr = run_tool(src, MSGS)
        if rc != 1 or not stderr.startswith("ft-template: ") or "t.jinja:1:" not in stderr:
            print(f"error case {i}: {src!r}: want exit 1 and 't.jinja:1:' in the message, got {rc}: {stderr.strip()}",
                  file=sys.stderr)
            bad += 1
    n = len(CASES) + 60 + len(stmts) + len(ERROR_CASES) + len(SYNTAX_ERRORS)
    corpus = os.path.join(os.environ.get("FT_TESTDATA", ""), "chat-templates", "cases.jsonl")
    if os.path.exists(corpus):
        tpls = {}
        for line in open(corpus):
            c = json.loads(line)
            for name in TOOL_TEMPLATES:
                if c["name"].startswith(name):
                    tpls.setdefault(name, c["template"])
        # a Qwen2.5-style template with tools and tool calls, kept next to the CLI tests
        qwen = os.path.join(os.environ["FT_ROOT"], "tests", "cli", "template-qwen25.jinja")
        tpls["qwen25-style"] = open(qwen).read()
        for name, src in tpls.items():
            try:
                want = render(env, src, TOOL_MSGS, tools=TOOLS)
            except (jinja2.TemplateError, TemplateError, TypeError):
                want = None   # the template cannot render this conversation: ft-template must fail too
            rc, got, stderr = run_tool(src, TOOL_MSGS, TOOLS)
            n += 1
            if (want is None and rc != 1) or (want is not None and (rc != 0 or got != want)):
                print(f"tools with {name}:\n  jinja2      : {want!r}\n  ft-template : {got!r} (exit {rc}) {stderr.strip()}",
                      file=sys.stderr)
                bad += 1
    print(f"{n - bad}/{n} template cases agree with jinja2 {jinja2.__version__}", file=sys.stderr)
    return 1 if bad else 0


def bench(tpl_file, data, n, end_to_end=False):
    """records/s (CPU time) rendering each record; end_to_end also parses the JSONL line and
    writes a segment JSON line, the work ft-template --train-on-inputs does per record."""
    env = make_env()
    tpl = env.from_string(open(tpl_file).read())
    lines = open(data).read().splitlines()
    recs = [json.loads(l) for l in lines]
    out = open("/dev/null", "w")
    t0 = time.process_time()   # CPU seconds: fair on a shared machine
    done = 0
    while done < n:
        for i, line in enumerate(lines):
            r = json.loads(line) if end_to_end else recs[i]
            text = tpl.render(messages=r["messages"], bos_token="<s>", eos_token="</s>", add_generation_prompt=False)
            if end_to_end:
                out.write(json.dumps({"segments": [{"text": text, "train": True}], "id": r.get("id")},
                                     ensure_ascii=False) + "\n")
            done += 1
            if done >= n:
                break
    dt = time.process_time() - t0
    print(f"{done / dt:.1f}")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "check":
        sys.exit(check())
    if sys.argv[1] == "bench":
        sys.exit(bench(sys.argv[2], sys.argv[3], int(sys.argv[4]), len(sys.argv) > 5 and sys.argv[5] == "e2e"))
    sys.exit(2)
