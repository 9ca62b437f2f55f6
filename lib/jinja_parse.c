// jinja_parse.c — recursive-descent parser from Jinja tokens to a syntax tree, with jinja2's
// precedence (condexpr < or < and < not < compare < +,- < ~ < *,/,//,% < ** < unary, then
// postfix and filters/tests) and the statements chat templates use: if/elif/else, for
// (targets, inline if, else), set (also block set and ns.attr), macro, call, filter,
// break/continue, generation.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jinja_int.h"

typedef struct {
    jarena *a;
    const jtok *t;
    size_t n, i;
    const char *name;
    int depth;          // nesting guard: bad input must not exhaust the stack
} parser;

typedef struct { jnode **v; size_t n, cap; } nvec;

static int nv_push(parser *P, nvec *v, jnode *x) {
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

static const jtok *cur(parser *P) { return &P->t[P->i]; }
static const jtok *peek(parser *P, size_t k) { return P->i + k < P->n ? &P->t[P->i + k] : &P->t[P->n - 1]; }

static jnode *perr(parser *P, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ft_err("%s:%d: %s", P->name, cur(P)->line, msg);
    return NULL;
}

static int is_op(const jtok *t, const char *op) {
    return t->t == TK_OP && t->n == strlen(op) && memcmp(t->s, op, t->n) == 0;
}
static int is_name(const jtok *t, const char *nm) {
    return t->t == TK_NAME && t->n == strlen(nm) && memcmp(t->s, nm, t->n) == 0;
}
static const char *tokdesc(parser *P, const jtok *t) {
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

static jnode *mk(parser *P, int kind) {
    jnode *n = ja_alloc(P->a, sizeof *n);
    if (n) { n->kind = kind; n->line = cur(P)->line; }
    return n;
}
static const char *tokstr(parser *P, const jtok *t) { return ja_strndup(P->a, t->s, t->n); }

static int expect_op(parser *P, const char *op) {
    if (!is_op(cur(P), op)) { perr(P, "expected '%s', got %s", op, tokdesc(P, cur(P))); return -1; }
    P->i++;
    return 0;
}
static int expect_end(parser *P) {
    if (cur(P)->t != TK_BEND) { perr(P, "expected end of statement '%%}', got %s", tokdesc(P, cur(P))); return -1; }
    P->i++;
    return 0;
}
static const char *expect_name(parser *P) {
    if (cur(P)->t != TK_NAME) { perr(P, "expected a name, got %s", tokdesc(P, cur(P))); return NULL; }
    return tokstr(P, &P->t[P->i++]);
}

static jnode *parse_expr(parser *P, int cond);
static jnode *parse_unary(parser *P, int with_filter);
static jnode *parse_primary(parser *P);
static jnode *parse_postfix(parser *P, jnode *n);

// Call arguments after '(' up to ')': positional into args, keyword into kwn/kwv.
static int parse_args(parser *P, jnode *n) {
    nvec pos = {0}, kv = {0};
    const char **kn = NULL; size_t kcap = 0;
    while (!is_op(cur(P), ")")) {
        if (cur(P)->t == TK_NAME && is_op(peek(P, 1), "=")) {
            if (kv.n == kcap) {
                size_t cap = kcap ? kcap * 2 : 4;
                const char **p = ja_alloc(P->a, cap * sizeof *p);
                if (!p) return -1;
                if (kv.n) memcpy(p, kn, kv.n * sizeof *p);
                kn = p; kcap = cap;
            }
            kn[kv.n] = tokstr(P, cur(P));
            P->i += 2;
            jnode *e = parse_expr(P, 1);
            if (!e || nv_push(P, &kv, e)) return -1;
        } else {
            jnode *e = parse_expr(P, 1);
            if (!e || nv_push(P, &pos, e)) return -1;
        }
        if (is_op(cur(P), ",")) P->i++;
        else if (!is_op(cur(P), ")")) { perr(P, "expected ',' or ')', got %s", tokdesc(P, cur(P))); return -1; }
    }
    P->i++;
    n->args = pos.v; n->nargs = pos.n; n->kwv = kv.v; n->kwn = kn; n->nkw = kv.n;
    return 0;
}

static jnode *parse_primary(parser *P) {
    const jtok *t = cur(P);
    jnode *n;
    switch (t->t) {
    case TK_NAME:
        if (!(n = mk(P, N_LIT))) return NULL;
        P->i++;
        if (is_name(t, "true") || is_name(t, "True")) n->lit = jv_bool(1);
        else if (is_name(t, "false") || is_name(t, "False")) n->lit = jv_bool(0);
        else if (is_name(t, "none") || is_name(t, "None")) n->lit = jv_none();
        else { n->kind = N_NAME; n->str = tokstr(P, t); }
        return n;
    case TK_STR: {
        if (!(n = mk(P, N_LIT))) return NULL;
        size_t len = 0, j = P->i;
        while (P->t[j].t == TK_STR) len += P->t[j++].n;
        char *s = ja_alloc(P->a, len + 1);
        if (!s) return NULL;
        len = 0;
        while (cur(P)->t == TK_STR) { memcpy(s + len, cur(P)->s, cur(P)->n); len += cur(P)->n; P->i++; }
        n->lit = jv_strn(s, len);
        return n;
    }
    case TK_INT: case TK_FLOAT:
        if (!(n = mk(P, N_LIT))) return NULL;
        n->lit = t->t == TK_INT ? jv_int(t->i) : jv_float(t->f);
        P->i++;
        return n;
    case TK_OP:
        if (is_op(t, "(")) {
            P->i++;
            if (!(n = mk(P, N_TUPLE))) return NULL;
            if (is_op(cur(P), ")")) { P->i++; return n; }
            jnode *e = parse_expr(P, 1);
            if (!e) return NULL;
            if (is_op(cur(P), ")")) { P->i++; return e; }
            nvec v = {0};
            if (nv_push(P, &v, e)) return NULL;
            while (is_op(cur(P), ",")) {
                P->i++;
                if (is_op(cur(P), ")")) break;
                if (!(e = parse_expr(P, 1)) || nv_push(P, &v, e)) return NULL;
            }
            if (expect_op(P, ")")) return NULL;
            n->args = v.v; n->nargs = v.n;
            return n;
        }
        if (is_op(t, "[")) {
            P->i++;
            if (!(n = mk(P, N_LIST))) return NULL;
            nvec v = {0};
            while (!is_op(cur(P), "]")) {
                jnode *e = parse_expr(P, 1);
                if (!e || nv_push(P, &v, e)) return NULL;
                if (is_op(cur(P), ",")) P->i++;
                else if (!is_op(cur(P), "]")) return perr(P, "expected ',' or ']', got %s", tokdesc(P, cur(P)));
            }
            P->i++;
            n->args = v.v; n->nargs = v.n;
            return n;
        }
        if (is_op(t, "{")) {
            P->i++;
            if (!(n = mk(P, N_DICT))) return NULL;
            nvec k = {0}, v = {0};
            while (!is_op(cur(P), "}")) {
                jnode *ke = parse_expr(P, 1);
                if (!ke || nv_push(P, &k, ke) || expect_op(P, ":")) return NULL;
                jnode *ve = parse_expr(P, 1);
                if (!ve || nv_push(P, &v, ve)) return NULL;
                if (is_op(cur(P), ",")) P->i++;
                else if (!is_op(cur(P), "}")) return perr(P, "expected ',' or '}', got %s", tokdesc(P, cur(P)));
            }
            P->i++;
            n->keys = k.v; n->kwv = v.v; n->nkw = k.n;
            return n;
        }
        /* fallthrough */
    default:
        return perr(P, "unexpected %s", tokdesc(P, t));
    }
}

static jnode *parse_postfix(parser *P, jnode *n) {
    for (;;) {
        if (is_op(cur(P), ".")) {
            P->i++;
            jnode *m = mk(P, N_ATTR);
            if (!m) return NULL;
            m->a = n;
            if (cur(P)->t == TK_INT) {
                m->kind = N_ITEM;
                jnode *k = mk(P, N_LIT);
                if (!k) return NULL;
                k->lit = jv_int(cur(P)->i);
                P->i++;
                m->b = k;
            } else if (!(m->str = expect_name(P))) return NULL;
            n = m;
        } else if (is_op(cur(P), "[")) {
            P->i++;
            jnode *m = mk(P, N_ITEM);
            if (!m) return NULL;
            m->a = n;
            jnode *parts[3] = {0};
            int colons = 0;
            for (;;) {
                if (is_op(cur(P), ":")) { if (++colons > 2) return perr(P, "bad slice"); P->i++; continue; }
                if (is_op(cur(P), "]")) break;
                if (parts[colons]) return perr(P, "expected ':' or ']', got %s", tokdesc(P, cur(P)));
                if (!(parts[colons] = parse_expr(P, 1))) return NULL;
            }
            P->i++;
            if (colons) { m->kind = N_SLICE; m->b = parts[0]; m->c = parts[1]; m->els = parts[2]; }
            else if (!parts[0]) return perr(P, "empty subscript");
            else m->b = parts[0];
            n = m;
        } else if (is_op(cur(P), "(")) {
            P->i++;
            jnode *m = mk(P, N_CALL);
            if (!m) return NULL;
            m->a = n;
            if (parse_args(P, m)) return NULL;
            n = m;
        } else return n;
    }
}

static int starts_test_arg(const jtok *t) {
    if (t->t == TK_STR || t->t == TK_INT || t->t == TK_FLOAT) return 1;
    if (t->t == TK_OP) return is_op(t, "[") || is_op(t, "{") || is_op(t, "(") || is_op(t, "-");
    if (t->t != TK_NAME) return 0;
    static const char *kw[] = {"and", "or", "not", "if", "else", "in", "is", NULL};
    for (int i = 0; kw[i]; i++) if (is_name(t, kw[i])) return 0;
    return 1;
}

static jnode *parse_filter_expr(parser *P, jnode *n) {
    for (;;) {
        if (is_op(cur(P), "|")) {
            P->i++;
            jnode *m = mk(P, N_FILTER);
            if (!m || !(m->str = expect_name(P))) return NULL;
            m->a = n;
            if (is_op(cur(P), "(")) { P->i++; if (parse_args(P, m)) return NULL; }
            n = m;
        } else if (is_name(cur(P), "is")) {
            P->i++;
            int neg = 0;
            if (is_name(cur(P), "not")) { neg = 1; P->i++; }
            jnode *m = mk(P, N_TEST);
            if (!m || !(m->str = expect_name(P))) return NULL;
            m->a = n;
            if (is_op(cur(P), "(")) { P->i++; if (parse_args(P, m)) return NULL; }
            else if (starts_test_arg(cur(P))) {
                jnode *arg = parse_unary(P, 0);
                if (!arg) return NULL;
                m->args = ja_alloc(P->a, sizeof(jnode *));
                if (!m->args) return NULL;
                m->args[0] = arg; m->nargs = 1;
            }
            n = m;
            if (neg) { jnode *x = mk(P, N_NOT); if (!x) return NULL; x->a = n; n = x; }
        } else return n;
    }
}

static jnode *parse_unary(parser *P, int with_filter) {
    jnode *n;
    if (P->depth > 200) return perr(P, "expression nested too deeply");
    if (is_op(cur(P), "-") || is_op(cur(P), "+")) {
        P->depth++;
        int neg = is_op(cur(P), "-");
        P->i++;
        if (!(n = mk(P, neg ? N_NEG : N_POS))) return NULL;
        if (!(n->a = parse_unary(P, 0))) return NULL;
        P->depth--;
    } else if (!(n = parse_primary(P))) return NULL;
    if (!(n = parse_postfix(P, n))) return NULL;
    return with_filter ? parse_filter_expr(P, n) : n;
}

static jnode *binop(parser *P, const char *op, jnode *l, jnode *r) {
    jnode *n = mk(P, N_BIN);
    if (!n) return NULL;
    n->str = op; n->a = l; n->b = r;
    return n;
}

static jnode *parse_pow(parser *P) {
    jnode *l = parse_unary(P, 1);
    while (l && is_op(cur(P), "**")) { P->i++; jnode *r = parse_unary(P, 1); if (!r) return NULL; l = binop(P, "**", l, r); }
    return l;
}
static jnode *parse_math2(parser *P) {
    jnode *l = parse_pow(P);
    while (l) {
        const char *op = is_op(cur(P), "*") ? "*" : is_op(cur(P), "/") ? "/" : is_op(cur(P), "//") ? "//" : is_op(cur(P), "%") ? "%" : NULL;
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
    while (l && is_op(cur(P), "~")) { P->i++; jnode *r = parse_math2(P); if (!r) return NULL; l = binop(P, "~", l, r); }
    return l;
}
static jnode *parse_math1(parser *P) {
    jnode *l = parse_concat(P);
    while (l && (is_op(cur(P), "+") || is_op(cur(P), "-"))) {
        const char *op = is_op(cur(P), "+") ? "+" : "-";
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
        const jtok *t = cur(P);
        const char *op = NULL;
        static const char *cmp[] = {"==", "!=", "<", ">", "<=", ">=", NULL};
        for (int i = 0; cmp[i]; i++) if (is_op(t, cmp[i])) op = cmp[i];
        if (op) P->i++;
        else if (is_name(t, "in")) { op = "in"; P->i++; }
        else if (is_name(t, "not") && is_name(peek(P, 1), "in")) { op = "not in"; P->i += 2; }
        else break;
        if (!v.n && nv_push(P, &v, first)) return NULL;
        jnode *r = parse_math1(P);
        if (!r || nv_push(P, &v, r)) return NULL;
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
    jnode *n = mk(P, N_CMP);
    if (!n) return NULL;
    n->args = v.v; n->nargs = v.n; n->ops = ops;
    return n;
}
static jnode *parse_not(parser *P) {
    if (is_name(cur(P), "not")) {
        P->i++;
        jnode *n = mk(P, N_NOT);
        if (++P->depth > 200) return perr(P, "expression nested too deeply");
        if (!n || !(n->a = parse_not(P))) return NULL;
        P->depth--;
        return n;
    }
    return parse_compare(P);
}
static jnode *parse_and(parser *P) {
    jnode *l = parse_not(P);
    while (l && is_name(cur(P), "and")) {
        P->i++;
        jnode *n = mk(P, N_AND);
        if (!n || !(n->b = parse_not(P))) return NULL;
        n->a = l; l = n;
    }
    return l;
}
static jnode *parse_or(parser *P) {
    jnode *l = parse_and(P);
    while (l && is_name(cur(P), "or")) {
        P->i++;
        jnode *n = mk(P, N_OR);
        if (!n || !(n->b = parse_and(P))) return NULL;
        n->a = l; l = n;
    }
    return l;
}
static jnode *parse_expr(parser *P, int cond) {
    if (++P->depth > 200) return perr(P, "expression nested too deeply");
    jnode *l = parse_or(P);
    P->depth--;
    while (cond && l && is_name(cur(P), "if")) {
        P->i++;
        jnode *n = mk(P, N_COND);
        if (!n || !(n->a = parse_or(P))) return NULL;
        n->b = l;
        if (is_name(cur(P), "else")) { P->i++; if (!(n->c = parse_expr(P, 1))) return NULL; }
        l = n;
    }
    return l;
}

// ---- statements -------------------------------------------------------------------------
static jnode *parse_body(parser *P, const char *const *ends);

// Is the current token '{%' followed by one of the names in ends?
static int at_end_tag(parser *P, const char *const *ends) {
    if (cur(P)->t != TK_BBEGIN || !ends) return 0;
    for (int i = 0; ends[i]; i++) if (is_name(peek(P, 1), ends[i])) return 1;
    return 0;
}

static int parse_names(parser *P, const char ***out, size_t *n) {
    const char *tmp[16]; size_t k = 0;
    int paren = is_op(cur(P), "(");
    if (paren) P->i++;
    for (;;) {
        if (k == 16) { perr(P, "too many loop targets"); return -1; }
        if (!(tmp[k++] = expect_name(P))) return -1;
        if (!is_op(cur(P), ",")) break;
        P->i++;
    }
    if (paren && expect_op(P, ")")) return -1;
    *out = ja_alloc(P->a, k * sizeof(char *));
    if (!*out) return -1;
    memcpy(*out, tmp, k * sizeof(char *));
    *n = k;
    return 0;
}

static const char *const END_IF[] = {"elif", "else", "endif", NULL};

static jnode *parse_if(parser *P) {
    jnode *n = mk(P, N_IF);
    if (!n || !(n->a = parse_expr(P, 1)) || expect_end(P)) return NULL;
    if (!(n->b = parse_body(P, END_IF))) return NULL;
    P->i++;   // '{%'
    if (is_name(cur(P), "elif")) { P->i++; if (!(n->els = parse_if(P))) return NULL; return n; }
    if (is_name(cur(P), "else")) {
        static const char *const e[] = {"endif", NULL};
        P->i++;
        if (expect_end(P) || !(n->els = parse_body(P, e))) return NULL;
        P->i++;
    }
    P->i++;   // endif
    if (expect_end(P)) return NULL;
    return n;
}

static jnode *parse_stmt(parser *P) {
    P->i++;   // '{%'
    const jtok *t = cur(P);
    if (t->t != TK_NAME) return perr(P, "expected a statement name, got %s", tokdesc(P, t));
    jnode *n;
    if (is_name(t, "if")) { P->i++; return parse_if(P); }
    if (is_name(t, "for")) {
        static const char *const e1[] = {"else", "endfor", NULL}, *const e2[] = {"endfor", NULL};
        P->i++;
        if (!(n = mk(P, N_FOR)) || parse_names(P, &n->targets, &n->ntargets)) return NULL;
        if (!is_name(cur(P), "in")) return perr(P, "expected 'in', got %s", tokdesc(P, cur(P)));
        P->i++;
        if (!(n->a = parse_expr(P, 0))) return NULL;
        if (is_name(cur(P), "if")) { P->i++; if (!(n->c = parse_expr(P, 0))) return NULL; }
        if (is_name(cur(P), "recursive")) return perr(P, "recursive loops are not supported");
        if (expect_end(P) || !(n->b = parse_body(P, e1))) return NULL;
        P->i++;
        if (is_name(cur(P), "else")) {
            P->i++;
            if (expect_end(P) || !(n->els = parse_body(P, e2))) return NULL;
            P->i++;
        }
        P->i++;
        if (expect_end(P)) return NULL;
        return n;
    }
    if (is_name(t, "set")) {
        P->i++;
        if (!(n = mk(P, N_SET)) || !(n->str = expect_name(P))) return NULL;
        if (is_op(cur(P), ".")) { P->i++; if (!(n->str2 = expect_name(P))) return NULL; }
        if (is_op(cur(P), "=")) {
            P->i++;
            if (!(n->a = parse_expr(P, 1))) return NULL;
            if (is_op(cur(P), ",")) return perr(P, "tuple assignment is not supported");
            if (expect_end(P)) return NULL;
            return n;
        }
        static const char *const e[] = {"endset", NULL};
        n->kind = N_SETBLOCK;
        if (n->str2) return perr(P, "block set cannot assign an attribute");
        if (expect_end(P) || !(n->b = parse_body(P, e))) return NULL;
        P->i += 2;
        if (expect_end(P)) return NULL;
        return n;
    }
    if (is_name(t, "macro") || is_name(t, "call")) {
        int macro = is_name(t, "macro");
        static const char *const em[] = {"endmacro", NULL}, *const ec[] = {"endcall", NULL};
        P->i++;
        if (!(n = mk(P, macro ? N_MACRO : N_CALLBLOCK))) return NULL;
        if (macro && !(n->str = expect_name(P))) return NULL;
        if (is_op(cur(P), "(")) {   // parameters with optional defaults
            P->i++;
            const char *names[64]; jnode *defs[64]; size_t k = 0;
            while (!is_op(cur(P), ")")) {
                if (k == 64) return perr(P, "too many macro parameters");
                if (!(names[k] = expect_name(P))) return NULL;
                defs[k] = NULL;
                if (is_op(cur(P), "=")) { P->i++; if (!(defs[k] = parse_expr(P, 1))) return NULL; }
                k++;
                if (is_op(cur(P), ",")) P->i++;
                else if (!is_op(cur(P), ")")) return perr(P, "expected ',' or ')', got %s", tokdesc(P, cur(P)));
            }
            P->i++;
            n->targets = ja_alloc(P->a, (k + 1) * sizeof(char *));
            n->kwv = ja_alloc(P->a, (k + 1) * sizeof(jnode *));
            if (!n->targets || !n->kwv) return NULL;
            memcpy(n->targets, names, k * sizeof(char *));
            memcpy(n->kwv, defs, k * sizeof(jnode *));
            n->ntargets = k;
        }
        if (!macro) {
            if (!(n->a = parse_expr(P, 1))) return NULL;
            if (n->a->kind != N_CALL) return perr(P, "expected a call after 'call'");
        }
        if (expect_end(P) || !(n->b = parse_body(P, macro ? em : ec))) return NULL;
        P->i += 2;
        if (cur(P)->t == TK_NAME) P->i++;   // {% endmacro name %}
        if (expect_end(P)) return NULL;
        return n;
    }
    if (is_name(t, "filter")) {
        static const char *const e[] = {"endfilter", NULL};
        P->i++;
        if (!(n = mk(P, N_FILTERBLOCK))) return NULL;
        // the filter chain is applied to a placeholder literal replaced at run time
        jnode *ph = mk(P, N_LIT);
        if (!ph) return NULL;
        ph->lit = jv_strn("", 0);
        jnode *chain = ph;
        do {
            if (is_op(cur(P), "|")) P->i++;
            jnode *m = mk(P, N_FILTER);
            if (!m || !(m->str = expect_name(P))) return NULL;
            m->a = chain;
            if (is_op(cur(P), "(")) { P->i++; if (parse_args(P, m)) return NULL; }
            chain = m;
        } while (is_op(cur(P), "|"));
        n->a = chain; n->c = ph;
        if (expect_end(P) || !(n->b = parse_body(P, e))) return NULL;
        P->i += 2;
        if (expect_end(P)) return NULL;
        return n;
    }
    if (is_name(t, "generation")) {   // HF's assistant-mask marker: render the body as is
        static const char *const e[] = {"endgeneration", NULL};
        P->i++;
        if (expect_end(P) || !(n = parse_body(P, e))) return NULL;
        P->i += 2;
        if (expect_end(P)) return NULL;
        return n;
    }
    if (is_name(t, "break") || is_name(t, "continue")) {
        if (!(n = mk(P, is_name(t, "break") ? N_BREAK : N_CONTINUE))) return NULL;
        P->i++;
        if (expect_end(P)) return NULL;
        return n;
    }
    return perr(P, "unknown tag '%.*s'", (int)t->n, t->s);
}

static jnode *parse_body(parser *P, const char *const *ends) {
    if (++P->depth > 200) return perr(P, "statements nested too deeply");
    jnode *body = mk(P, N_BODY);
    if (!body) return NULL;
    nvec v = {0};
    for (;;) {
        const jtok *t = cur(P);
        jnode *n = NULL;
        if (t->t == TK_EOF) {
            if (ends) {
                int k = 0;
                while (ends[k + 1]) k++;
                return perr(P, "unexpected end of template, expected '%s'", ends[k]);
            }
            break;
        }
        if (at_end_tag(P, ends)) break;
        if (t->t == TK_TEXT) {
            if (!(n = mk(P, N_TEXT))) return NULL;
            n->lit = jv_strn(t->s, t->n);
            P->i++;
        } else if (t->t == TK_VBEGIN) {
            P->i++;
            if (!(n = mk(P, N_OUT)) || !(n->a = parse_expr(P, 1))) return NULL;
            if (cur(P)->t != TK_VEND) return perr(P, "expected '}}', got %s", tokdesc(P, cur(P)));
            P->i++;
        } else if (t->t == TK_BBEGIN) {
            const jtok *nm = peek(P, 1);
            static const char *const stray[] = {"endif", "endfor", "else", "elif", "endset", "endmacro", "endcall",
                                                "endfilter", "endgeneration", NULL};
            for (int i = 0; stray[i]; i++)
                if (is_name(nm, stray[i])) { P->i++; return perr(P, "unexpected '%s'", stray[i]); }
            if (!(n = parse_stmt(P))) return NULL;
        } else return perr(P, "unexpected %s", tokdesc(P, t));
        if (nv_push(P, &v, n)) return NULL;
    }
    body->args = v.v; body->nargs = v.n;
    P->depth--;
    return body;
}

jnode *jinja_parse_tokens(jarena *a, const jtok *toks, size_t ntok, const char *name) {
    parser P = {.a = a, .t = toks, .n = ntok, .name = name};
    return parse_body(&P, NULL);
}
