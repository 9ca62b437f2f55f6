// jinja_value.c — the Jinja interpreter's values with Python semantics: arena allocation
// (with marks to release a loop iteration's values, and the render budget's memory, list
// size and buffer size limits, which record why they stopped a render in jrun),
// truthiness, equality and ordering, str()/repr() as Python prints them, json.dumps
// (ensure_ascii=False) for tojson, conversion from jansson values, UTF-8 code points.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/err.h"
#include "template/jinja_int.h"

// ---- arena ------------------------------------------------------------------------------
struct ja_chunk { ja_chunk *next; size_t used, cap; max_align_t data[]; };
#define JA_CHUNK ((size_t)64 << 10)

_Thread_local jrun_state jrun;

static void run_fail(int why) { if (!jrun.fail) jrun.fail = why; }

void *ja_alloc(jarena *a, size_t n) {
    if (n > SIZE_MAX / 2) { run_fail(JFAIL_MEMORY); ft_err("allocation too large"); return NULL; }
    n = (n + 15) & ~(size_t)15;
    ja_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > JA_CHUNK ? n : JA_CHUNK;
        if (jrun.memory && a->bytes + cap > jrun.memory) { run_fail(JFAIL_MEMORY); ft_err("memory budget exceeded"); return NULL; }
        ja_chunk *nc;
        if (cap == JA_CHUNK && a->spare) { nc = a->spare; a->spare = NULL; }
        else if (!(nc = malloc(sizeof *nc + cap))) { run_fail(JFAIL_OOM); ft_err("out of memory"); return NULL; }
        nc->next = c; nc->used = 0; nc->cap = cap;
        a->head = c = nc;
        a->bytes += cap;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *ja_strndup(jarena *a, const char *s, size_t n) {
    char *p = ja_alloc(a, n + 1);
    if (p) { if (n) memcpy(p, s, n); p[n] = 0; }
    return p;
}

// Drop the chunks above `keep` (NULL: all), keeping one standard one as the spare.
static void drop_to(jarena *a, ja_chunk *keep) {
    while (a->head && a->head != keep) {
        ja_chunk *c = a->head;
        a->head = c->next;
        a->bytes -= c->cap;
        if (c->cap == JA_CHUNK && !a->spare) a->spare = c;
        else free(c);
    }
}

void ja_reset(jarena *a) {
    ja_chunk *c = a->head;
    if (!c) return;
    while (c->next) c = c->next;   // the first chunk
    drop_to(a, c);
    c->used = 0;
}

void ja_free(jarena *a) {
    drop_to(a, NULL);
    free(a->spare);
    a->spare = NULL;
    a->bytes = 0;
}

jmark ja_mark(const jarena *a) {
    jmark m = {a->head, a->head ? a->head->used : 0};
    return m;
}

void ja_rewind(jarena *a, jmark m) {
    drop_to(a, m.head);
    if (a->head) a->head->used = m.used;
}

int ja_young(const jarena *a, jmark m, const void *p) {
    uintptr_t x = (uintptr_t)p;
    for (const ja_chunk *c = a->head; c; c = c->next) {
        uintptr_t d = (uintptr_t)c->data;
        if (c == m.head) return x >= d + m.used && x < d + c->cap;
        if (x >= d && x < d + c->cap) return 1;
    }
    return 0;
}

// ---- buffer -----------------------------------------------------------------------------
void jb_put(jbuf *b, const char *s, size_t n) {
    if (b->oom || !n) return;
    if (jrun.output && (n > jrun.output || b->n > jrun.output - n)) { b->oom = 1; run_fail(JFAIL_OUTPUT); return; }
    if (b->n + n + 1 > b->cap) {
        if (n > SIZE_MAX / 4 - b->n) { b->oom = 1; run_fail(JFAIL_OOM); return; }
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; run_fail(JFAIL_OOM); return; }
        b->p = p; b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
void jb_puts(jbuf *b, const char *s) { jb_put(b, s, strlen(s)); }
void jb_putc(jbuf *b, char c) { jb_put(b, &c, 1); }

// ---- constructors -----------------------------------------------------------------------
jv jv_undef(const char *hint) { jv v = {.t = JV_UNDEF}; v.u.s.s = hint; return v; }
jv jv_none(void) { jv v = {.t = JV_NONE}; return v; }
jv jv_bool(int b) { jv v = {.t = JV_BOOL}; v.u.i = !!b; return v; }
jv jv_int(int64_t i) { jv v = {.t = JV_INT}; v.u.i = i; return v; }
jv jv_float(double f) { jv v = {.t = JV_FLOAT}; v.u.f = f; return v; }
jv jv_strn(const char *s, size_t n) { jv v = {.t = JV_STR}; v.u.s.s = s; v.u.s.n = n; return v; }
jv jv_str_copy(jarena *a, const char *s, size_t n) {
    char *p = ja_strndup(a, s, n);
    return p ? jv_strn(p, n) : jv_undef(NULL);
}
// A list or dict larger than the budget's items, or one whose storage cannot be had, comes
// back with a NULL pointer (callers check it).
static int too_many(size_t n) {
    if (jrun.items && n > jrun.items) { run_fail(JFAIL_ITEMS); ft_err("list or dict size budget exceeded"); return 1; }
    return 0;
}

jv jv_list(jarena *a, size_t cap) {
    jv v = {.t = JV_LIST};
    if (too_many(cap) || cap > SIZE_MAX / sizeof(jv)) { v.u.l = NULL; return v; }
    v.u.l = ja_alloc(a, sizeof(jlist));
    if (v.u.l && cap) {
        if (!(v.u.l->v = ja_alloc(a, cap * sizeof(jv)))) v.u.l = NULL;
        else v.u.l->cap = cap;
    }
    return v;
}
jv jv_dict(jarena *a, size_t cap) {
    jv v = {.t = JV_DICT};
    if (too_many(cap) || cap > SIZE_MAX / sizeof(jv)) { v.u.d = NULL; return v; }
    v.u.d = ja_alloc(a, sizeof(jdict));
    if (v.u.d && cap) {
        v.u.d->k = ja_alloc(a, cap * sizeof(jv));
        v.u.d->v = ja_alloc(a, cap * sizeof(jv));
        if (!v.u.d->k || !v.u.d->v) v.u.d = NULL;
        else v.u.d->cap = cap;
    }
    return v;
}

int jl_push(jarena *a, jlist *l, jv v) {
    if (l->n == l->cap) {
        if (too_many(l->n + 1)) return -1;
        size_t cap = l->cap ? l->cap * 2 : 4;
        if (jrun.items && cap > jrun.items) cap = jrun.items;
        jv *p = ja_alloc(a, cap * sizeof(jv));
        if (!p) return -1;
        if (l->n) memcpy(p, l->v, l->n * sizeof(jv));
        l->v = p; l->cap = cap;
    }
    l->v[l->n++] = v;
    return 0;
}

jv *jd_get(const jdict *d, jv k) {
    for (size_t i = 0; i < d->n; i++)
        if (jv_equal(d->k[i], k)) return &d->v[i];
    return NULL;
}
jv *jd_gets(const jdict *d, const char *key) {
    size_t n = strlen(key);
    for (size_t i = 0; i < d->n; i++)
        if (d->k[i].t == JV_STR && d->k[i].u.s.n == n && memcmp(d->k[i].u.s.s, key, n) == 0) return &d->v[i];
    return NULL;
}
int jd_set(jarena *a, jdict *d, jv k, jv v) {
    jv *p = jd_get(d, k);
    if (p) { *p = v; return 0; }
    if (d->n == d->cap) {
        if (too_many(d->n + 1)) return -1;
        size_t cap = d->cap ? d->cap * 2 : 4;
        if (jrun.items && cap > jrun.items) cap = jrun.items;
        jv *nk = ja_alloc(a, cap * sizeof(jv)), *nv = ja_alloc(a, cap * sizeof(jv));
        if (!nk || !nv) return -1;
        if (d->n) { memcpy(nk, d->k, d->n * sizeof(jv)); memcpy(nv, d->v, d->n * sizeof(jv)); }
        d->k = nk; d->v = nv; d->cap = cap;
    }
    d->k[d->n] = k; d->v[d->n] = v; d->n++;
    return 0;
}

// ---- semantics --------------------------------------------------------------------------
int jv_truthy(jv v) {
    switch (v.t) {
    case JV_UNDEF: case JV_NONE: return 0;
    case JV_BOOL: case JV_INT: return v.u.i != 0;
    case JV_FLOAT: return v.u.f != 0.0;
    case JV_STR: return v.u.s.n > 0;
    case JV_LIST: return v.u.l->lazy || v.u.l->n > 0;
    case JV_DICT: return v.u.d->ns || v.u.d->n > 0;
    default: return 1;
    }
}

static int is_num(jv v) { return v.t == JV_BOOL || v.t == JV_INT || v.t == JV_FLOAT; }
static double num(jv v) { return v.t == JV_FLOAT ? v.u.f : (double)v.u.i; }

static _Thread_local int eq_depth;
static int equal_body(jv a, jv b);

int jv_equal(jv a, jv b) {
    if (eq_depth > 100) return 0;
    eq_depth++;
    int r = equal_body(a, b);
    eq_depth--;
    return r;
}

static int equal_body(jv a, jv b) {
    if (is_num(a) && is_num(b)) {
        if (a.t != JV_FLOAT && b.t != JV_FLOAT) return a.u.i == b.u.i;
        return num(a) == num(b);
    }
    if (a.t != b.t) return 0;
    switch (a.t) {
    case JV_UNDEF: case JV_NONE: return 1;
    case JV_STR: return a.u.s.n == b.u.s.n && memcmp(a.u.s.s, b.u.s.s, a.u.s.n) == 0;
    case JV_LIST:
        if (a.u.l->lazy || b.u.l->lazy) return a.u.l == b.u.l;
        if (a.u.l->n != b.u.l->n || a.u.l->tuple != b.u.l->tuple) return 0;
        for (size_t i = 0; i < a.u.l->n; i++) if (!jv_equal(a.u.l->v[i], b.u.l->v[i])) return 0;
        return 1;
    case JV_DICT:
        if (a.u.d == b.u.d) return 1;
        if (a.u.d->ns || b.u.d->ns || a.u.d->n != b.u.d->n) return 0;
        for (size_t i = 0; i < a.u.d->n; i++) {
            jv *o = jd_get(b.u.d, a.u.d->k[i]);
            if (!o || !jv_equal(a.u.d->v[i], *o)) return 0;
        }
        return 1;
    default: return a.u.m == b.u.m;
    }
}

static _Thread_local int cmp_depth;
static int compare_body(jv a, jv b);

int jv_compare(jv a, jv b) {
    if (cmp_depth > 100) return -2;
    cmp_depth++;
    int r = compare_body(a, b);
    cmp_depth--;
    return r;
}

static int compare_body(jv a, jv b) {
    if (is_num(a) && is_num(b)) {
        if (a.t != JV_FLOAT && b.t != JV_FLOAT) return (a.u.i > b.u.i) - (a.u.i < b.u.i);
        double x = num(a), y = num(b);
        return (x > y) - (x < y);
    }
    if (a.t == JV_STR && b.t == JV_STR) {
        size_t n = a.u.s.n < b.u.s.n ? a.u.s.n : b.u.s.n;
        int c = n ? memcmp(a.u.s.s, b.u.s.s, n) : 0;
        if (c) return c < 0 ? -1 : 1;
        return (a.u.s.n > b.u.s.n) - (a.u.s.n < b.u.s.n);
    }
    if (a.t == JV_LIST && b.t == JV_LIST) {
        for (size_t i = 0; i < a.u.l->n && i < b.u.l->n; i++) {
            if (jv_equal(a.u.l->v[i], b.u.l->v[i])) continue;
            return jv_compare(a.u.l->v[i], b.u.l->v[i]);
        }
        return (a.u.l->n > b.u.l->n) - (a.u.l->n < b.u.l->n);
    }
    return -2;
}

const char *jv_type_name(jv v) {
    static const char *names[] = {"undefined", "NoneType", "bool", "int", "float", "str", "list",
                                  "dict", "LoopContext", "Macro", "function", "method"};
    if (v.t == JV_DICT && v.u.d->ns) return "Namespace";
    if (v.t == JV_LIST && v.u.l->lazy) return "generator";
    if (v.t == JV_LIST && v.u.l->tuple) return "tuple";
    return names[v.t];
}

// ---- printing ---------------------------------------------------------------------------
void jv_float_repr(jbuf *b, double f) {
    char tmp[64];
    if (isnan(f)) { jb_puts(b, "nan"); return; }
    if (isinf(f)) { jb_puts(b, f < 0 ? "-inf" : "inf"); return; }
    // shortest digits that round-trip, then Python's layout (exponent if exp < -4 or >= 16)
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f) break;
    }
    char *e = strchr(tmp, 'e');
    int exp = atoi(e + 1);
    char digits[32]; int nd = 0; int neg = tmp[0] == '-';
    for (char *p = tmp + neg; p < e; p++) if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = 0;
    if (neg) jb_putc(b, '-');
    if (exp < -4 || exp >= 16) {
        jb_putc(b, digits[0]);
        if (nd > 1) { jb_putc(b, '.'); jb_puts(b, digits + 1); }
        snprintf(tmp, sizeof tmp, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        jb_puts(b, tmp);
    } else if (exp < 0) {
        jb_puts(b, "0.");
        for (int i = 0; i < -exp - 1; i++) jb_putc(b, '0');
        jb_puts(b, digits);
    } else {
        for (int i = 0; i <= exp; i++) jb_putc(b, i < nd ? digits[i] : '0');
        jb_putc(b, '.');
        if (nd > exp + 1) jb_puts(b, digits + exp + 1); else jb_putc(b, '0');
    }
}

static _Thread_local int repr_ascii;   // jinja_repr_ascii(.., 1): ascii() escapes non-ASCII too

// Python's str.isprintable() for one code point: not in Cc Cf Cs Co Cn Zl Zp, nor Zs other than ' '
static int py_printable(int cp) {
    if (cp == ' ') return 1;
    utf8proc_category_t k = utf8proc_category(cp);
    return !(k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CS ||
             k == UTF8PROC_CATEGORY_CO || k == UTF8PROC_CATEGORY_CN || k == UTF8PROC_CATEGORY_ZL ||
             k == UTF8PROC_CATEGORY_ZP || k == UTF8PROC_CATEGORY_ZS);
}

// repr(str): quotes as Python picks them, \\ \n \r \t, \xhh / \uhhhh / \Uhhhhhhhh for the unprintable
static void str_repr(jbuf *b, const char *s, size_t n) {
    int has_sq = memchr(s, '\'', n) != NULL, has_dq = memchr(s, '"', n) != NULL;
    char q = has_sq && !has_dq ? '"' : '\'';
    jb_putc(b, q);
    for (size_t i = 0; i < n;) {
        size_t st = i;
        int c = ju_decode(s, n, &i);
        char tmp[16];
        if (c == q || c == '\\') { jb_putc(b, '\\'); jb_putc(b, (char)c); }
        else if (c == '\n') jb_puts(b, "\\n");
        else if (c == '\r') jb_puts(b, "\\r");
        else if (c == '\t') jb_puts(b, "\\t");
        else if (c < 0x80 ? (c >= 0x20 && c < 0x7f) : (!repr_ascii && py_printable(c))) jb_put(b, s + st, i - st);
        else {
            if (c < 0x100) snprintf(tmp, sizeof tmp, "\\x%02x", c);
            else if (c < 0x10000) snprintf(tmp, sizeof tmp, "\\u%04x", c);
            else snprintf(tmp, sizeof tmp, "\\U%08x", c);
            jb_puts(b, tmp);
        }
    }
    jb_putc(b, q);
}

void jv_repr(jbuf *b, jv v) {
    if (v.t == JV_STR) { str_repr(b, v.u.s.s, v.u.s.n); return; }
    jv_str(b, v);
}

void jinja_repr_ascii(jbuf *b, jv v, int ascii) {
    int saved = repr_ascii;
    repr_ascii = ascii;
    jv_repr(b, v);
    repr_ascii = saved;
}

static _Thread_local int str_depth;
static void str_body(jbuf *b, jv v);

void jv_str(jbuf *b, jv v) {
    if ((v.t == JV_LIST || v.t == JV_DICT) && str_depth > 100) { jb_puts(b, "[...]"); return; }
    str_depth++;
    str_body(b, v);
    str_depth--;
}

static void str_body(jbuf *b, jv v) {
    char tmp[32];
    switch (v.t) {
    case JV_UNDEF: return;
    case JV_NONE: jb_puts(b, "None"); return;
    case JV_BOOL: jb_puts(b, v.u.i ? "True" : "False"); return;
    case JV_INT: snprintf(tmp, sizeof tmp, "%lld", (long long)v.u.i); jb_puts(b, tmp); return;
    case JV_FLOAT: jv_float_repr(b, v.u.f); return;
    case JV_STR: jb_put(b, v.u.s.s, v.u.s.n); return;
    case JV_LIST:
        if (v.u.l->lazy) { jb_puts(b, "<generator object>"); return; }
        jb_putc(b, v.u.l->tuple ? '(' : '[');
        for (size_t i = 0; i < v.u.l->n; i++) { if (i) jb_puts(b, ", "); jv_repr(b, v.u.l->v[i]); }
        if (v.u.l->tuple && v.u.l->n == 1) jb_putc(b, ',');
        jb_putc(b, v.u.l->tuple ? ')' : ']');
        return;
    case JV_DICT:
        if (v.u.d->ns) jb_puts(b, "<Namespace ");
        jb_putc(b, '{');
        for (size_t i = 0; i < v.u.d->n; i++) {
            if (i) jb_puts(b, ", ");
            jv_repr(b, v.u.d->k[i]); jb_puts(b, ": "); jv_repr(b, v.u.d->v[i]);
        }
        jb_putc(b, '}');
        if (v.u.d->ns) jb_putc(b, '>');
        return;
    case JV_LOOP: jb_puts(b, "<LoopContext>"); return;
    case JV_MACRO: jb_puts(b, "<Macro>"); return;
    default: jb_puts(b, "<function>"); return;
    }
}

void jb_json_str(jbuf *b, const char *s, size_t n) {
    jb_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        jb_put(b, s + start, i - start);
        start = i + 1;
        char tmp[8];
        switch (c) {
        case '"': jb_puts(b, "\\\""); break;
        case '\\': jb_puts(b, "\\\\"); break;
        case '\n': jb_puts(b, "\\n"); break;
        case '\r': jb_puts(b, "\\r"); break;
        case '\t': jb_puts(b, "\\t"); break;
        case '\b': jb_puts(b, "\\b"); break;
        case '\f': jb_puts(b, "\\f"); break;
        default: snprintf(tmp, sizeof tmp, "\\u%04x", c); jb_puts(b, tmp);
        }
    }
    jb_put(b, s + start, n - start);
    jb_putc(b, '"');
}

static void json_nl(jbuf *b, int indent, int depth) {
    jb_putc(b, '\n');
    for (int i = 0; i < indent * depth; i++) jb_putc(b, ' ');
}

int jv_tojson(jbuf *b, jv v, int indent, int depth) {
    if (depth > 200) return ft_err("tojson: nesting too deep");
    switch (v.t) {
    case JV_NONE: jb_puts(b, "null"); return 0;
    case JV_BOOL: jb_puts(b, v.u.i ? "true" : "false"); return 0;
    case JV_INT: jv_str(b, v); return 0;
    case JV_FLOAT:
        if (isnan(v.u.f)) jb_puts(b, "NaN");
        else if (isinf(v.u.f)) jb_puts(b, v.u.f < 0 ? "-Infinity" : "Infinity");
        else jv_float_repr(b, v.u.f);
        return 0;
    case JV_STR: jb_json_str(b, v.u.s.s, v.u.s.n); return 0;
    case JV_LIST:
        if (v.u.l->lazy) return ft_err("tojson: Object of type generator is not JSON serializable");
        if (!v.u.l->n) { jb_puts(b, "[]"); return 0; }
        jb_putc(b, '[');
        for (size_t i = 0; i < v.u.l->n; i++) {
            if (i) jb_puts(b, indent >= 0 ? "," : ", ");
            if (indent >= 0) json_nl(b, indent, depth + 1);
            if (jv_tojson(b, v.u.l->v[i], indent, depth + 1)) return -1;
        }
        if (indent >= 0) json_nl(b, indent, depth);
        jb_putc(b, ']');
        return 0;
    case JV_DICT:
        if (!v.u.d->n) { jb_puts(b, "{}"); return 0; }
        jb_putc(b, '{');
        for (size_t i = 0; i < v.u.d->n; i++) {
            if (i) jb_puts(b, indent >= 0 ? "," : ", ");
            if (indent >= 0) json_nl(b, indent, depth + 1);
            jv k = v.u.d->k[i];
            if (k.t == JV_STR) jb_json_str(b, k.u.s.s, k.u.s.n);
            else if (k.t == JV_INT || k.t == JV_FLOAT || k.t == JV_BOOL || k.t == JV_NONE) {
                jbuf t = {0};
                if (k.t == JV_NONE) jb_puts(&t, "null");
                else if (k.t == JV_BOOL) jb_puts(&t, k.u.i ? "true" : "false");
                else jv_str(&t, k);
                jb_json_str(b, t.p ? t.p : "", t.n);
                free(t.p);
            } else return ft_err("tojson: keys must be str, int, float, bool or None, not %s", jv_type_name(k));
            jb_puts(b, ": ");
            if (jv_tojson(b, v.u.d->v[i], indent, depth + 1)) return -1;
        }
        if (indent >= 0) json_nl(b, indent, depth);
        jb_putc(b, '}');
        return 0;
    default:
        return ft_err("tojson: Object of type %s is not JSON serializable", jv_type_name(v));
    }
}

jv jv_from_json(jarena *a, const json_t *j) {
    switch (json_typeof(j)) {
    case JSON_NULL: return jv_none();
    case JSON_TRUE: return jv_bool(1);
    case JSON_FALSE: return jv_bool(0);
    case JSON_INTEGER: return jv_int(json_integer_value(j));
    case JSON_REAL: return jv_float(json_real_value(j));
    case JSON_STRING: return jv_strn(json_string_value(j), json_string_length(j));
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        jv l = jv_list(a, n);
        if (!l.u.l) return jv_undef(NULL);
        for (size_t i = 0; i < n; i++) l.u.l->v[i] = jv_from_json(a, json_array_get(j, i));
        l.u.l->n = n;
        return l;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(j);
        jv d = jv_dict(a, n);
        if (!d.u.d) return jv_undef(NULL);
        const char *k; json_t *val; size_t i = 0;
        json_object_foreach((json_t *)j, k, val) {
            d.u.d->k[i] = jv_strn(k, strlen(k));
            d.u.d->v[i] = jv_from_json(a, val);
            i++;
        }
        d.u.d->n = i;
        return d;
    }
    }
    return jv_none();
}

jv jv_to_str(jarena *a, jv v) {
    if (v.t == JV_STR) return v;
    jbuf b = {0};
    jv_str(&b, v);
    jv r = jv_str_copy(a, b.p ? b.p : "", b.n);
    free(b.p);
    return r;
}

// ---- UTF-8 ------------------------------------------------------------------------------
int ju_decode(const char *s, size_t n, size_t *i) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[*i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (*i + (size_t)len > n) len = 1;
    unsigned cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (int k = 1; k < len; k++) cp = (cp << 6) | (u[*i + k] & 0x3f);
    *i += len;
    return (int)cp;
}

size_t ju_len(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; c++) ju_decode(s, n, &i);
    return c;
}

size_t ju_offset(const char *s, size_t n, size_t cp) {
    size_t i = 0;
    for (size_t c = 0; c < cp && i < n; c++) ju_decode(s, n, &i);
    return i;
}
