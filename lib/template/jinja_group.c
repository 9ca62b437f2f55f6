// jinja_group.c — jinja2's sequence-shaping filters: groupby (sorted by the key, as
// jinja2 sorts, case-insensitive by default, items are (grouper, list) tuples with those
// attributes), batch (rows of n, the last one padded with fill_with) and slice (n columns).
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "template/jinja_int.h"

static jv kwarg(const char **kwn, jv *kwv, size_t nkw, jv *args, size_t nargs, size_t pos, const char *name, jv def) {
    for (size_t i = 0; i < nkw; i++) if (!strcmp(kwn[i], name)) return kwv[i];
    return pos < nargs ? args[pos] : def;
}

// make_attrgetter: "a.b.0" walks environment.getitem part by part (digit parts as ints);
// default replaces an undefined part.
static int attr_key(jctx *c, const jnode *at, jv item, jv attr, jv def, int lower, jv *out) {
    jv v = item;
    if (attr.t == JV_INT) {
        if (jinja_getitem(c, at, v, attr, &v)) return -1;
        if (v.t == JV_UNDEF && def.t != JV_NONE) v = def;
    } else {
        const char *p = attr.u.s.s, *e = p + attr.u.s.n;
        for (;;) {
            const char *dot = memchr(p, '.', (size_t)(e - p));
            size_t n = dot ? (size_t)(dot - p) : (size_t)(e - p);
            int digits = n > 0 && n < 18;
            for (size_t i = 0; i < n && digits; i++) digits = p[i] >= '0' && p[i] <= '9';
            jv key = digits ? jv_int(atoll(p)) : jv_strn(p, n);
            if (jinja_getitem(c, at, v, key, &v)) return -1;
            if (v.t == JV_UNDEF && def.t != JV_NONE) v = def;
            if (!dot) break;
            p = dot + 1;
        }
    }
    *out = lower && v.t == JV_STR ? ju_case(c->a, v, 'l') : v;
    return 0;
}

static int groupby(jctx *c, const jnode *at, jlist *l, jv *args, size_t nargs, const char **kwn, jv *kwv, size_t nkw,
                   jv *out) {
    jv attr = kwarg(kwn, kwv, nkw, args, nargs, 0, "attribute", jv_undef(NULL));
    jv def = kwarg(kwn, kwv, nkw, args, nargs, 1, "default", jv_none());
    int lower = !jv_truthy(kwarg(kwn, kwv, nkw, args, nargs, 2, "case_sensitive", jv_bool(0)));
    if (attr.t != JV_STR && attr.t != JV_INT) return jinja_err(c, at, "groupby: the attribute must be a string or an integer");
    size_t n = l->n;
    jv *items = ja_alloc(c->a, (n + 1) * sizeof(jv)), *keys = ja_alloc(c->a, (n + 1) * sizeof(jv));
    if (!items || !keys) return -1;
    for (size_t i = 0; i < n; i++) {
        items[i] = l->v[i];
        if (attr_key(c, at, items[i], attr, def, lower, &keys[i])) return -1;
    }
    // sorted(value, key=expr): stable; keys must be orderable, as Python's `<`
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0; j--) {
            if (keys[j].t == JV_UNDEF || keys[j - 1].t == JV_UNDEF)
                return jinja_err(c, at, "%s", keys[j].t == JV_UNDEF && keys[j].u.s.s ? keys[j].u.s.s
                                               : keys[j - 1].u.s.s ? keys[j - 1].u.s.s : "value is undefined");
            int r = jv_compare(keys[j], keys[j - 1]);
            if (r == -2)
                return jinja_err(c, at, "'<' not supported between instances of '%s' and '%s'", jv_type_name(keys[j]),
                                 jv_type_name(keys[j - 1]));
            if (r >= 0) break;
            jv t = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = t;
            t = items[j]; items[j] = items[j - 1]; items[j - 1] = t;
        }
    jv res = jv_list(c->a, 0);
    if (!res.u.l) return -1;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        jv members = jv_list(c->a, 0);
        if (!members.u.l) return -1;
        while (j < n && jv_equal(keys[j], keys[i])) if (jl_push(c->a, members.u.l, items[j++])) return -1;
        jv grouper = keys[i];
        if (lower && attr_key(c, at, items[i], attr, def, 0, &grouper)) return -1;   // the first item's own case
        jv g = jv_list(c->a, 2);
        if (!g.u.l) return -1;
        g.u.l->v[0] = grouper; g.u.l->v[1] = members; g.u.l->n = 2; g.u.l->tuple = 1; g.u.l->group = 1;
        if (jl_push(c->a, res.u.l, g)) return -1;
        i = j;
    }
    *out = res;
    return 0;
}

int jinja_filter_group(jctx *c, const jnode *at, const char *name, jlist *l, jv *args, size_t nargs, const char **kwn,
                       jv *kwv, size_t nkw, jv *out) {
    if (!strcmp(name, "groupby")) return groupby(c, at, l, args, nargs, kwn, kwv, nkw, out);
    int is_batch = !strcmp(name, "batch");
    jv cnt = kwarg(kwn, kwv, nkw, args, nargs, 0, is_batch ? "linecount" : "slices", jv_undef(NULL));
    jv fill = kwarg(kwn, kwv, nkw, args, nargs, 1, "fill_with", jv_none());
    if (cnt.t != JV_INT && cnt.t != JV_BOOL)
        return jinja_err(c, at, "%s() needs an integer count, not %s", name, jv_type_name(cnt));
    int64_t k = cnt.u.i;
    jv res = jv_list(c->a, 0), row = jv_list(c->a, 0);
    if (!res.u.l || !row.u.l) return -1;
    if (is_batch) {   // jinja2's loop: a full row is yielded before the next item joins
        for (size_t i = 0; i < l->n; i++) {
            if ((int64_t)row.u.l->n == k) {
                if (jl_push(c->a, res.u.l, row)) return -1;
                if (!(row = jv_list(c->a, 0)).u.l) return -1;
            }
            if (jl_push(c->a, row.u.l, l->v[i])) return -1;
        }
        if (row.u.l->n) {
            if (fill.t != JV_NONE)
                while ((int64_t)row.u.l->n < k) if (jl_push(c->a, row.u.l, fill)) return -1;
            if (jl_push(c->a, res.u.l, row)) return -1;
        }
    } else {
        if (k == 0) return jinja_err(c, at, "integer division or modulo by zero");
        if (k < 0 || k > 1000000) return jinja_err(c, at, "slice count out of range");
        int64_t len = (int64_t)l->n, per = len / k, extra = len % k, offset = 0;
        if (extra < 0) { extra += k; per--; }
        for (int64_t s = 0; s < k; s++) {
            int64_t start = offset + s * per;
            if (s < extra) offset++;
            int64_t end = offset + (s + 1) * per;
            if (!(row = jv_list(c->a, 0)).u.l) return -1;
            for (int64_t i = start < 0 ? 0 : start; i < end && i < len; i++) if (jl_push(c->a, row.u.l, l->v[i])) return -1;
            if (fill.t != JV_NONE && s >= extra && jl_push(c->a, row.u.l, fill)) return -1;
            if (jl_push(c->a, res.u.l, row)) return -1;
        }
    }
    res.u.l->lazy = 1;   // both are generators in jinja2
    *out = res;
    return 0;
}
