// jinja_stmt.c — the statements chat templates use, parsed from Jinja tokens: if/elif/else,
// for (targets, inline if, else), set (also block set and ns.attr), macro, call, filter,
// break/continue, generation; and the template body itself.
#include <string.h>

#include "core/err.h"
#include "template/jinja_int.h"
#include "template/jinja_parse.h"

// ---- statements -------------------------------------------------------------------------
static jnode *parse_body(parser *P, const char *const *ends);

// Is the current token '{%' followed by one of the names in ends?
static int at_end_tag(parser *P, const char *const *ends) {
    if (jp_cur(P)->t != TK_BBEGIN || !ends) return 0;
    for (int i = 0; ends[i]; i++) if (jp_is_name(jp_peek(P, 1), ends[i])) return 1;
    return 0;
}

static int parse_names(parser *P, const char ***out, size_t *n) {
    const char *tmp[16]; size_t k = 0;
    int paren = jp_is_op(jp_cur(P), "(");
    if (paren) P->i++;
    for (;;) {
        if (k == 16) { jp_perr(P, "too many loop targets"); return -1; }
        if (!(tmp[k++] = jp_expect_name(P))) return -1;
        if (!jp_is_op(jp_cur(P), ",")) break;
        P->i++;
    }
    if (paren && jp_expect_op(P, ")")) return -1;
    *out = ja_alloc(P->a, k * sizeof(char *));
    if (!*out) return -1;
    memcpy(*out, tmp, k * sizeof(char *));
    *n = k;
    return 0;
}

static const char *const END_IF[] = {"elif", "else", "endif", NULL};

static jnode *parse_if(parser *P) {
    jnode *n = jp_mk(P, N_IF);
    if (!n || !(n->a = jp_parse_expr(P, 1)) || jp_expect_end(P)) return NULL;
    if (!(n->b = parse_body(P, END_IF))) return NULL;
    P->i++;   // '{%'
    if (jp_is_name(jp_cur(P), "elif")) { P->i++; if (!(n->els = parse_if(P))) return NULL; return n; }
    if (jp_is_name(jp_cur(P), "else")) {
        static const char *const e[] = {"endif", NULL};
        P->i++;
        if (jp_expect_end(P) || !(n->els = parse_body(P, e))) return NULL;
        P->i++;
    }
    P->i++;   // endif
    if (jp_expect_end(P)) return NULL;
    return n;
}

static jnode *parse_stmt(parser *P) {
    P->i++;   // '{%'
    const jtok *t = jp_cur(P);
    if (t->t != TK_NAME) return jp_perr(P, "expected a statement name, got %s", jp_tokdesc(P, t));
    jnode *n;
    if (jp_is_name(t, "if")) { P->i++; return parse_if(P); }
    if (jp_is_name(t, "for")) {
        static const char *const e1[] = {"else", "endfor", NULL}, *const e2[] = {"endfor", NULL};
        P->i++;
        if (!(n = jp_mk(P, N_FOR)) || parse_names(P, &n->targets, &n->ntargets)) return NULL;
        if (!jp_is_name(jp_cur(P), "in")) return jp_perr(P, "expected 'in', got %s", jp_tokdesc(P, jp_cur(P)));
        P->i++;
        if (!(n->a = jp_parse_expr(P, 0))) return NULL;
        if (jp_is_name(jp_cur(P), "if")) { P->i++; if (!(n->c = jp_parse_expr(P, 0))) return NULL; }
        if (jp_is_name(jp_cur(P), "recursive")) { P->i++; n->str2 = "recursive"; }
        if (jp_expect_end(P)) return NULL;
        P->loops++;
        n->b = parse_body(P, e1);
        P->loops--;
        if (!n->b) return NULL;
        P->i++;
        if (jp_is_name(jp_cur(P), "else")) {
            P->i++;
            if (jp_expect_end(P) || !(n->els = parse_body(P, e2))) return NULL;
            P->i++;
        }
        P->i++;
        if (jp_expect_end(P)) return NULL;
        return n;
    }
    if (jp_is_name(t, "set")) {
        P->i++;
        if (!(n = jp_mk(P, N_SET)) || !(n->str = jp_expect_name(P))) return NULL;
        if (jp_is_op(jp_cur(P), ".")) { P->i++; if (!(n->str2 = jp_expect_name(P))) return NULL; }
        else if (jp_is_op(jp_cur(P), ",")) {   // {% set a, b = ... %}
            P->i--;
            if (parse_names(P, &n->targets, &n->ntargets)) return NULL;
            if (!jp_is_op(jp_cur(P), "=")) return jp_perr(P, "expected '=' after the names to assign");
        }
        if (jp_is_op(jp_cur(P), "=")) {
            P->i++;
            if (!(n->a = jp_parse_expr(P, 1))) return NULL;
            if (jp_is_op(jp_cur(P), ",")) {   // a bare tuple on the right: 1, 2
                jnode *tup = jp_mk(P, N_TUPLE);
                nvec v = {0};
                if (!tup || jp_nv_push(P, &v, n->a)) return NULL;
                while (jp_is_op(jp_cur(P), ",")) {
                    P->i++;
                    if (jp_cur(P)->t == TK_BEND) break;
                    jnode *e = jp_parse_expr(P, 1);
                    if (!e || jp_nv_push(P, &v, e)) return NULL;
                }
                tup->args = v.v; tup->nargs = v.n;
                n->a = tup;
            }
            if (jp_expect_end(P)) return NULL;
            return n;
        }
        if (n->ntargets) return jp_perr(P, "expected '=' after the names to assign");
        static const char *const e[] = {"endset", NULL};
        n->kind = N_SETBLOCK;
        if (n->str2) return jp_perr(P, "block set cannot assign an attribute");
        if (jp_expect_end(P) || !(n->b = parse_body(P, e))) return NULL;
        P->i += 2;
        if (jp_expect_end(P)) return NULL;
        return n;
    }
    if (jp_is_name(t, "macro") || jp_is_name(t, "call")) {
        int macro = jp_is_name(t, "macro");
        static const char *const em[] = {"endmacro", NULL}, *const ec[] = {"endcall", NULL};
        P->i++;
        if (!(n = jp_mk(P, macro ? N_MACRO : N_CALLBLOCK))) return NULL;
        if (macro && !(n->str = jp_expect_name(P))) return NULL;
        if (jp_is_op(jp_cur(P), "(")) {   // parameters with optional defaults
            P->i++;
            const char *names[64]; jnode *defs[64]; size_t k = 0;
            while (!jp_is_op(jp_cur(P), ")")) {
                if (k == 64) return jp_perr(P, "too many macro parameters");
                if (!(names[k] = jp_expect_name(P))) return NULL;
                defs[k] = NULL;
                if (jp_is_op(jp_cur(P), "=")) { P->i++; if (!(defs[k] = jp_parse_expr(P, 1))) return NULL; }
                k++;
                if (jp_is_op(jp_cur(P), ",")) P->i++;
                else if (!jp_is_op(jp_cur(P), ")")) return jp_perr(P, "expected ',' or ')', got %s", jp_tokdesc(P, jp_cur(P)));
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
            if (!(n->a = jp_parse_expr(P, 1))) return NULL;
            if (n->a->kind != N_CALL) return jp_perr(P, "expected a call after 'call'");
        }
        if (jp_expect_end(P)) return NULL;
        int loops = P->loops;   // a macro or call body is its own function: no loop around it
        P->loops = 0;
        n->b = parse_body(P, macro ? em : ec);
        P->loops = loops;
        if (!n->b) return NULL;
        P->i += 2;
        if (jp_cur(P)->t == TK_NAME) P->i++;   // {% endmacro name %}
        if (jp_expect_end(P)) return NULL;
        return n;
    }
    if (jp_is_name(t, "filter")) {
        static const char *const e[] = {"endfilter", NULL};
        P->i++;
        if (!(n = jp_mk(P, N_FILTERBLOCK))) return NULL;
        // the filter chain is applied to a placeholder literal replaced at run time
        jnode *ph = jp_mk(P, N_LIT);
        if (!ph) return NULL;
        ph->lit = jv_strn("", 0);
        jnode *chain = ph;
        do {
            if (jp_is_op(jp_cur(P), "|")) P->i++;
            jnode *m = jp_mk(P, N_FILTER);
            if (!m || !(m->str = jp_expect_name(P))) return NULL;
            m->a = chain;
            if (jp_is_op(jp_cur(P), "(")) { P->i++; if (jp_parse_args(P, m)) return NULL; }
            chain = m;
        } while (jp_is_op(jp_cur(P), "|"));
        n->a = chain; n->c = ph;
        if (jp_expect_end(P) || !(n->b = parse_body(P, e))) return NULL;
        P->i += 2;
        if (jp_expect_end(P)) return NULL;
        return n;
    }
    if (jp_is_name(t, "generation")) {   // HF's assistant-mask marker: the body, its offsets noted
        static const char *const e[] = {"endgeneration", NULL};
        P->i++;
        if (!(n = jp_mk(P, N_GENERATION))) return NULL;
        if (jp_expect_end(P) || !(n->b = parse_body(P, e))) return NULL;
        P->i += 2;
        if (jp_expect_end(P)) return NULL;
        return n;
    }
    if (jp_is_name(t, "break") || jp_is_name(t, "continue")) {
        if (!P->loops) return jp_perr(P, "'%.*s' not properly in loop", (int)t->n, t->s);
        if (!(n = jp_mk(P, jp_is_name(t, "break") ? N_BREAK : N_CONTINUE))) return NULL;
        P->i++;
        if (jp_expect_end(P)) return NULL;
        return n;
    }
    return jp_perr(P, "unknown tag '%.*s'", (int)t->n, t->s);
}

static jnode *parse_body(parser *P, const char *const *ends) {
    if (++P->depth > 200) return jp_perr(P, "statements nested too deeply");
    jnode *body = jp_mk(P, N_BODY);
    if (!body) return NULL;
    nvec v = {0};
    for (;;) {
        const jtok *t = jp_cur(P);
        jnode *n = NULL;
        if (t->t == TK_EOF) {
            if (ends) {
                int k = 0;
                while (ends[k + 1]) k++;
                return jp_perr(P, "unexpected end of template, expected '%s'", ends[k]);
            }
            break;
        }
        if (at_end_tag(P, ends)) break;
        if (t->t == TK_TEXT) {
            if (!(n = jp_mk(P, N_TEXT))) return NULL;
            n->lit = jv_strn(t->s, t->n);
            P->i++;
        } else if (t->t == TK_VBEGIN) {
            P->i++;
            if (!(n = jp_mk(P, N_OUT)) || !(n->a = jp_parse_expr(P, 1))) return NULL;
            if (jp_cur(P)->t != TK_VEND) return jp_perr(P, "expected '}}', got %s", jp_tokdesc(P, jp_cur(P)));
            P->i++;
        } else if (t->t == TK_BBEGIN) {
            const jtok *nm = jp_peek(P, 1);
            static const char *const stray[] = {"endif", "endfor", "else", "elif", "endset", "endmacro", "endcall",
                                                "endfilter", "endgeneration", NULL};
            for (int i = 0; stray[i]; i++)
                if (jp_is_name(nm, stray[i])) { P->i++; return jp_perr(P, "unexpected '%s'", stray[i]); }
            if (!(n = parse_stmt(P))) return NULL;
        } else return jp_perr(P, "unexpected %s", jp_tokdesc(P, t));
        if (jp_nv_push(P, &v, n)) return NULL;
    }
    body->args = v.v; body->nargs = v.n;
    P->depth--;
    return body;
}

jnode *jinja_parse_tokens(jarena *a, const jtok *toks, size_t ntok, const char *name) {
    parser P = {.a = a, .t = toks, .n = ntok, .name = name};
    return parse_body(&P, NULL);
}
