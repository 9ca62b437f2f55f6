// test_jinja.c — the Jinja interpreter and chat-template spans at the library level:
// hand-computed renderings (whitespace control, Python printing, slicing by code points,
// tojson), error messages with template lines, render reuse, loss-span offsets, and random
// token soup that must fail cleanly (no crash, no leak; run under ASan by `make check`), and
// the rendering budget (each limit named at its boundary, memory released per iteration).
#include "testutil.h"
#include "core/err.h"
#include "template/jinja.h"
#include "template/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// Render src with vars (JSON text) and compare with want; want NULL: must fail with `err` in the message.
static void expect(const char *src, const char *vars, const char *want, const char *err) {
    ft_jinja *t = ft_jinja_parse(src, strlen(src), "t.jinja");
    if (!t) {
        if (want) fail_msg("parse failed: %s (template %s)", ft_errmsg(), src);
        assert_non_null(strstr(ft_errmsg(), err));
        return;
    }
    json_error_t je;
    json_t *v = vars ? json_loads(vars, 0, &je) : json_object();
    assert_non_null(v);
    char *out = NULL;
    size_t len = 0;
    int rc = ft_jinja_render(t, v, &out, &len);
    if (want) {
        if (rc) fail_msg("render failed: %s (template %s)", ft_errmsg(), src);
        if (strcmp(out, want)) fail_msg("template %s\n  got  [%s]\n  want [%s]", src, out, want);
        assert_int_equal(len, strlen(want));
    } else {
        assert_int_equal(rc, -1);
        if (!strstr(ft_errmsg(), err)) fail_msg("error [%s] lacks [%s]", ft_errmsg(), err);
    }
    free(out);
    json_decref(v);
    ft_jinja_free(t);
}

static void test_whitespace(void **st) {
    (void)st;
    // lstrip_blocks removes the indentation before a tag, trim_blocks the newline after it
    expect("  {% if true %}\n  x\n  {% endif %}\ny", NULL, "  x\ny", NULL);
    expect("a {%- if true -%} b {%- endif -%} c", NULL, "abc", NULL);
    expect("a\n  {%+ if true %}b{% endif %}", NULL, "a\n  b", NULL);
    expect("{{ 'x' }}\n{# c #}\nz", NULL, "x\nz", NULL);
    expect("{% raw %}{{ a }}{% endraw %}", NULL, "{{ a }}", NULL);
}

static void test_values(void **st) {
    (void)st;
    expect("{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 123456789.0 }} {{ 1/4 }} {{ 5 // -2 }} {{ -5 % 3 }}", NULL,
           "0.30000000000000004 1e+16 123456789.0 0.25 -3 1", NULL);
    expect("{{ none }} {{ true }} {{ [1, 'a', none] }} {{ {'k': false} }} {{ (1,) }}", NULL,
           "None True [1, 'a', None] {'k': False} (1,)", NULL);
    expect("{{ s[1:3] }}|{{ s[-1] }}|{{ s|length }}|{{ s|upper }}", "{\"s\": \"h\\u00e9\\u65e5x\"}",
           "\xc3\xa9\xe6\x97\xa5|x|4|H\xc3\x89\xe6\x97\xa5X", NULL);
    expect("{{ d|tojson }}", "{\"d\": {\"a\": [1, 2.5, null], \"b\": \"\\u00e9\\n\\u0001\"}}",
           "{\"a\": [1, 2.5, null], \"b\": \"\xc3\xa9\\n\\u0001\"}", NULL);
    expect("{{ d|tojson(indent=2) }}", "{\"d\": {\"a\": [1]}}", "{\n  \"a\": [\n    1\n  ]\n}", NULL);
    expect("{{ u }}|{{ u is defined }}|{{ u|default('d') }}", NULL, "|False|d", NULL);
}

static void test_statements(void **st) {
    (void)st;
    expect("{% for x in xs %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", "{\"xs\": [\"a\", \"b\"]}",
           "1a,2b", NULL);
    expect("{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}",
           "{\"xs\": [1, 2, 3]}", "6", NULL);
    expect("{% macro m(a, b=2) %}{{ a + b }}{% endmacro %}{{ m(1) }}{{ m(1, b=5) }}", NULL, "36", NULL);
    expect("{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}", "{\"d\": {\"x\": 1, \"y\": 2}}", "x1y2", NULL);
}

static void test_errors(void **st) {
    (void)st;
    expect("a\n{% if x %}\nb", NULL, NULL, "t.jinja:3: unexpected end of template, expected 'endif'");
    expect("a\n\n{{ x | nosuch }}", NULL, NULL, "t.jinja:3: no filter named 'nosuch'");
    expect("line1\n{{ raise_exception('Only user and assistant') }}", NULL, NULL, "t.jinja:2: Only user and assistant");
    expect("{{ 'a' + 1 }}", NULL, NULL, "can only concatenate str");
    expect("{{ x.y }}", NULL, NULL, "'x' is undefined");
    expect("{% endfor %}", NULL, NULL, "unexpected 'endfor'");
    expect("{{ 'abc }}", NULL, NULL, "unterminated string");
    // Python has big integers; ft reports what int64 cannot hold instead of wrapping
    expect("{{ 9223372036854775807 + 1 }}", NULL, NULL, "integer overflow");
    expect("{{ 2 ** 63 }}", NULL, NULL, "integer overflow");
    expect("{{ (-2) ** 63 }} {{ (-1) ** 9223372036854775807 }} {{ [1, 2, 3][::9223372036854775807] }}", NULL,
           "-9223372036854775808 -1 [1]", NULL);
}

static void test_strftime_now(void **st) {
    (void)st;
    char want[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(want, sizeof want, "%Y", &tm);
    expect("{{ strftime_now('%Y') }}", NULL, want, NULL);
}

static void test_render_reuse(void **st) {
    (void)st;
    const char *src = "{% for m in messages %}{{ m.content ~ '|' }}{% endfor %}";
    ft_jinja *t = ft_jinja_parse(src, strlen(src), "t");
    assert_non_null(t);
    for (int i = 0; i < 300; i++) {
        char vars[128];
        snprintf(vars, sizeof vars, "{\"messages\": [{\"content\": \"m%d\"}, {\"content\": \"n\"}]}", i);
        json_t *v = json_loads(vars, 0, NULL);
        char *out; size_t len;
        assert_int_equal(ft_jinja_render(t, v, &out, &len), 0);
        char want[64];
        snprintf(want, sizeof want, "m%d|n|", i);
        assert_string_equal(out, want);
        free(out);
        json_decref(v);
    }
    ft_jinja_free(t);
}

// Spans on the chatml built-in, offsets computed by hand.
static void test_spans(void **st) {
    (void)st;
    ft_template *t = ft_template_load("chatml", NULL);
    assert_non_null(t);
    json_t *msgs = json_loads("[{\"role\":\"user\",\"content\":\"OK?\"},{\"role\":\"assistant\",\"content\":\"OK\"}]", 0, NULL);
    char *text; size_t len, n; ft_span *sp;
    int unloc = 0;
    assert_int_equal(ft_template_spans(t, msgs, NULL, &text, &len, &sp, &n, &unloc), 0);
    const char *want = "<|im_start|>user\nOK?<|im_end|>\n<|im_start|>assistant\nOK<|im_end|>\n";
    assert_string_equal(text, want);
    assert_int_equal(n, 1);
    assert_int_equal(unloc, 0);
    size_t start = strlen("<|im_start|>user\nOK?<|im_end|>\n<|im_start|>assistant\n");
    assert_int_equal(sp[0].start, start);
    assert_int_equal(sp[0].end, start + strlen("OK<|im_end|>\n"));
    free(text); free(sp);
    json_decref(msgs);
    ft_template_free(t);
}

// {% generation %} ranges are offsets into the output; inside a macro they are not recorded.
static void test_generation_marks(void **st) {
    (void)st;
    const char *src = "ab{% generation %}CD{% endgeneration %}e{% macro m() %}{% generation %}x{% endgeneration %}{% endmacro %}"
                      "{{ m() }}{% for i in range(2) %}{% generation %}{{ i }}{% endgeneration %}{% endfor %}";
    ft_jinja *t = ft_jinja_parse(src, strlen(src), "g");
    assert_non_null(t);
    assert_true(ft_jinja_has_generation(t));
    json_t *v = json_object();
    char *out; size_t len, *marks, n;
    assert_int_equal(ft_jinja_render_marked(t, v, &out, &len, &marks, &n), 0);
    assert_string_equal(out, "abCDex01");
    assert_int_equal(n, 3);
    size_t want[6] = {2, 4, 6, 7, 7, 8};
    for (int i = 0; i < 6; i++) assert_int_equal(marks[i], want[i]);
    free(out); free(marks);
    json_decref(v);
    ft_jinja_free(t);
}

// Python string formatting: expected texts are CPython 3.11's output for the same calls.
static void test_formatting(void **st) {
    (void)st;
    expect("[{{ '%-9s'|format('user') }}] {{ '%05.2f' % 3.14159 }} {{ '%s %s' % ('a', 'b') }} {{ '%(k)s' % {'k': 1} }}", NULL,
           "[user     ] 03.14 a b 1", NULL);
    expect("{{ '%#.3x' % 5 }} {{ '%08.3f' % -3.14159 }} {{ '%.3d' % -5 }} {{ '%+.2e' % 12345.678 }} {{ '%c' % 65 }}", NULL,
           "0x005 -003.142 -005 +1.23e+04 A", NULL);
    expect("{{ '{:08,}'.format(1234) }} {{ '{:#010_x}'.format(255) }} {{ '{:.3}'.format(123.0) }} {{ '{:.0}'.format(0.0) }}",
           NULL, "0,001,234 0x000_00ff 1.23e+02 0e+00", NULL);
    expect("{{ '{0!r:>6}|{1:^7}|{n:.1%}'.format('a', 'ab', n=0.125) }} {{ '{:z.2f}'.format(-0.001) }}", NULL,
           "   'a'|  ab   |12.5% 0.00", NULL);
    expect("{{ '%s %s' % ('a',) }}", NULL, NULL, "t.jinja:1: not enough arguments for format string");
    expect("{{ 'abc' % 5 }}", NULL, NULL, "not all arguments converted during string formatting");
    expect("{{ '{:d}'.format('a') }}", NULL, NULL, "Unknown format code 'd' for object of type 'str'");
    expect("{{ '{}{0}'.format(1) }}", NULL, NULL, "cannot switch from manual field specification to automatic field numbering");
    // random specs must render or fail cleanly (ASan in `make check`)
    const char *pieces[] = {"0", "5", "12", ".", ".3", ",", "_", "#", "+", " ", "-", "<", ">", "=", "^", "z", "*",
                            "d", "x", "e", "g", "f", "%", "s", "c", "r", "(", ")", "{", "}", "!", "9999999"};
    const char *vals[] = {"0", "-1234567", "2.5", "-0.0", "1e300", "'x'", "none", "[1]", "true"};
    srand(7);
    for (int i = 0; i < 400; i++) {
        char spec[64] = "", src[256];
        for (int k = rand() % 5; k >= 0; k--) strcat(spec, pieces[rand() % (int)(sizeof pieces / sizeof *pieces)]);
        const char *v = vals[rand() % (int)(sizeof vals / sizeof *vals)];
        if (i % 2) snprintf(src, sizeof src, "{{ '{:%s}'.format(%s) }}", spec, v);
        else snprintf(src, sizeof src, "{{ '%%%s' %% (%s,) }}", spec, v);
        ft_jinja *t = ft_jinja_parse(src, strlen(src), "f.jinja");
        if (!t) continue;
        json_t *vars = json_object();
        char *out = NULL;
        size_t len;
        if (ft_jinja_render(t, vars, &out, &len) == 0) free(out);
        json_decref(vars);
        ft_jinja_free(t);
    }
}

// Loop features: recursive loops, groupby, batch, slice, loop.changed (texts as jinja2 renders them).
static void test_loop_features(void **st) {
    (void)st;
    expect("{% for x in t recursive %}{{ loop.depth }}{{ x.n }}{% if x.c %}({{ loop(x.c) }}){% endif %}{% endfor %}",
           "{\"t\": [{\"n\": \"a\", \"c\": [{\"n\": \"b\"}]}, {\"n\": \"c\"}]}", "1a(2b)1c", NULL);
    expect("{% for k, g in p | groupby('c') %}{{ k }}{{ g | length }}{% endfor %}",
           "{\"p\": [{\"c\": \"y\"}, {\"c\": \"X\"}, {\"c\": \"x\"}]}", "X2y1", NULL);
    expect("{{ range(5) | batch(2, 0) | list }} {{ range(5) | slice(2) | list }}", NULL, "[[0, 1], [2, 3], [4, 0]] [[0, 1, 2], [3, 4]]",
           NULL);
    expect("{% for x in [1, 1, 2] %}{{ loop.changed(x) }}{% endfor %}", NULL, "TrueFalseTrue", NULL);
    expect("{% for x in [1] %}{{ loop([2]) }}{% endfor %}", NULL, NULL, "must have the 'recursive' marker");
}

// Render src with vars under limits spec (ft_jinja_limits_parse syntax); want/err as expect().
static void expect_lim(const char *spec, const char *src, const char *vars, const char *want, const char *err) {
    ft_jinja_limits l;
    ft_jinja_limits_default(&l);
    assert_int_equal(ft_jinja_limits_parse(spec, &l), 0);
    ft_jinja *t = ft_jinja_parse(src, strlen(src), "t.jinja");
    assert_non_null(t);
    ft_jinja_set_limits(t, &l);
    json_t *v = vars ? json_loads(vars, 0, NULL) : json_object();
    assert_non_null(v);
    char *out = NULL;
    size_t len = 0;
    int rc = ft_jinja_render(t, v, &out, &len);
    if (want) {
        if (rc) fail_msg("render failed: %s (limits %s, template %s)", ft_errmsg(), spec, src);
        if (strcmp(out, want)) fail_msg("template %s\n  got  [%s]\n  want [%s]", src, out, want);
    } else {
        assert_int_equal(rc, -1);
        assert_null(out);
        if (!strstr(ft_errmsg(), err)) fail_msg("error [%s] lacks [%s]", ft_errmsg(), err);
    }
    free(out);
    json_decref(v);
    ft_jinja_free(t);
}

static void test_budget(void **st) {
    (void)st;
    ft_jinja_limits l;
    ft_jinja_limits_default(&l);
    assert_true(l.iterations == 10000000 && l.output == 64u << 20 && l.items == 1000000 && l.depth == 256 &&
                l.memory == (size_t)1 << 30);
    assert_int_equal(ft_jinja_limits_parse("iterations=5,output=2k,items=7,depth=3,memory=3M", &l), 0);
    assert_true(l.iterations == 5 && l.output == 2048 && l.items == 7 && l.depth == 3 && l.memory == 3u << 20);
    assert_int_equal(ft_jinja_limits_parse("output=1G", &l), 0);
    assert_true(l.output == (size_t)1 << 30 && l.iterations == 5);   // the others kept
    const char *bad[] = {"iterations", "iterations=", "iterations=0", "iterations=-1", "iterations=5k", "loops=5",
                         "depth=1025", "output=3x", "memory=1T", "items=1,", ",items=1", "items=99999999999999999999", NULL};
    for (int i = 0; bad[i]; i++)
        if (ft_jinja_limits_parse(bad[i], &l) == 0) fail_msg("'%s' was accepted", bad[i]);
    // each limit, named, at its boundary (outputs hand-computed)
    const char *loop = "{% for i in range(3) %}{% for j in range(4) %}{{ j }}{% endfor %}{% endfor %}";
    expect_lim("iterations=15", loop, NULL, "012301230123", NULL);   // 3 + 12 bodies
    expect_lim("iterations=14", loop, NULL, NULL, "t.jinja:1: template exceeded the loop budget (14 iterations); raise it with --template-limit iterations=N");
    expect_lim("iterations=4", "{% for i in range(10) if i % 3 == 0 %}{{ i }}{% endfor %}", NULL, NULL, "loop budget (4 iterations)");
    expect_lim("output=12", loop, NULL, "012301230123", NULL);
    expect_lim("output=11", loop, NULL, NULL, "t.jinja:1: template exceeded the output budget (11 bytes); raise it with --template-limit output=BYTES");
    expect_lim("output=100", "{% set x %}{% for i in range(30) %}abcd{% endfor %}{% endset %}{{ x|length }}", NULL, NULL, "output budget (100 bytes)");
    expect_lim("items=5", "{{ range(5)|list }}", NULL, "[0, 1, 2, 3, 4]", NULL);
    expect_lim("items=5", "{{ range(6)|list }}", NULL, NULL, "t.jinja:1: template exceeded the list/dict size budget (5 items); raise it with --template-limit items=N");
    expect_lim("items=5", "{{ ([1, 2, 3] + [4, 5, 6])|length }}", NULL, NULL, "list/dict size budget (5 items)");
    expect_lim("items=3", "{{ x|length }}", "{\"x\": [1, 2, 3, 4]}", NULL, "list/dict size budget (3 items)");
    expect_lim("items=3", "{% set d = dict(a=1, b=2, c=3) %}{% set e = namespace(a=1, b=2, c=3, d=4) %}", NULL, NULL, "list/dict size budget (3 items)");
    const char *rec = "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{{ n }}{% endmacro %}{{ f(4) }}";
    expect_lim("depth=5", rec, NULL, "01234", NULL);
    expect_lim("depth=4", rec, NULL, NULL, "t.jinja:1: template exceeded the recursion budget (4 nested calls); raise it with --template-limit depth=N");
    // 300 nested calls fit in the stack (the old fixed guards stopped at 200)
    expect_lim("depth=300", "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(299) }}.", NULL, ".", NULL);
    expect_lim("memory=1M", "{{ 'x' * 2000000 }}", NULL, NULL, "t.jinja:1: template exceeded the memory budget (1048576 bytes); raise it with --template-limit memory=BYTES");
    // a loop iteration's memory goes at its end: 100000 iterations of a few hundred bytes
    // each (about 40 MB in all; range() itself takes 4 MB) run in an 8 MiB budget
    expect_lim("memory=8M", "{% for i in range(100000) %}{% set x = [i, i ~ 'abc', {'k': i}] %}{% endfor %}ok", NULL, "ok", NULL);
    // ... except what an iteration stores in a namespace, which survives (sum 0..9999 = 49995000)
    expect_lim("memory=4M", "{% set ns = namespace(l=[], t=0) %}{% for i in range(100) %}{% for j in range(100) %}"
               "{% set x = [j, j] %}{% set ns.t = ns.t + x[0] + i * 100 %}{% endfor %}{% set ns.l = ns.l + [i ~ ''] %}{% endfor %}"
               "{{ ns.t }} {{ ns.l|length }} {{ ns.l[42] }} {{ ns.l|join('')|length }}", NULL, "49995000 100 42 190", NULL);
    expect_lim("memory=8M", "{% set ns = namespace(m=none) %}{% for i in range(3) %}{% macro g() %}m{{ i }}{% endmacro %}"
               "{% if i == 1 %}{% set ns.m = g %}{% endif %}{% for j in range(1000) %}{% set y = 'pad' ~ j %}{% endfor %}{% endfor %}{{ ns.m() }}",
               NULL, "m1", NULL);
    // a failed render leaves the template usable with its limits
    ft_jinja *t = ft_jinja_parse(loop, strlen(loop), "t.jinja");
    assert_int_equal(ft_jinja_limits_parse("iterations=14", &l), 0);
    ft_jinja_set_limits(t, &l);
    char *out;
    size_t len;
    assert_int_equal(ft_jinja_render(t, NULL, &out, &len), -1);
    ft_jinja_set_limits(t, NULL);   // back to the defaults
    assert_int_equal(ft_jinja_render(t, NULL, &out, &len), 0);
    assert_string_equal(out, "012301230123");
    free(out);
    ft_jinja_free(t);
}

// Token soup: every outcome is a clean success or a clean error.
static void test_soup(void **st) {
    (void)st;
    static const char *frag[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "+", " if ", " for ", " in ", " endif ",
                                 " endfor ", " set ", "=", "x", "'s'", "\"", "(", ")", "[", "]", "{", "}", "|", "trim",
                                 ".", ",", ":", "1", "2.5", " and ", " not ", " is ", "defined", "\n", " macro ",
                                 " endmacro ", "loop", "messages", "~", "*", "/", "%", "range(3)", " else ", "raw", " "};
    unsigned seed = 12345;
    json_t *vars = json_loads("{\"messages\": [{\"role\": \"user\", \"content\": \"c\"}], \"x\": [1, 2]}", 0, NULL);
    int ok = 0;
    for (int i = 0; i < 3000; i++) {
        char src[512] = "";
        size_t n = 0;
        int k = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 24;
        for (int j = 0; j < k; j++) {
            const char *f = frag[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof frag / sizeof *frag)];
            size_t fl = strlen(f);
            if (n + fl >= sizeof src) break;
            memcpy(src + n, f, fl);
            n += fl;
        }
        src[n] = 0;
        ft_jinja *t = ft_jinja_parse(src, n, "soup");
        if (!t) { assert_true(strncmp(ft_errmsg(), "soup:", 5) == 0); continue; }
        char *out;
        size_t len;
        if (ft_jinja_render(t, vars, &out, &len) == 0) { ok++; free(out); }
        else assert_true(strncmp(ft_errmsg(), "soup:", 5) == 0);
        ft_jinja_free(t);
    }
    json_decref(vars);
    assert_true(ok > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whitespace), cmocka_unit_test(test_values),     cmocka_unit_test(test_statements),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_render_reuse), cmocka_unit_test(test_spans),
        cmocka_unit_test(test_soup),       cmocka_unit_test(test_strftime_now), cmocka_unit_test(test_generation_marks),
        cmocka_unit_test(test_formatting), cmocka_unit_test(test_loop_features),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
