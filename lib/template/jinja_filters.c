// jinja_filters.c — jinja2's built-in filters and tests as chat templates use them, with
// HF's tojson (json.dumps, ensure_ascii=False) and jinja2's quirks (unique and sort are
// case-insensitive by default, default() only replaces undefined unless boolean=true).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "template/jinja_int.h"

typedef struct {
    jv *args; size_t nargs;
    const char **kwn; jv *kwv; size_t nkw;
} fargs;

// Argument by position (after the filtered value) or keyword; `def` when absent.
static jv arg(const fargs *f, size_t pos, const char *name, jv def) {
    for (size_t i = 0; i < f->nkw; i++) if (!strcmp(f->kwn[i], name)) return f->kwv[i];
    return pos < f->nargs ? f->args[pos] : def;
}

static jv finish(jarena *a, jbuf *b) {
    jv r = jv_str_copy(a, b->p ? b->p : "", b->n);
    free(b->p);
    return r;
}

static int to_list(jctx *c, const jnode *at, jv v, jlist **out) {
    jv l = jv_list(c->a, 0);
    if (!l.u.l) return -1;
    switch (v.t) {
    case JV_LIST:
        if (v.u.l->lazy && v.u.l->used) break;   // an exhausted generator
        v.u.l->used = v.u.l->lazy;
        *out = v.u.l;
        return 0;
    case JV_UNDEF: break;
    case JV_DICT: for (size_t i = 0; i < v.u.d->n; i++) if (jl_push(c->a, l.u.l, v.u.d->k[i])) return -1; break;
    case JV_STR:
        for (size_t i = 0; i < v.u.s.n;) {
            size_t j = i;
            ju_decode(v.u.s.s, v.u.s.n, &j);
            if (jl_push(c->a, l.u.l, jv_strn(v.u.s.s + i, j - i))) return -1;
            i = j;
        }
        break;
    default: return jinja_err(c, at, "'%s' object is not iterable", jv_type_name(v));
    }
    *out = l.u.l;
    return 0;
}

// attribute lookup used by map/selectattr/sort/join: "a.b" walks dicts, "0" indexes lists
static jv attr_path(jv v, jv attr) {
    if (attr.t == JV_INT) return v.t == JV_LIST && attr.u.i >= 0 && (size_t)attr.u.i < v.u.l->n ? v.u.l->v[attr.u.i] : jv_undef(NULL);
    if (attr.t != JV_STR) return jv_undef(NULL);
    const char *p = attr.u.s.s, *e = p + attr.u.s.n;
    while (p < e) {
        const char *dot = memchr(p, '.', (size_t)(e - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(e - p);
        if (v.t == JV_DICT) {
            jv *x = jd_get(v.u.d, jv_strn(p, n));
            v = x ? *x : jv_undef(NULL);
        } else if (v.t == JV_LIST && n && p[0] >= '0' && p[0] <= '9') {
            size_t k = (size_t)atoi(p);
            v = k < v.u.l->n ? v.u.l->v[k] : jv_undef(NULL);
        } else return jv_undef(NULL);
        p += n + (dot != NULL);
    }
    return v;
}

static int sort_cmp_ci;
static jv sort_attr;
static int sort_cmp(const void *x, const void *y) {
    jv a = attr_path(*(const jv *)x, sort_attr), b = attr_path(*(const jv *)y, sort_attr);
    if (sort_attr.t == JV_NONE) { a = *(const jv *)x; b = *(const jv *)y; }
    if (sort_cmp_ci && a.t == JV_STR && b.t == JV_STR) {
        size_t i = 0, j = 0;
        while (i < a.u.s.n && j < b.u.s.n) {
            int ca = ju_decode(a.u.s.s, a.u.s.n, &i), cb = ju_decode(b.u.s.s, b.u.s.n, &j);
            if (ca >= 'A' && ca <= 'Z') ca += 32;
            if (cb >= 'A' && cb <= 'Z') cb += 32;
            if (ca != cb) return ca < cb ? -1 : 1;
        }
        return (i < a.u.s.n) - (j < b.u.s.n);
    }
    int r = jv_compare(a, b);
    return r == -2 ? 0 : r;
}

static jv lower_if_str(jctx *c, jv v, int ci) { return ci && v.t == JV_STR ? ju_case(c->a, v, 'l') : v; }

static int select_items(jctx *c, const jnode *at, jv v, const fargs *f, int by_attr, int keep, jv *out) {
    jlist *items;
    if (to_list(c, at, v, &items)) return -1;
    jv res = jv_list(c->a, 0);
    if (!res.u.l) return -1;
    size_t base = by_attr ? 1 : 0;
    if (by_attr && !f->nargs) return jinja_err(c, at, "selectattr/rejectattr need an attribute");
    for (size_t i = 0; i < items->n; i++) {
        jv x = by_attr ? attr_path(items->v[i], f->args[0]) : items->v[i];
        int r;
        if (f->nargs > base) {
            if (f->args[base].t != JV_STR) return jinja_err(c, at, "test name must be a string");
            char *tn = ja_strndup(c->a, f->args[base].u.s.s, f->args[base].u.s.n);
            if (!tn || jinja_test(c, at, tn, x, f->args + base + 1, f->nargs - base - 1, &r)) return -1;
        } else r = jv_truthy(x);
        if ((r != 0) == keep && jl_push(c->a, res.u.l, items->v[i])) return -1;
    }
    res.u.l->lazy = 1;
    *out = res;
    return 0;
}

int jinja_filter(jctx *c, const jnode *at, const char *name, jv v, jv *args, size_t nargs,
                 const char **kwn, jv *kwv, size_t nkw, jv *out) {
    fargs f = {args, nargs, kwn, kwv, nkw};
    jarena *a = c->a;
    #define IS(s) (!strcmp(name, s))
    if (IS("default") || IS("d")) {
        int boolean = jv_truthy(arg(&f, 1, "boolean", jv_bool(0)));
        *out = (v.t == JV_UNDEF || (boolean && !jv_truthy(v))) ? arg(&f, 0, "default_value", jv_strn("", 0)) : v;
        return 0;
    }
    if (IS("tojson")) {
        jv ind = arg(&f, 0, "indent", jv_none());
        jbuf b = {0};
        if (jv_tojson(&b, v, ind.t == JV_INT ? (int)ind.u.i : -1, 0)) { free(b.p); return jinja_err(c, at, "%s", ft_errmsg()); }
        *out = finish(a, &b);
        return 0;
    }
    if (IS("safe")) { *out = v; return 0; }
    if (IS("string")) { *out = jv_to_str(a, v); return 0; }
    if (IS("length") || IS("count")) {
        switch (v.t) {
        case JV_STR: *out = jv_int((int64_t)ju_len(v.u.s.s, v.u.s.n)); return 0;
        case JV_LIST:
            if (v.u.l->lazy) return jinja_err(c, at, "object of type 'generator' has no len()");
            *out = jv_int((int64_t)v.u.l->n);
            return 0;
        case JV_DICT: *out = jv_int((int64_t)v.u.d->n); return 0;
        case JV_UNDEF: *out = jv_int(0); return 0;
        default: return jinja_err(c, at, "object of type '%s' has no len()", jv_type_name(v));
        }
    }
    if (IS("list")) {   // always a new, plain list (from a list, tuple, generator, string, dict)
        jlist *l;
        if (to_list(c, at, v, &l)) return -1;
        jv r = jv_list(a, l->n);
        if (!r.u.l) return -1;
        if (l->n) memcpy(r.u.l->v, l->v, l->n * sizeof(jv));
        r.u.l->n = l->n;
        *out = r;
        return 0;
    }
    if (IS("items")) {
        if (v.t == JV_UNDEF) { *out = jv_list(a, 0); return out->u.l ? 0 : -1; }
        if (v.t != JV_DICT) return jinja_err(c, at, "items filter: can only get item pairs from a mapping");
        if (jinja_method(c, at, v, "items", NULL, 0, NULL, NULL, 0, out) < 0) return -1;
        out->u.l->lazy = 1;
        return 0;
    }
    if (IS("dictsort")) {
        if (v.t != JV_DICT) return jinja_err(c, at, "dictsort: expected a mapping");
        jv items;
        if (jinja_method(c, at, v, "items", NULL, 0, NULL, NULL, 0, &items) < 0) return -1;
        sort_cmp_ci = !jv_truthy(arg(&f, 0, "case_sensitive", jv_bool(0)));
        sort_attr = jv_int(0);
        qsort(items.u.l->v, items.u.l->n, sizeof(jv), sort_cmp);
        *out = items;
        return 0;
    }
    if (IS("first") || IS("last")) {
        jlist *l;
        if (IS("last") && v.t == JV_LIST && v.u.l->lazy) return jinja_err(c, at, "'generator' object is not reversible");
        if (to_list(c, at, v, &l)) return -1;
        *out = l->n ? l->v[IS("first") ? 0 : l->n - 1] : jv_undef("no first item, sequence was empty");
        return 0;
    }
    if (IS("join")) {
        jlist *l;
        jv sep = arg(&f, 0, "d", jv_strn("", 0)), at_ = arg(&f, 1, "attribute", jv_none());
        if (to_list(c, at, v, &l)) return -1;
        sep = jv_to_str(a, sep);
        jbuf b = {0};
        for (size_t i = 0; i < l->n; i++) {
            if (i) jb_put(&b, sep.u.s.s, sep.u.s.n);
            jv_str(&b, at_.t == JV_NONE ? l->v[i] : attr_path(l->v[i], at_));
        }
        *out = finish(a, &b);
        return 0;
    }
    if (IS("reverse")) {
        jlist *l;
        if (v.t == JV_STR) {
            jbuf b = {0};
            if (to_list(c, at, v, &l)) return -1;
            for (size_t i = l->n; i-- > 0;) jb_put(&b, l->v[i].u.s.s, l->v[i].u.s.n);
            *out = finish(a, &b);
            return 0;
        }
        if (to_list(c, at, v, &l)) return -1;
        jv r = jv_list(a, l->n);
        if (!r.u.l) return -1;
        for (size_t i = 0; i < l->n; i++) r.u.l->v[i] = l->v[l->n - 1 - i];
        r.u.l->n = l->n;
        r.u.l->lazy = v.t == JV_LIST && !v.u.l->lazy;   // reversed(list) is an iterator; list(generator) is not
        *out = r;
        return 0;
    }
    if (IS("sort")) {
        jlist *l;
        if (to_list(c, at, v, &l)) return -1;
        jv r = jv_list(a, l->n);
        if (!r.u.l) return -1;
        if (l->n) memcpy(r.u.l->v, l->v, l->n * sizeof(jv));
        r.u.l->n = l->n;
        sort_cmp_ci = !jv_truthy(arg(&f, 1, "case_sensitive", jv_bool(0)));
        sort_attr = arg(&f, 2, "attribute", jv_none());
        // stable: insertion sort (lists in templates are small)
        for (size_t i = 1; i < r.u.l->n; i++)
            for (size_t j = i; j > 0 && sort_cmp(&r.u.l->v[j - 1], &r.u.l->v[j]) > 0; j--) {
                jv t = r.u.l->v[j]; r.u.l->v[j] = r.u.l->v[j - 1]; r.u.l->v[j - 1] = t;
            }
        if (jv_truthy(arg(&f, 0, "reverse", jv_bool(0))))
            for (size_t i = 0; i < r.u.l->n / 2; i++) {
                jv t = r.u.l->v[i]; r.u.l->v[i] = r.u.l->v[r.u.l->n - 1 - i]; r.u.l->v[r.u.l->n - 1 - i] = t;
            }
        *out = r;
        return 0;
    }
    if (IS("unique")) {
        jlist *l;
        if (to_list(c, at, v, &l)) return -1;
        int ci = !jv_truthy(arg(&f, 0, "case_sensitive", jv_bool(0)));
        jv at_ = arg(&f, 1, "attribute", jv_none());
        jv r = jv_list(a, 0), seen = jv_list(a, 0);
        if (!r.u.l || !seen.u.l) return -1;
        for (size_t i = 0; i < l->n; i++) {
            jv key = lower_if_str(c, at_.t == JV_NONE ? l->v[i] : attr_path(l->v[i], at_), ci);
            int dup = 0;
            for (size_t k = 0; k < seen.u.l->n && !dup; k++) dup = jv_equal(seen.u.l->v[k], key);
            if (!dup && (jl_push(a, seen.u.l, key) || jl_push(a, r.u.l, l->v[i]))) return -1;
        }
        r.u.l->lazy = 1;
        *out = r;
        return 0;
    }
    if (IS("map")) {
        jlist *l;
        if (to_list(c, at, v, &l)) return -1;
        jv r = jv_list(a, l->n);
        if (!r.u.l) return -1;
        jv attr = arg(&f, 99, "attribute", jv_none());
        for (size_t i = 0; i < l->n; i++) {
            if (attr.t != JV_NONE) {
                jv x = attr_path(l->v[i], attr);
                r.u.l->v[i] = x.t == JV_UNDEF ? arg(&f, 99, "default", x) : x;
            } else {
                if (!nargs || args[0].t != JV_STR) return jinja_err(c, at, "map: expected a filter name or attribute=");
                char *fn = ja_strndup(a, args[0].u.s.s, args[0].u.s.n);
                if (!fn || jinja_filter(c, at, fn, l->v[i], args + 1, nargs - 1, kwn, kwv, nkw, &r.u.l->v[i])) return -1;
            }
        }
        r.u.l->n = l->n;
        r.u.l->lazy = 1;
        *out = r;
        return 0;
    }
    if (IS("groupby") || IS("batch") || IS("slice")) {
        jlist *l;
        if (to_list(c, at, v, &l)) return -1;
        return jinja_filter_group(c, at, name, l, args, nargs, kwn, kwv, nkw, out);
    }
    if (IS("selectattr") || IS("rejectattr")) return select_items(c, at, v, &f, 1, IS("selectattr"), out);
    if (IS("select") || IS("reject")) return select_items(c, at, v, &f, 0, IS("select"), out);
    if (IS("attr")) {
        *out = nargs ? attr_path(v, args[0]) : jv_undef(NULL);
        return 0;
    }
    if (IS("int") || IS("float")) {
        int isint = IS("int");
        if (v.t == JV_UNDEF) return jinja_err(c, at, "%s", v.u.s.s ? v.u.s.s : "value is undefined");
        jv def = arg(&f, 0, "default", isint ? jv_int(0) : jv_float(0));
        double d = 0;
        int ok = 1;
        if (v.t == JV_INT || v.t == JV_BOOL) d = (double)v.u.i;
        else if (v.t == JV_FLOAT) d = v.u.f;
        else if (v.t == JV_STR) {
            char tmp[64]; char *end;
            jv t = ju_strip(v, jv_none(), 3);
            snprintf(tmp, sizeof tmp, "%.*s", (int)t.u.s.n, t.u.s.s);
            if (isint && t.u.s.n) { long long x = strtoll(tmp, &end, 10); if (!*end) { *out = jv_int(x); return 0; } }
            d = strtod(tmp, &end);
            ok = t.u.s.n && !*end;
        } else ok = 0;
        if (!ok || (isint && !(d > -9.2e18 && d < 9.2e18))) { *out = def; return 0; }
        *out = isint ? jv_int((int64_t)d) : jv_float(d);
        return 0;
    }
    if (IS("abs")) {
        if (v.t == JV_FLOAT) *out = jv_float(fabs(v.u.f));
        else if (v.t == JV_INT || v.t == JV_BOOL) {
            if (v.u.i == INT64_MIN) return jinja_err(c, at, "integer overflow");
            *out = jv_int(v.u.i < 0 ? -v.u.i : v.u.i);
        }
        else return jinja_err(c, at, "bad operand type for abs(): '%s'", jv_type_name(v));
        return 0;
    }
    if (IS("round")) {
        jv p = arg(&f, 0, "precision", jv_int(0)), m = arg(&f, 1, "method", jv_strn("common", 6));
        if (v.t != JV_INT && v.t != JV_FLOAT && v.t != JV_BOOL) return jinja_err(c, at, "round: expected a number");
        double x = v.t == JV_FLOAT ? v.u.f : (double)v.u.i, k = pow(10, p.t == JV_INT ? (double)p.u.i : 0);
        if (m.t == JV_STR && m.u.s.n == 4 && !memcmp(m.u.s.s, "ceil", 4)) x = ceil(x * k) / k;
        else if (m.t == JV_STR && m.u.s.n == 5 && !memcmp(m.u.s.s, "floor", 5)) x = floor(x * k) / k;
        else {   // Python's round(): half to even, and an int stays an int
            if (v.t != JV_FLOAT && (p.t != JV_INT || p.u.i >= 0)) { *out = jv_int(v.u.i); return 0; }
            if (p.t == JV_INT && p.u.i >= 0 && p.u.i < 300) {   // correctly rounded, as Python does
                char tmp[400];
                snprintf(tmp, sizeof tmp, "%.*f", (int)p.u.i, x);
                x = strtod(tmp, NULL);
            } else x = nearbyint(x * k) / k;
        }
        *out = jv_float(x);
        return 0;
    }
    if (IS("sum") || IS("min") || IS("max")) {
        jlist *l;
        if (to_list(c, at, v, &l)) return -1;
        jv attr = arg(&f, IS("sum") ? 0 : 99, "attribute", jv_none());
        jv acc = IS("sum") ? arg(&f, 1, "start", jv_int(0)) : jv_undef(NULL);
        for (size_t i = 0; i < l->n; i++) {
            jv x = attr.t == JV_NONE ? l->v[i] : attr_path(l->v[i], attr);
            if (IS("sum")) {
                if ((acc.t != JV_INT && acc.t != JV_FLOAT) || (x.t != JV_INT && x.t != JV_FLOAT && x.t != JV_BOOL))
                    return jinja_err(c, at, "sum: unsupported operand types");
                int64_t r;
                if (acc.t == JV_INT && x.t != JV_FLOAT && __builtin_add_overflow(acc.u.i, x.u.i, &r))
                    return jinja_err(c, at, "integer overflow");
                acc = acc.t == JV_INT && x.t != JV_FLOAT ? jv_int(r)
                                                          : jv_float((acc.t == JV_FLOAT ? acc.u.f : (double)acc.u.i) + (x.t == JV_FLOAT ? x.u.f : (double)x.u.i));
            } else if (acc.t == JV_UNDEF) acc = x;
            else {
                int r = jv_compare(lower_if_str(c, x, 1), lower_if_str(c, acc, 1));
                if (r == -2) return jinja_err(c, at, "%s: values cannot be compared", name);
                if (IS("min") ? r < 0 : r > 0) acc = x;
            }
        }
        *out = acc;
        return 0;
    }
    // string filters
    if (IS("escape") || IS("e") || IS("forceescape")) {
        jv s = jv_to_str(a, v);
        jbuf b = {0};
        for (size_t i = 0; i < s.u.s.n; i++) {
            char ch = s.u.s.s[i];
            if (ch == '&') jb_puts(&b, "&amp;");
            else if (ch == '<') jb_puts(&b, "&lt;");
            else if (ch == '>') jb_puts(&b, "&gt;");
            else if (ch == '"') jb_puts(&b, "&#34;");
            else if (ch == '\'') jb_puts(&b, "&#39;");
            else jb_putc(&b, ch);
        }
        *out = finish(a, &b);
        return 0;
    }
    jv s = jv_to_str(a, v);
    if (IS("trim")) { *out = ju_strip(s, arg(&f, 0, "chars", jv_none()), 3); return 0; }
    if (IS("upper")) { *out = ju_case(a, s, 'u'); return 0; }
    if (IS("lower")) { *out = ju_case(a, s, 'l'); return 0; }
    if (IS("title")) { *out = ju_case(a, s, 'T'); return 0; }
    if (IS("capitalize")) { *out = ju_case(a, s, 'c'); return 0; }
    if (IS("replace")) {
        jv o = arg(&f, 0, "old", jv_undef(NULL)), n = arg(&f, 1, "new", jv_undef(NULL)), k = arg(&f, 2, "count", jv_none());
        if (o.t == JV_UNDEF || n.t == JV_UNDEF) return jinja_err(c, at, "replace needs old and new");
        *out = ju_replace(a, s, jv_to_str(a, o), jv_to_str(a, n), k.t == JV_INT ? k.u.i : -1);
        return 0;
    }
    if (IS("wordcount")) {
        jv l;
        if (ju_split(a, s, jv_none(), -1, &l)) return -1;
        *out = jv_int((int64_t)l.u.l->n);
        return 0;
    }
    if (IS("indent")) {
        jv w = arg(&f, 0, "width", jv_int(4));
        int first = jv_truthy(arg(&f, 1, "first", jv_bool(0))), blank = jv_truthy(arg(&f, 2, "blank", jv_bool(0)));
        jv pad = w.t == JV_STR ? w : jv_undef(NULL);
        jbuf p = {0}, b = {0};
        if (pad.t != JV_STR) { for (int64_t i = 0; w.t == JV_INT && i < w.u.i && i < 1000; i++) jb_putc(&p, ' '); }
        else jb_put(&p, pad.u.s.s, pad.u.s.n);
        size_t i = 0;
        int line = 0;
        while (i <= s.u.s.n) {
            size_t e = i;
            while (e < s.u.s.n && s.u.s.s[e] != '\n') e++;
            int empty = e == i;
            if ((line > 0 || first) && (blank || !empty) && p.n) jb_put(&b, p.p, p.n);
            jb_put(&b, s.u.s.s + i, e - i);
            if (e >= s.u.s.n) break;
            jb_putc(&b, '\n');
            i = e + 1; line++;
        }
        free(p.p);
        *out = finish(a, &b);
        return 0;
    }
    if (IS("center")) {
        jv w = arg(&f, 0, "width", jv_int(80));
        int64_t len = (int64_t)ju_len(s.u.s.s, s.u.s.n), width = w.t == JV_INT ? w.u.i : 80;
        if (width > 100000) width = 100000;
        jbuf b = {0};
        int64_t padt = width > len ? width - len : 0, left = padt / 2 + (padt & width & 1);
        for (int64_t i = 0; i < left; i++) jb_putc(&b, ' ');
        jb_put(&b, s.u.s.s, s.u.s.n);
        for (int64_t i = 0; i < padt - left; i++) jb_putc(&b, ' ');
        *out = finish(a, &b);
        return 0;
    }
    if (IS("format")) {   // jinja2: soft_str(value) % (kwargs or args)
        if (nargs && nkw) return jinja_err(c, at, "can't handle positional and keyword arguments at the same time");
        jv pa;
        if (nkw) {
            pa = jv_dict(a, nkw);
            if (!pa.u.d) return -1;
            for (size_t i = 0; i < nkw; i++) if (jd_set(a, pa.u.d, jv_strn(kwn[i], strlen(kwn[i])), kwv[i])) return -1;
        } else {
            pa = jv_list(a, nargs + 1);
            if (!pa.u.l) return -1;
            if (nargs) memcpy(pa.u.l->v, args, nargs * sizeof(jv));
            pa.u.l->n = nargs;
            pa.u.l->tuple = 1;
        }
        return jinja_percent(c, at, s, pa, out);
    }
    #undef IS
    return jinja_err(c, at, "no filter named '%s'", name);
}

int jinja_test(jctx *c, const jnode *at, const char *name, jv v, jv *args, size_t nargs, int *out) {
    #define IS(s) (!strcmp(name, s))
    jv x = nargs ? args[0] : jv_undef(NULL);
    if (IS("defined")) *out = v.t != JV_UNDEF;
    else if (IS("undefined")) *out = v.t == JV_UNDEF;
    else if (IS("none")) *out = v.t == JV_NONE;
    else if (IS("string")) *out = v.t == JV_STR;
    else if (IS("mapping")) *out = v.t == JV_DICT && !v.u.d->ns;
    else if (IS("iterable") || IS("sequence"))   // jinja2's Undefined iterates (empty) and has a len()
        *out = v.t == JV_STR || v.t == JV_LIST || (v.t == JV_DICT && !v.u.d->ns) || v.t == JV_UNDEF;
    else if (IS("number")) *out = v.t == JV_INT || v.t == JV_FLOAT || v.t == JV_BOOL;
    else if (IS("integer")) *out = v.t == JV_INT;
    else if (IS("float")) *out = v.t == JV_FLOAT;
    else if (IS("boolean")) *out = v.t == JV_BOOL;
    else if (IS("true")) *out = v.t == JV_BOOL && v.u.i;
    else if (IS("false")) *out = v.t == JV_BOOL && !v.u.i;
    else if (IS("callable")) *out = v.t == JV_MACRO || v.t == JV_FUNC || v.t == JV_METHOD;
    else if (IS("equalto") || IS("eq") || IS("==")) *out = jv_equal(v, x);
    else if (IS("ne") || IS("!=")) *out = !jv_equal(v, x);
    else if (IS("sameas")) *out = v.t == x.t && jv_equal(v, x) && (v.t <= JV_BOOL || v.u.l == x.u.l);
    else if (IS("lt") || IS("le") || IS("gt") || IS("ge") || IS("lessthan") || IS("greaterthan")) {
        int r = jv_compare(v, x);
        if (r == -2) return jinja_err(c, at, "'%s' not supported between instances of '%s' and '%s'", name, jv_type_name(v), jv_type_name(x));
        *out = name[0] == 'l' ? (name[1] == 'e' ? r <= 0 : r < 0) : (name[1] == 'e' ? r >= 0 : r > 0);
    } else if (IS("in")) {
        if (x.t == JV_STR && v.t == JV_STR) *out = v.u.s.n <= x.u.s.n && memmem(x.u.s.s, x.u.s.n, v.u.s.s, v.u.s.n) != NULL;
        else if (x.t == JV_LIST) { *out = 0; for (size_t i = 0; i < x.u.l->n && !*out; i++) *out = jv_equal(x.u.l->v[i], v); }
        else if (x.t == JV_DICT) *out = jd_get(x.u.d, v) != NULL;
        else return jinja_err(c, at, "'in' test: bad container");
    } else if (IS("odd") || IS("even") || IS("divisibleby")) {
        // Python: value % n == 0 (bools are ints, floats use fmod)
        jv d = IS("divisibleby") ? x : jv_int(2);
        if ((v.t != JV_INT && v.t != JV_BOOL && v.t != JV_FLOAT) || (d.t != JV_INT && d.t != JV_BOOL && d.t != JV_FLOAT))
            return jinja_err(c, at, "'%s' test needs numbers", name);
        double dv = d.t == JV_FLOAT ? d.u.f : (double)d.u.i;
        if (dv == 0) return jinja_err(c, at, "integer division or modulo by zero");
        int zero;
        if (v.t != JV_FLOAT && d.t != JV_FLOAT) zero = d.u.i == -1 || v.u.i % d.u.i == 0;
        else zero = fmod(v.t == JV_FLOAT ? v.u.f : (double)v.u.i, dv) == 0;
        *out = IS("odd") ? !zero : zero;
    } else if (IS("lower") || IS("upper")) {
        if (v.t != JV_STR) { *out = 0; return 0; }
        jv r;
        int k = jinja_method(c, at, v, IS("lower") ? "islower" : "isupper", NULL, 0, NULL, NULL, 0, &r);
        if (k < 0) return -1;
        *out = r.u.i != 0;
    } else if (IS("escaped")) *out = 0;
    else return jinja_err(c, at, "no test named '%s'", name);
    #undef IS
    return 0;
}
