// jinja_parse.h — parser state and token helpers shared by the expression parser
// (jinja_parse.c) and the statement parser (jinja_stmt.c). Internal.
#ifndef FT_JINJA_PARSE_H
#define FT_JINJA_PARSE_H

#include "template/jinja_int.h"

typedef struct {
    jarena *a;
    const jtok *t;
    size_t n, i;
    const char *name;
    int depth;          // nesting guard: bad input must not exhaust the stack
    int loops;          // for loops around the statement being parsed (break/continue need one)
} parser;

typedef struct { jnode **v; size_t n, cap; } nvec;

int jp_nv_push(parser *P, nvec *v, jnode *x);
const jtok *jp_cur(parser *P);
const jtok *jp_peek(parser *P, size_t k);
jnode *jp_perr(parser *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int jp_is_op(const jtok *t, const char *op);
int jp_is_name(const jtok *t, const char *nm);
const char *jp_tokdesc(parser *P, const jtok *t);
jnode *jp_mk(parser *P, int kind);
const char *jp_tokstr(parser *P, const jtok *t);
int jp_expect_op(parser *P, const char *op);
int jp_expect_end(parser *P);
const char *jp_expect_name(parser *P);
int jp_parse_args(parser *P, jnode *n);   // after '(' up to ')'
jnode *jp_parse_expr(parser *P, int cond);  // cond: allow `a if b else c`

#endif
