// jinja_eval.c — evaluates the Jinja syntax tree: expressions with Python semantics,
// statements (if/for/set/macro/call/filter), scopes as jinja2 has them (a for loop and a
// macro call get their own; namespace() objects carry state out of loops), undefined values
// that print as "" but fail when used, and the public parse/render entry points.
#include <stdarg.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "template/jinja_int.h"

int jinja_err(jctx *c, const jnode *n, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ft_err("%s:%d: %s", c->name, n ? n->line : 0, msg);
}

jv jinja_lookup(jscope *s, const char *name) {
    for (; s; s = s->parent) {
        jv *v = jd_gets(s->vars, name);
        if (v) return *v;
    }
    return jv_undef(NULL);
}

static int undef_err(jctx *c, const jnode *n, jv v) {
    return jinja_err(c, n, "%s", v.u.s.s ? v.u.s.s : "value is undefined");
}

static jv mk_undef(jctx *c, const char *fmt, const char *a, const char *b) {
    char tmp[300];
    snprintf(tmp, sizeof tmp, fmt, a, b);
    return jv_undef(ja_strndup(c->a, tmp, strlen(tmp)));
}

static jscope *new_scope(jctx *c, jscope *parent) {
    jscope *s = ja_alloc(c->a, sizeof *s);
    if (!s) return NULL;
    s->parent = parent;
    jv d = jv_dict(c->a, 4);
    if (!d.u.d) return NULL;
    s->vars = d.u.d;
    return s;
}

static int scope_set(jctx *c, jscope *s, const char *name, jv v) {
    return jd_set(c->a, s->vars, jv_strn(name, strlen(name)), v);
}

// ---- attribute and item access ----------------------------------------------------------
static jv get_attr(jctx *c, jv obj, const char *name) {
    if (obj.t == JV_LOOP) {
        jloop *l = obj.u.loop;
        if (!strcmp(name, "index")) return jv_int(l->index0 + 1);
        if (!strcmp(name, "index0")) return jv_int(l->index0);
        if (!strcmp(name, "revindex")) return jv_int(l->length - l->index0);
        if (!strcmp(name, "revindex0")) return jv_int(l->length - l->index0 - 1);
        if (!strcmp(name, "first")) return jv_bool(l->index0 == 0);
        if (!strcmp(name, "last")) return jv_bool(l->index0 == l->length - 1);
        if (!strcmp(name, "length")) return jv_int(l->length);
        if (!strcmp(name, "depth")) return jv_int(l->depth0 + 1);
        if (!strcmp(name, "depth0")) return jv_int(l->depth0);
        if (!strcmp(name, "previtem")) return l->has_prev ? l->prev : mk_undef(c, "there is no previous item%s%s", "", "");
        if (!strcmp(name, "nextitem")) return l->has_next ? l->next : mk_undef(c, "there is no next item%s%s", "", "");
    }
    if (obj.t == JV_LIST && obj.u.l->group && (!strcmp(name, "grouper") || !strcmp(name, "list")))
        return obj.u.l->v[name[0] == 'l'];
    if (jinja_has_method(obj, name)) {
        jv m = {.t = JV_METHOD};
        m.u.bm = ja_alloc(c->a, sizeof(jmethod));
        if (!m.u.bm) return jv_undef(NULL);
        m.u.bm->self = obj; m.u.bm->name = name;
        return m;
    }
    if (obj.t == JV_DICT) {
        jv *v = jd_gets(obj.u.d, name);
        if (v) return *v;
    }
    return mk_undef(c, "'%s object' has no attribute '%s'", obj.u.d && obj.t == JV_DICT && obj.u.d->ns ? "Namespace" : jv_type_name(obj), name);
}

static int get_item(jctx *c, const jnode *at, jv obj, jv key, jv *out) {
    if (obj.t == JV_DICT) {
        jv *v = jd_get(obj.u.d, key);
        if (v) { *out = *v; return 0; }
        if (key.t == JV_STR) {
            char *k = ja_strndup(c->a, key.u.s.s, key.u.s.n);
            if (!k) return -1;
            *out = get_attr(c, obj, k);
            return 0;
        }
        jbuf b = {0};
        jv_repr(&b, key);
        *out = mk_undef(c, "'dict object' has no attribute %s%s", b.p ? b.p : "", "");
        free(b.p);
        return 0;
    }
    if (obj.t == JV_LIST && obj.u.l->lazy) {
        *out = mk_undef(c, "'generator' object is not subscriptable%s%s", "", "");
        return 0;
    }
    if ((obj.t == JV_LIST || obj.t == JV_STR) && (key.t == JV_INT || key.t == JV_BOOL)) {
        int64_t n = obj.t == JV_LIST ? (int64_t)obj.u.l->n : (int64_t)ju_len(obj.u.s.s, obj.u.s.n);
        int64_t i = key.u.i < 0 ? key.u.i + n : key.u.i;
        if (i < 0 || i >= n) { *out = mk_undef(c, "%s index out of range%s", jv_type_name(obj), ""); return 0; }
        if (obj.t == JV_LIST) { *out = obj.u.l->v[i]; return 0; }
        size_t b0 = ju_offset(obj.u.s.s, obj.u.s.n, (size_t)i), b1 = b0;
        ju_decode(obj.u.s.s, obj.u.s.n, &b1);
        *out = jv_strn(obj.u.s.s + b0, b1 - b0);
        return 0;
    }
    if (key.t == JV_STR) {
        char *k = ja_strndup(c->a, key.u.s.s, key.u.s.n);
        if (!k) return -1;
        *out = get_attr(c, obj, k);
        return 0;
    }
    // jinja2 turns every failed subscript into an undefined value
    *out = mk_undef(c, "'%s object' has no element of type %s", jv_type_name(obj), jv_type_name(key));
    return 0;
}

jv jinja_getattr(jctx *c, jv obj, const char *name) { return get_attr(c, obj, name); }
int jinja_getitem(jctx *c, const jnode *at, jv obj, jv key, jv *out) { return get_item(c, at, obj, key, out); }

static int slice_idx(jctx *c, const jnode *e, jscope *s, int64_t n, int64_t step, int is_start, int64_t *out) {
    if (!e) { *out = step > 0 ? (is_start ? 0 : n) : (is_start ? n - 1 : -1); return 0; }
    jv v;
    if (jinja_eval(c, s, e, &v)) return -1;
    if (v.t == JV_NONE) { *out = step > 0 ? (is_start ? 0 : n) : (is_start ? n - 1 : -1); return 0; }
    if (v.t != JV_INT && v.t != JV_BOOL) return jinja_err(c, e, "slice indices must be integers or None");
    int64_t i = v.u.i;
    if (i < 0) { i += n; if (i < 0) i = step > 0 ? 0 : -1; }
    else if (i >= n) i = step > 0 ? n : n - 1;
    *out = i;
    return 0;
}

static int eval_slice(jctx *c, jscope *s, const jnode *n, jv obj, jv *out) {
    int64_t step = 1;
    if (n->els) {
        jv v;
        if (jinja_eval(c, s, n->els, &v)) return -1;
        if (v.t == JV_INT) step = v.u.i;
        else if (v.t != JV_NONE) return jinja_err(c, n, "slice step must be an integer");
        if (step == 0) return jinja_err(c, n, "slice step cannot be zero");
    }
    if (obj.t == JV_UNDEF) return undef_err(c, n, obj);
    // jinja2 compiles a slice to a plain Python subscript: what cannot be sliced is a TypeError
    if (obj.t != JV_LIST && obj.t != JV_STR) return jinja_err(c, n, "'%s' object is not subscriptable", jv_type_name(obj));
    if (obj.t == JV_LIST && obj.u.l->lazy) return jinja_err(c, n, "'generator' object is not subscriptable");
    int64_t len = obj.t == JV_LIST ? (int64_t)obj.u.l->n : (int64_t)ju_len(obj.u.s.s, obj.u.s.n);
    int64_t a, b;
    if (slice_idx(c, n->b, s, len, step, 1, &a) || slice_idx(c, n->c, s, len, step, 0, &b)) return -1;
    if (obj.t == JV_LIST) {
        jv l = jv_list(c->a, 0);
        if (!l.u.l) return -1;
        l.u.l->tuple = obj.u.l->tuple;
        for (int64_t i = a; step > 0 ? i < b : i > b;) {
            if (jl_push(c->a, l.u.l, obj.u.l->v[i])) return -1;
            if (__builtin_add_overflow(i, step, &i)) break;
        }
        *out = l;
        return 0;
    }
    if (step == 1) {
        if (b < a) b = a;
        size_t o0 = ju_offset(obj.u.s.s, obj.u.s.n, (size_t)a), o1 = ju_offset(obj.u.s.s, obj.u.s.n, (size_t)b);
        *out = jv_strn(obj.u.s.s + o0, o1 - o0);
        return 0;
    }
    jbuf buf = {0};
    for (int64_t i = a; step > 0 ? i < b : i > b;) {
        size_t o0 = ju_offset(obj.u.s.s, obj.u.s.n, (size_t)i), o1 = o0;
        ju_decode(obj.u.s.s, obj.u.s.n, &o1);
        jb_put(&buf, obj.u.s.s + o0, o1 - o0);
        if (__builtin_add_overflow(i, step, &i)) break;
    }
    *out = jv_str_copy(c->a, buf.p ? buf.p : "", buf.n);
    free(buf.p);
    return 0;
}

// ---- operators --------------------------------------------------------------------------
static int is_num(jv v) { return v.t == JV_BOOL || v.t == JV_INT || v.t == JV_FLOAT; }
static double num(jv v) { return v.t == JV_FLOAT ? v.u.f : (double)v.u.i; }

static int concat_str(jctx *c, jv a, jv b, jv *out) {
    char *p = ja_alloc(c->a, a.u.s.n + b.u.s.n + 1);
    if (!p) return -1;
    if (a.u.s.n) memcpy(p, a.u.s.s, a.u.s.n);
    if (b.u.s.n) memcpy(p + a.u.s.n, b.u.s.s, b.u.s.n);
    *out = jv_strn(p, a.u.s.n + b.u.s.n);
    return 0;
}

static int repeat(jctx *c, jv seq, int64_t k, jv *out) {
    if (k < 0) k = 0;
    if (seq.t == JV_STR) {
        if (seq.u.s.n && (uint64_t)k > (1u << 28) / seq.u.s.n) return ft_err("string repetition too large");
        char *p = ja_alloc(c->a, seq.u.s.n * (size_t)k + 1);
        if (!p) return -1;
        for (int64_t i = 0; i < k; i++) memcpy(p + i * seq.u.s.n, seq.u.s.s, seq.u.s.n);
        *out = jv_strn(p, seq.u.s.n * (size_t)k);
        return 0;
    }
    jv l = jv_list(c->a, 0);
    if (!l.u.l || (seq.u.l->n && (uint64_t)k > (1u << 24) / seq.u.l->n)) return ft_err("list repetition too large");
    for (int64_t i = 0; i < k; i++)
        for (size_t j = 0; j < seq.u.l->n; j++) if (jl_push(c->a, l.u.l, seq.u.l->v[j])) return -1;
    *out = l;
    return 0;
}

static int binop(jctx *c, const jnode *n, const char *op, jv a, jv b, jv *out) {
    if (op[0] == '~') {
        jv x = jv_to_str(c->a, a), y = jv_to_str(c->a, b);
        return concat_str(c, x, y, out);
    }
    if (op[0] == '%' && a.t == JV_STR) return jinja_percent(c, n, a, b, out);   // printf-style formatting
    if (a.t == JV_UNDEF) return undef_err(c, n, a);
    if (b.t == JV_UNDEF) return undef_err(c, n, b);
    if (is_num(a) && is_num(b)) {
        int ints = a.t != JV_FLOAT && b.t != JV_FLOAT;
        int64_t x = a.u.i, y = b.u.i;
        double fx = num(a), fy = num(b);
        switch (op[0]) {
        case '+': case '-': {
            int64_t r;
            if (!ints) { *out = jv_float(op[0] == '+' ? fx + fy : fx - fy); return 0; }
            if (op[0] == '+' ? __builtin_add_overflow(x, y, &r) : __builtin_sub_overflow(x, y, &r))
                return jinja_err(c, n, "integer overflow");
            *out = jv_int(r);
            return 0;
        }
        case '*':
            if (op[1] == '*') {
                if (ints && y >= 0) {   // square and multiply, overflow-checked
                    int64_t r = 1, base = x, e = y;
                    while (e > 0) {
                        if ((e & 1) && __builtin_mul_overflow(r, base, &r)) return jinja_err(c, n, "integer overflow");
                        e >>= 1;
                        if (e && __builtin_mul_overflow(base, base, &base)) return jinja_err(c, n, "integer overflow");
                    }
                    *out = jv_int(r);
                }
                else *out = jv_float(pow(fx, fy));
                return 0;
            }
            if (ints) {
                int64_t r;
                if (__builtin_mul_overflow(x, y, &r)) return jinja_err(c, n, "integer overflow");
                *out = jv_int(r);
            } else *out = jv_float(fx * fy);
            return 0;
        case '/':
            if (fy == 0) return jinja_err(c, n, "division by zero");
            if (ints && y == -1 && x == INT64_MIN) return jinja_err(c, n, "integer overflow");
            if (op[1] == '/') {
                if (ints) { int64_t q = x / y; if ((x % y != 0) && ((x < 0) != (y < 0))) q--; *out = jv_int(q); }
                else *out = jv_float(floor(fx / fy));
                return 0;
            }
            *out = jv_float(fx / fy);
            return 0;
        case '%':
            if (fy == 0) return jinja_err(c, n, "modulo by zero");
            if (ints && y == -1) { *out = jv_int(0); return 0; }
            if (ints) { int64_t r = x % y; if (r != 0 && ((r < 0) != (y < 0))) r += y; *out = jv_int(r); }
            else { double r = fmod(fx, fy); if (r != 0 && ((r < 0) != (fy < 0))) r += fy; *out = jv_float(r); }
            return 0;
        }
    }
    if (op[0] == '+' && a.t == JV_STR && b.t == JV_STR) return concat_str(c, a, b, out);
    if (op[0] == '+' && a.t == JV_LIST && b.t == JV_LIST && !a.u.l->lazy && !b.u.l->lazy && a.u.l->tuple == b.u.l->tuple) {
        jv l = jv_list(c->a, a.u.l->n + b.u.l->n);
        if (!l.u.l) return -1;
        if (a.u.l->n) memcpy(l.u.l->v, a.u.l->v, a.u.l->n * sizeof(jv));
        if (b.u.l->n) memcpy(l.u.l->v + a.u.l->n, b.u.l->v, b.u.l->n * sizeof(jv));
        l.u.l->n = a.u.l->n + b.u.l->n;
        *out = l;
        return 0;
    }
    if (op[0] == '*' && !op[1]) {
        if ((a.t == JV_STR || a.t == JV_LIST) && (b.t == JV_INT || b.t == JV_BOOL)) return repeat(c, a, b.u.i, out);
        if ((b.t == JV_STR || b.t == JV_LIST) && (a.t == JV_INT || a.t == JV_BOOL)) return repeat(c, b, a.u.i, out);
    }
    if (op[0] == '+' && a.t == JV_STR)
        return jinja_err(c, n, "can only concatenate str (not \"%s\") to str", jv_type_name(b));
    if (op[0] == '+' && a.t == JV_LIST)
        return jinja_err(c, n, "can only concatenate list (not \"%s\") to list", jv_type_name(b));
    return jinja_err(c, n, "unsupported operand type(s) for %s: '%s' and '%s'", op, jv_type_name(a), jv_type_name(b));
}

static int contains(jctx *c, const jnode *n, jv item, jv seq, int *out) {
    switch (seq.t) {
    case JV_STR:
        if (item.t != JV_STR) return jinja_err(c, n, "'in <string>' requires string as left operand, not %s", jv_type_name(item));
        *out = item.u.s.n == 0 || (item.u.s.n <= seq.u.s.n && memmem(seq.u.s.s, seq.u.s.n, item.u.s.s, item.u.s.n));
        return 0;
    case JV_LIST:
        *out = 0;
        if (seq.u.l->lazy && seq.u.l->used) return 0;
        seq.u.l->used = seq.u.l->lazy;
        for (size_t i = 0; i < seq.u.l->n && !*out; i++) *out = jv_equal(seq.u.l->v[i], item);
        return 0;
    case JV_DICT: *out = jd_get(seq.u.d, item) != NULL; return 0;
    case JV_UNDEF: *out = 0; return 0;
    default: return jinja_err(c, n, "argument of type '%s' is not iterable", jv_type_name(seq));
    }
}

static int compare(jctx *c, const jnode *n, const char *op, jv a, jv b, int *out) {
    if (!strcmp(op, "==")) { *out = jv_equal(a, b); return 0; }
    if (!strcmp(op, "!=")) { *out = !jv_equal(a, b); return 0; }
    if (!strcmp(op, "in")) return contains(c, n, a, b, out);
    if (!strcmp(op, "not in")) { if (contains(c, n, a, b, out)) return -1; *out = !*out; return 0; }
    if (a.t == JV_UNDEF) return undef_err(c, n, a);
    if (b.t == JV_UNDEF) return undef_err(c, n, b);
    int r = jv_compare(a, b);
    if (r == -2) return jinja_err(c, n, "'%s' not supported between instances of '%s' and '%s'", op, jv_type_name(a), jv_type_name(b));
    *out = op[0] == '<' ? (op[1] ? r <= 0 : r < 0) : (op[1] ? r >= 0 : r > 0);
    return 0;
}

// ---- calls ------------------------------------------------------------------------------
static int eval_args(jctx *c, jscope *s, const jnode *n, jv **args, jv **kwv) {
    *args = ja_alloc(c->a, (n->nargs + 1) * sizeof(jv));
    *kwv = ja_alloc(c->a, (n->nkw + 1) * sizeof(jv));
    if (!*args || !*kwv) return -1;
    for (size_t i = 0; i < n->nargs; i++) if (jinja_eval(c, s, n->args[i], &(*args)[i])) return -1;
    for (size_t i = 0; i < n->nkw; i++) if (jinja_eval(c, s, n->kwv[i], &(*kwv)[i])) return -1;
    return 0;
}

static int call_macro(jctx *c, const jnode *at, jmacro *m, jv *args, size_t nargs, const char **kwn, jv *kwv,
                      size_t nkw, jv *out) {
    if (c->depth >= c->lim.depth) return jinja_budget_err(c, at, "recursion", (unsigned long long)c->lim.depth, "nested calls", "depth=N");
    const jnode *def = m->def;
    jscope *s = new_scope(c, m->closure);
    if (!s) return -1;
    for (size_t i = 0; i < def->ntargets; i++) {
        jv v = jv_undef(NULL);
        int set = 0;
        if (i < nargs) { v = args[i]; set = 1; }
        for (size_t k = 0; k < nkw; k++) if (!strcmp(kwn[k], def->targets[i])) { v = kwv[k]; set = 1; }
        if (!set && def->kwv[i] && jinja_eval(c, s, def->kwv[i], &v)) return -1;
        if (!set && !def->kwv[i]) {
            char tmp[200];
            snprintf(tmp, sizeof tmp, "'%s' is undefined", def->targets[i]);
            v = jv_undef(ja_strndup(c->a, tmp, strlen(tmp)));
        }
        if (scope_set(c, s, def->targets[i], v)) return -1;
    }
    for (size_t k = 0; k < nkw; k++)
        if (!strcmp(kwn[k], "caller") && scope_set(c, s, "caller", kwv[k])) return -1;
    jbuf buf = {0}, *saved = c->out;
    c->out = &buf;
    c->depth++;
    int edepth = c->edepth;   // a macro body's expressions nest anew (the stack guard still holds)
    c->edepth = 0;
    int rc = jinja_exec(c, s, m->is_caller ? m->def->b : def->b);
    c->edepth = edepth;
    c->depth--;
    c->out = saved;
    if (rc < 0 || buf.oom) { free(buf.p); return rc < 0 ? -1 : ft_err("out of memory"); }
    *out = jv_str_copy(c->a, buf.p ? buf.p : "", buf.n);
    free(buf.p);
    return 0;
}

static int call_builtin(jctx *c, const jnode *at, int id, jv *args, size_t nargs, const char **kwn, jv *kwv,
                        size_t nkw, jv *out) {
    switch (id) {
    case JF_RANGE: {
        int64_t a = 0, b = 0, st = 1;
        for (size_t i = 0; i < nargs; i++)
            if (args[i].t != JV_INT && args[i].t != JV_BOOL)
                return jinja_err(c, at, "'%s' object cannot be interpreted as an integer", jv_type_name(args[i]));
        if (nargs == 1) b = args[0].u.i;
        else if (nargs == 2 || nargs == 3) { a = args[0].u.i; b = args[1].u.i; if (nargs == 3) st = args[2].u.i; }
        else return jinja_err(c, at, "range expected 1 to 3 arguments, got %zu", nargs);
        if (st == 0) return jinja_err(c, at, "range() arg 3 must not be zero");
        jv l = jv_list(c->a, 0);
        if (!l.u.l) return -1;
        for (int64_t i = a; st > 0 ? i < b : i > b;) {
            if (l.u.l->n >= 10000000) return jinja_err(c, at, "range too large");
            if (jl_push(c->a, l.u.l, jv_int(i))) return -1;
            if (__builtin_add_overflow(i, st, &i)) break;
        }
        *out = l;
        return 0;
    }
    case JF_NAMESPACE: case JF_DICT: {
        jv d = jv_dict(c->a, nkw + 1);
        if (!d.u.d) return -1;
        d.u.d->ns = id == JF_NAMESPACE;
        // as Python's dict(*args, **kwargs): one mapping or iterable of pairs
        if (nargs > 1) return jinja_err(c, at, "dict expected at most 1 argument, got %zu", nargs);
        if (nargs && args[0].t == JV_DICT && !args[0].u.d->ns) {
            for (size_t k = 0; k < args[0].u.d->n; k++)
                if (jd_set(c->a, d.u.d, args[0].u.d->k[k], args[0].u.d->v[k])) return -1;
        } else if (nargs && args[0].t == JV_LIST && !args[0].u.l->lazy) {
            jlist *l = args[0].u.l;
            for (size_t k = 0; k < l->n; k++) {
                jv e = l->v[k];
                size_t len = e.t == JV_LIST ? e.u.l->n : e.t == JV_STR ? ju_len(e.u.s.s, e.u.s.n) : 0;
                if (e.t != JV_LIST && e.t != JV_STR)
                    return jinja_err(c, at, "cannot convert dictionary update sequence element #%zu to a sequence", k);
                if (len != 2)
                    return jinja_err(c, at, "dictionary update sequence element #%zu has length %zu; 2 is required", k, len);
                if (e.t == JV_STR) {
                    size_t o = ju_offset(e.u.s.s, e.u.s.n, 1);
                    if (jd_set(c->a, d.u.d, jv_strn(e.u.s.s, o), jv_strn(e.u.s.s + o, e.u.s.n - o))) return -1;
                } else if (jd_set(c->a, d.u.d, e.u.l->v[0], e.u.l->v[1])) return -1;
            }
        } else if (nargs && args[0].t == JV_STR && args[0].u.s.n) {
            return jinja_err(c, at, "dictionary update sequence element #0 has length 1; 2 is required");
        } else if (nargs && args[0].t != JV_STR && args[0].t != JV_UNDEF) {
            return jinja_err(c, at, "'%s' object is not iterable", jv_type_name(args[0]));
        }
        for (size_t i = 0; i < nkw; i++)
            if (jd_set(c->a, d.u.d, jv_strn(kwn[i], strlen(kwn[i])), kwv[i])) return -1;
        *out = d;
        return 0;
    }
    case JF_RAISE: {
        jv m = nargs ? jv_to_str(c->a, args[0]) : jv_strn("", 0);
        return jinja_err(c, at, "%.*s", (int)m.u.s.n, m.u.s.s);
    }
    case JF_STRFTIME: {
        if (nargs != 1 || args[0].t != JV_STR) return jinja_err(c, at, "strftime_now expects a format string");
        char fmt[256], buf[512];
        snprintf(fmt, sizeof fmt, "%.*s", (int)args[0].u.s.n, args[0].u.s.s);
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        size_t k = strftime(buf, sizeof buf, fmt, &tm);
        *out = jv_str_copy(c->a, buf, k);
        return 0;
    }
    }
    return jinja_err(c, at, "unknown function");
}

int jinja_call_value(jctx *c, const jnode *at, jv fn, jv *args, size_t nargs, const char **kwn, jv *kwv,
                     size_t nkw, jv *out) {
    switch (fn.t) {
    case JV_MACRO: return call_macro(c, at, fn.u.m, args, nargs, kwn, kwv, nkw, out);
    case JV_FUNC: return call_builtin(c, at, (int)fn.u.i, args, nargs, kwn, kwv, nkw, out);
    case JV_LOOP: return jinja_loop_call(c, at, fn.u.loop, args, nargs, out);
    case JV_METHOD: {
        int r = jinja_method(c, at, fn.u.bm->self, fn.u.bm->name, args, nargs, kwn, kwv, nkw, out);
        if (r == 0) return jinja_err(c, at, "'%s' object has no method '%s'", jv_type_name(fn.u.bm->self), fn.u.bm->name);
        return r < 0 ? -1 : 0;
    }
    case JV_UNDEF: return undef_err(c, at, fn);
    default: return jinja_err(c, at, "'%s' object is not callable", jv_type_name(fn));
    }
}

static int eval_call(jctx *c, jscope *s, const jnode *n, jv extra_caller, jv *out) {
    jv fn;
    if (jinja_eval(c, s, n->a, &fn)) return -1;
    jv *args, *kwv;
    if (eval_args(c, s, n, &args, &kwv)) return -1;
    const char **kwn = (const char **)n->kwn;
    size_t nkw = n->nkw;
    if (extra_caller.t == JV_MACRO) {   // {% call %}: pass the body as caller=
        const char **k2 = ja_alloc(c->a, (nkw + 1) * sizeof(char *));
        if (!k2) return -1;
        if (nkw) memcpy(k2, kwn, nkw * sizeof(char *));
        k2[nkw] = "caller"; kwv[nkw] = extra_caller;
        kwn = k2; nkw++;
    }
    return jinja_call_value(c, n, fn, args, n->nargs, kwn, kwv, nkw, out);
}

// ---- expressions ------------------------------------------------------------------------
static int eval_node(jctx *c, jscope *s, const jnode *n, jv *out);

// Depth guards: long operator or attribute chains, and deep macro recursion, must not
// exhaust the C stack (JINJA_STACK bytes below the render's entry, well inside the 8 MiB a
// thread gets by default, also with the sanitizers' larger frames).
#define JINJA_STACK ((uintptr_t)4 << 20)
int jinja_eval(jctx *c, jscope *s, const jnode *n, jv *out) {
    if (c->edepth > 400) return jinja_err(c, n, "expression nested too deeply");
    if (c->stack0 - (uintptr_t)__builtin_frame_address(0) > JINJA_STACK)
        return jinja_err(c, n, "template nested too deeply for the stack (macro calls within expressions)");
    c->edepth++;
    int rc = eval_node(c, s, n, out);
    c->edepth--;
    return rc;
}

static int eval_node(jctx *c, jscope *s, const jnode *n, jv *out) {
    jv a, b;
    switch (n->kind) {
    case N_LIT: *out = n->lit; return 0;
    case N_NAME:
        *out = jinja_lookup(s, n->str);
        if (out->t == JV_UNDEF) *out = mk_undef(c, "'%s' is undefined%s", n->str, "");
        return 0;
    case N_LIST: case N_TUPLE: {
        jv l = jv_list(c->a, n->nargs);
        if (!l.u.l) return -1;
        for (size_t i = 0; i < n->nargs; i++) if (jinja_eval(c, s, n->args[i], &l.u.l->v[i])) return -1;
        l.u.l->n = n->nargs;
        l.u.l->tuple = n->kind == N_TUPLE;
        *out = l;
        return 0;
    }
    case N_DICT: {
        jv d = jv_dict(c->a, n->nkw);
        if (!d.u.d) return -1;
        for (size_t i = 0; i < n->nkw; i++) {
            if (jinja_eval(c, s, n->keys[i], &a) || jinja_eval(c, s, n->kwv[i], &b)) return -1;
            if (jd_set(c->a, d.u.d, a, b)) return -1;
        }
        *out = d;
        return 0;
    }
    case N_ATTR:
        if (jinja_eval(c, s, n->a, &a)) return -1;
        if (a.t == JV_UNDEF) return undef_err(c, n, a);
        *out = get_attr(c, a, n->str);
        return 0;
    case N_ITEM:
        if (jinja_eval(c, s, n->a, &a) || jinja_eval(c, s, n->b, &b)) return -1;
        if (a.t == JV_UNDEF) return undef_err(c, n, a);
        return get_item(c, n, a, b, out);
    case N_SLICE:
        if (jinja_eval(c, s, n->a, &a)) return -1;
        return eval_slice(c, s, n, a, out);
    case N_CALL: return eval_call(c, s, n, jv_none(), out);
    case N_FILTER: {
        jv *args, *kwv;
        if (jinja_eval(c, s, n->a, &a) || eval_args(c, s, n, &args, &kwv)) return -1;
        return jinja_filter(c, n, n->str, a, args, n->nargs, (const char **)n->kwn, kwv, n->nkw, out);
    }
    case N_TEST: {
        jv *args, *kwv;
        int r;
        if (jinja_eval(c, s, n->a, &a) || eval_args(c, s, n, &args, &kwv)) return -1;
        if (jinja_test(c, n, n->str, a, args, n->nargs, &r)) return -1;
        *out = jv_bool(r);
        return 0;
    }
    case N_NOT:
        if (jinja_eval(c, s, n->a, &a)) return -1;
        *out = jv_bool(!jv_truthy(a));
        return 0;
    case N_NEG: case N_POS:
        if (jinja_eval(c, s, n->a, &a)) return -1;
        if (a.t == JV_UNDEF) return undef_err(c, n, a);
        if (a.t == JV_FLOAT) *out = jv_float(n->kind == N_NEG ? -a.u.f : a.u.f);
        else if (a.t == JV_INT || a.t == JV_BOOL) {
            if (n->kind == N_NEG && a.u.i == INT64_MIN) return jinja_err(c, n, "integer overflow");
            *out = jv_int(n->kind == N_NEG ? -a.u.i : a.u.i);
        }
        else return jinja_err(c, n, "bad operand type for unary %c: '%s'", n->kind == N_NEG ? '-' : '+', jv_type_name(a));
        return 0;
    case N_BIN:
        if (jinja_eval(c, s, n->a, &a) || jinja_eval(c, s, n->b, &b)) return -1;
        return binop(c, n, n->str, a, b, out);
    case N_AND: case N_OR:
        if (jinja_eval(c, s, n->a, &a)) return -1;
        if (jv_truthy(a) == (n->kind == N_OR)) { *out = a; return 0; }
        return jinja_eval(c, s, n->b, out);
    case N_COND:
        if (jinja_eval(c, s, n->a, &a)) return -1;
        if (jv_truthy(a)) return jinja_eval(c, s, n->b, out);
        if (n->c) return jinja_eval(c, s, n->c, out);
        *out = jv_undef(NULL);
        return 0;
    case N_CMP: {
        if (jinja_eval(c, s, n->args[0], &a)) return -1;
        for (size_t i = 1; i < n->nargs; i++) {
            int r;
            if (jinja_eval(c, s, n->args[i], &b) || compare(c, n, n->ops[i - 1], a, b, &r)) return -1;
            if (!r) { *out = jv_bool(0); return 0; }
            a = b;
        }
        *out = jv_bool(1);
        return 0;
    }
    }
    return jinja_err(c, n, "not an expression");
}
