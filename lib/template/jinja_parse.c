// jinja_parse.c — recursive-descent parser for Jinja expressions with jinja2's precedence
// (condexpr < or < and < not < compare < +,- < ~ < *,/,//,% < ** < unary, then postfix and
// filters/tests), and the token helpers the statement parser (jinja_stmt.c) shares.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "template/jinja_int.h"
#include "template/jinja_parse.h"

int jp_nv_push(parser *P, nvec *v, jnode *x) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        jnode **p = ja_alloc(P->a, cap * sizeof *p);
        if (!p) return -1;
        if (v->n) memcpy(p, v->v, v->n * sizeof *p);
        v->v = p; v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

const jtok *jp_cur(parser *P) { return &P->t[P->i]; }
const jtok *jp_peek(parser *P, size_t k) { return P->i + k < P->n ? &P->t[P->i + k] : &P->t[P->n - 1]; }

jnode *jp_perr(parser *P, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ft_err("%s:%d: %s", P->name, jp_cur(P)->line, msg);
    return NULL;
}

int jp_is_op(const jtok *t, const char *op) {
    return t->t == TK_OP && t->n == strlen(op) && memcmp(t->s, op, t->n) == 0;
}
int jp_is_name(const jtok *t, const char *nm) {
    return t->t == TK_NAME && t->n == strlen(nm) && memcmp(t->s, nm, t->n) == 0;
}
const char *jp_tokdesc(parser *P, const jtok *t) {
    switch (t->t) {
    case TK_EOF: return "end of template";
    case TK_TEXT: return "text";
    case TK_VBEGIN: return "'{{'";
    case TK_VEND: return "'}}'";
    case TK_BBEGIN: return "'{%'";
    case TK_BEND: return "'%}'";
    case TK_STR: return "string";
    case TK_INT: case TK_FLOAT: return "number";
    default: {
        char *s = ja_alloc(P->a, t->n + 3);
        if (!s) return "token";
        snprintf(s, t->n + 3, "'%.*s'", (int)t->n, t->s);
        return s;
    }
    }
}

jnode *jp_mk(parser *P, int kind) {
    jnode *n = ja_alloc(P->a, sizeof *n);
    if (n) { n->kind = kind; n->line = jp_cur(P)->line; }
    return n;
}
const char *jp_tokstr(parser *P, const jtok *t) { return ja_strndup(P->a, t->s, t->n); }

int jp_expect_op(parser *P, const char *op) {
    if (!jp_is_op(jp_cur(P), op)) { jp_perr(P, "expected '%s', got %s", op, jp_tokdesc(P, jp_cur(P))); return -1; }
    P->i++;
    return 0;
}
int jp_expect_end(parser *P) {
    if (jp_cur(P)->t != TK_BEND) { jp_perr(P, "expected end of statement '%%}', got %s", jp_tokdesc(P, jp_cur(P))); return -1; }
    P->i++;
    return 0;
}
const char *jp_expect_name(parser *P) {
    if (jp_cur(P)->t != TK_NAME) { jp_perr(P, "expected a name, got %s", jp_tokdesc(P, jp_cur(P))); return NULL; }
    return jp_tokstr(P, &P->t[P->i++]);
}

static jnode *parse_unary(parser *P, int with_filter);
static jnode *parse_primary(parser *P);
static jnode *parse_postfix(parser *P, jnode *n);

// Call arguments after '(' up to ')': positional into args, keyword into kwn/kwv.
int jp_parse_args(parser *P, jnode *n) {
    nvec pos = {0}, kv = {0};
    const char **kn = NULL; size_t kcap = 0;
    while (!jp_is_op(jp_cur(P), ")")) {
        if (jp_cur(P)->t == TK_NAME && jp_is_op(jp_peek(P, 1), "=")) {
            if (kv.n == kcap) {
                size_t cap = kcap ? kcap * 2 : 4;
                const char **p = ja_alloc(P->a, cap * sizeof *p);
                if (!p) return -1;
                if (kv.n) memcpy(p, kn, kv.n * sizeof *p);
                kn = p; kcap = cap;
            }
            kn[kv.n] = jp_tokstr(P, jp_cur(P));
            P->i += 2;
            jnode *e = jp_parse_expr(P, 1);
            if (!e || jp_nv_push(P, &kv, e)) return -1;
        } else {
            jnode *e = jp_parse_expr(P, 1);
            if (!e || jp_nv_push(P, &pos, e)) return -1;
        }
        if (jp_is_op(jp_cur(P), ",")) P->i++;
        else if (!jp_is_op(jp_cur(P), ")")) { jp_perr(P, "expected ',' or ')', got %s", jp_tokdesc(P, jp_cur(P))); return -1; }
    }
    P->i++;
    n->args = pos.v; n->nargs = pos.n; n->kwv = kv.v; n->kwn = kn; n->nkw = kv.n;
    return 0;
}

static jnode *parse_primary(parser *P) {
    const jtok *t = jp_cur(P);
    jnode *n;
    switch (t->t) {
    case TK_NAME:
        if (!(n = jp_mk(P, N_LIT))) return NULL;
        P->i++;
        if (jp_is_name(t, "true") || jp_is_name(t, "True")) n->lit = jv_bool(1);
        else if (jp_is_name(t, "false") || jp_is_name(t, "False")) n->lit = jv_bool(0);
        else if (jp_is_name(t, "none") || jp_is_name(t, "None")) n->lit = jv_none();
        else { n->kind = N_NAME; n->str = jp_tokstr(P, t); }
        return n;
    case TK_STR: {
        if (!(n = jp_mk(P, N_LIT))) return NULL;
        size_t len = 0, j = P->i;
        while (P->t[j].t == TK_STR) len += P->t[j++].n;
        char *s = ja_alloc(P->a, len + 1);
        if (!s) return NULL;
        len = 0;
        while (jp_cur(P)->t == TK_STR) { memcpy(s + len, jp_cur(P)->s, jp_cur(P)->n); len += jp_cur(P)->n; P->i++; }
        n->lit = jv_strn(s, len);
        return n;
    }
    case TK_INT: case TK_FLOAT:
        if (!(n = jp_mk(P, N_LIT))) return NULL;
        n->lit = t->t == TK_INT ? jv_int(t->i) : jv_float(t->f);
        P->i++;
        return n;
    case TK_OP:
        if (jp_is_op(t, "(")) {
            P->i++;
            if (!(n = jp_mk(P, N_TUPLE))) return NULL;
            if (jp_is_op(jp_cur(P), ")")) { P->i++; return n; }
            jnode *e = jp_parse_expr(P, 1);
            if (!e) return NULL;
            if (jp_is_op(jp_cur(P), ")")) { P->i++; return e; }
            nvec v = {0};
            if (jp_nv_push(P, &v, e)) return NULL;
            while (jp_is_op(jp_cur(P), ",")) {
                P->i++;
                if (jp_is_op(jp_cur(P), ")")) break;
                if (!(e = jp_parse_expr(P, 1)) || jp_nv_push(P, &v, e)) return NULL;
            }
            if (jp_expect_op(P, ")")) return NULL;
            n->args = v.v; n->nargs = v.n;
            return n;
        }
        if (jp_is_op(t, "[")) {
            P->i++;
            if (!(n = jp_mk(P, N_LIST))) return NULL;
            nvec v = {0};
            while (!jp_is_op(jp_cur(P), "]")) {
                jnode *e = jp_parse_expr(P, 1);
                if (!e || jp_nv_push(P, &v, e)) return NULL;
                if (jp_is_op(jp_cur(P), ",")) P->i++;
                else if (!jp_is_op(jp_cur(P), "]")) return jp_perr(P, "expected ',' or ']', got %s", jp_tokdesc(P, jp_cur(P)));
            }
            P->i++;
            n->args = v.v; n->nargs = v.n;
            return n;
        }
        if (jp_is_op(t, "{")) {
            P->i++;
            if (!(n = jp_mk(P, N_DICT))) return NULL;
            nvec k = {0}, v = {0};
            while (!jp_is_op(jp_cur(P), "}")) {
                jnode *ke = jp_parse_expr(P, 1);
                if (!ke || jp_nv_push(P, &k, ke) || jp_expect_op(P, ":")) return NULL;
                jnode *ve = jp_parse_expr(P, 1);
                if (!ve || jp_nv_push(P, &v, ve)) return NULL;
                if (jp_is_op(jp_cur(P), ",")) P->i++;
                else if (!jp_is_op(jp_cur(P), "}")) return jp_perr(P, "expected ',' or '}', got %s", jp_tokdesc(P, jp_cur(P)));
            }
            P->i++;
            n->keys = k.v; n->kwv = v.v; n->nkw = k.n;
            return n;
        }
        /* fallthrough */
    default:
        return jp_perr(P, "unexpected %s", jp_tokdesc(P, t));
    }
}

static jnode *parse_postfix(parser *P, jnode *n) {
    for (;;) {
        if (jp_is_op(jp_cur(P), ".")) {
            P->i++;
            jnode *m = jp_mk(P, N_ATTR);
            if (!m) return NULL;
            m->a = n;
            if (jp_cur(P)->t == TK_INT) {
                m->kind = N_ITEM;
                jnode *k = jp_mk(P, N_LIT);
                if (!k) return NULL;
                k->lit = jv_int(jp_cur(P)->i);
                P->i++;
                m->b = k;
            } else if (!(m->str = jp_expect_name(P))) return NULL;
            n = m;
        } else if (jp_is_op(jp_cur(P), "[")) {
            P->i++;
            jnode *m = jp_mk(P, N_ITEM);
            if (!m) return NULL;
            m->a = n;
            jnode *parts[3] = {0};
            int colons = 0;
            for (;;) {
                if (jp_is_op(jp_cur(P), ":")) { if (++colons > 2) return jp_perr(P, "bad slice"); P->i++; continue; }
                if (jp_is_op(jp_cur(P), "]")) break;
                if (parts[colons]) return jp_perr(P, "expected ':' or ']', got %s", jp_tokdesc(P, jp_cur(P)));
                if (!(parts[colons] = jp_parse_expr(P, 1))) return NULL;
            }
            P->i++;
            if (colons) { m->kind = N_SLICE; m->b = parts[0]; m->c = parts[1]; m->els = parts[2]; }
            else if (!parts[0]) return jp_perr(P, "empty subscript");
            else m->b = parts[0];
            n = m;
        } else if (jp_is_op(jp_cur(P), "(")) {
            P->i++;
            jnode *m = jp_mk(P, N_CALL);
            if (!m) return NULL;
            m->a = n;
            if (jp_parse_args(P, m)) return NULL;
            n = m;
        } else return n;
    }
}

static int starts_test_arg(const jtok *t) {
    if (t->t == TK_STR || t->t == TK_INT || t->t == TK_FLOAT) return 1;
    if (t->t == TK_OP) return jp_is_op(t, "[") || jp_is_op(t, "{") || jp_is_op(t, "(") || jp_is_op(t, "-");
    if (t->t != TK_NAME) return 0;
    static const char *kw[] = {"and", "or", "not", "if", "else", "in", "is", NULL};
    for (int i = 0; kw[i]; i++) if (jp_is_name(t, kw[i])) return 0;
    return 1;
}

static jnode *parse_filter_expr(parser *P, jnode *n) {
    for (;;) {
        if (jp_is_op(jp_cur(P), "|")) {
            P->i++;
            jnode *m = jp_mk(P, N_FILTER);
            if (!m || !(m->str = jp_expect_name(P))) return NULL;
            m->a = n;
            if (jp_is_op(jp_cur(P), "(")) { P->i++; if (jp_parse_args(P, m)) return NULL; }
            n = m;
        } else if (jp_is_name(jp_cur(P), "is")) {
            P->i++;
            int neg = 0;
            if (jp_is_name(jp_cur(P), "not")) { neg = 1; P->i++; }
            jnode *m = jp_mk(P, N_TEST);
            if (!m || !(m->str = jp_expect_name(P))) return NULL;
            m->a = n;
            if (jp_is_op(jp_cur(P), "(")) { P->i++; if (jp_parse_args(P, m)) return NULL; }
            else if (starts_test_arg(jp_cur(P))) {
                jnode *arg = parse_unary(P, 0);
                if (!arg) return NULL;
                m->args = ja_alloc(P->a, sizeof(jnode *));
                if (!m->args) return NULL;
                m->args[0] = arg; m->nargs = 1;
            }
            n = m;
            if (neg) { jnode *x = jp_mk(P, N_NOT); if (!x) return NULL; x->a = n; n = x; }
        } else return n;
    }
}

static jnode *parse_unary(parser *P, int with_filter) {
    jnode *n;
    if (P->depth > 200) return jp_perr(P, "expression nested too deeply");
    if (jp_is_op(jp_cur(P), "-") || jp_is_op(jp_cur(P), "+")) {
        P->depth++;
        int neg = jp_is_op(jp_cur(P), "-");
        P->i++;
        if (!(n = jp_mk(P, neg ? N_NEG : N_POS))) return NULL;
        if (!(n->a = parse_unary(P, 0))) return NULL;
        P->depth--;
    } else if (!(n = parse_primary(P))) return NULL;
    if (!(n = parse_postfix(P, n))) return NULL;
    return with_filter ? parse_filter_expr(P, n) : n;
}

static jnode *binop(parser *P, const char *op, jnode *l, jnode *r) {
    jnode *n = jp_mk(P, N_BIN);
    if (!n) return NULL;
    n->str = op; n->a = l; n->b = r;
    return n;
}

static jnode *parse_pow(parser *P) {
    jnode *l = parse_unary(P, 1);
    while (l && jp_is_op(jp_cur(P), "**")) { P->i++; jnode *r = parse_unary(P, 1); if (!r) return NULL; l = binop(P, "**", l, r); }
    return l;
}
static jnode *parse_math2(parser *P) {
    jnode *l = parse_pow(P);
    while (l) {
        const char *op = jp_is_op(jp_cur(P), "*") ? "*" : jp_is_op(jp_cur(P), "/") ? "/" : jp_is_op(jp_cur(P), "//") ? "//" : jp_is_op(jp_cur(P), "%") ? "%" : NULL;
        if (!op) break;
        P->i++;
        jnode *r = parse_pow(P);
        if (!r) return NULL;
        l = binop(P, op, l, r);
    }
    return l;
}
static jnode *parse_concat(parser *P) {
    jnode *l = parse_math2(P);
    while (l && jp_is_op(jp_cur(P), "~")) { P->i++; jnode *r = parse_math2(P); if (!r) return NULL; l = binop(P, "~", l, r); }
    return l;
}
static jnode *parse_math1(parser *P) {
    jnode *l = parse_concat(P);
    while (l && (jp_is_op(jp_cur(P), "+") || jp_is_op(jp_cur(P), "-"))) {
        const char *op = jp_is_op(jp_cur(P), "+") ? "+" : "-";
        P->i++;
        jnode *r = parse_concat(P);
        if (!r) return NULL;
        l = binop(P, op, l, r);
    }
    return l;
}
static jnode *parse_compare(parser *P) {
    jnode *first = parse_math1(P);
    if (!first) return NULL;
    nvec v = {0};
    const char **ops = NULL; size_t nops = 0, cap = 0;
    for (;;) {
        const jtok *t = jp_cur(P);
        const char *op = NULL;
        static const char *cmp[] = {"==", "!=", "<", ">", "<=", ">=", NULL};
        for (int i = 0; cmp[i]; i++) if (jp_is_op(t, cmp[i])) op = cmp[i];
        if (op) P->i++;
        else if (jp_is_name(t, "in")) { op = "in"; P->i++; }
        else if (jp_is_name(t, "not") && jp_is_name(jp_peek(P, 1), "in")) { op = "not in"; P->i += 2; }
        else break;
        if (!v.n && jp_nv_push(P, &v, first)) return NULL;
        jnode *r = parse_math1(P);
        if (!r || jp_nv_push(P, &v, r)) return NULL;
        if (nops == cap) {
            cap = cap ? cap * 2 : 4;
            const char **p = ja_alloc(P->a, cap * sizeof *p);
            if (!p) return NULL;
            if (nops) memcpy(p, ops, nops * sizeof *p);
            ops = p;
        }
        ops[nops++] = op;
    }
    if (!nops) return first;
    jnode *n = jp_mk(P, N_CMP);
    if (!n) return NULL;
    n->args = v.v; n->nargs = v.n; n->ops = ops;
    return n;
}
static jnode *parse_not(parser *P) {
    if (jp_is_name(jp_cur(P), "not")) {
        P->i++;
        jnode *n = jp_mk(P, N_NOT);
        if (++P->depth > 200) return jp_perr(P, "expression nested too deeply");
        if (!n || !(n->a = parse_not(P))) return NULL;
        P->depth--;
        return n;
    }
    return parse_compare(P);
}
static jnode *parse_and(parser *P) {
    jnode *l = parse_not(P);
    while (l && jp_is_name(jp_cur(P), "and")) {
        P->i++;
        jnode *n = jp_mk(P, N_AND);
        if (!n || !(n->b = parse_not(P))) return NULL;
        n->a = l; l = n;
    }
    return l;
}
static jnode *parse_or(parser *P) {
    jnode *l = parse_and(P);
    while (l && jp_is_name(jp_cur(P), "or")) {
        P->i++;
        jnode *n = jp_mk(P, N_OR);
        if (!n || !(n->b = parse_and(P))) return NULL;
        n->a = l; l = n;
    }
    return l;
}
jnode *jp_parse_expr(parser *P, int cond) {
    if (++P->depth > 200) return jp_perr(P, "expression nested too deeply");
    jnode *l = parse_or(P);
    P->depth--;
    while (cond && l && jp_is_name(jp_cur(P), "if")) {
        P->i++;
        jnode *n = jp_mk(P, N_COND);
        if (!n || !(n->a = parse_or(P))) return NULL;
        n->b = l;
        if (jp_is_name(jp_cur(P), "else")) { P->i++; if (!(n->c = jp_parse_expr(P, 1))) return NULL; }
        l = n;
    }
    return l;
}

