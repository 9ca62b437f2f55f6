// jinja_int.h — internals shared by the Jinja interpreter's files: arena, render budget
// state, values, tokens, syntax tree, evaluation context. Not a public API (see jinja.h).
#ifndef FT_JINJA_INT_H
#define FT_JINJA_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "template/jinja.h"

// ---- arena: every value of one render (and every node of one parse) lives here ----------
typedef struct ja_chunk ja_chunk;
typedef struct {
    ja_chunk *head, *spare;    // spare: one standard chunk kept by ja_rewind for reuse
    size_t bytes;              // held in chunks (the memory budget counts this)
} jarena;
// NULL when malloc fails or a render's memory budget is spent (jrun.fail says which).
void *ja_alloc(jarena *a, size_t n);          // zeroed
char *ja_strndup(jarena *a, const char *s, size_t n);
void ja_reset(jarena *a);                      // keep the first chunk, free the rest
void ja_free(jarena *a);
// A point in the arena to come back to: what was allocated after it is released at once.
typedef struct { ja_chunk *head; size_t used; } jmark;
jmark ja_mark(const jarena *a);
void ja_rewind(jarena *a, jmark m);
int ja_young(const jarena *a, jmark m, const void *p);   // p was allocated after m

// ---- the running render's budget, for the places that have no context (allocation, list
// growth, buffers): thread-local, all zero (no limits) outside a render ------------------
enum { JFAIL_NONE, JFAIL_OOM, JFAIL_MEMORY, JFAIL_ITEMS, JFAIL_OUTPUT };
typedef struct {
    size_t memory, items, output;   // limits; 0 = none
    int fail;                       // JFAIL_*: the first one that stopped the render
} jrun_state;
extern _Thread_local jrun_state jrun;

// ---- output buffer ----------------------------------------------------------------------
typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} jbuf;
void jb_put(jbuf *b, const char *s, size_t n);
void jb_puts(jbuf *b, const char *s);
void jb_putc(jbuf *b, char c);
// s[0..n) as a JSON string literal (quotes; \" \\ \n \r \t \b \f, other controls \u00xx; UTF-8 as is).
void jb_json_str(jbuf *b, const char *s, size_t n);

// ---- values -----------------------------------------------------------------------------
enum {
    JV_UNDEF, JV_NONE, JV_BOOL, JV_INT, JV_FLOAT, JV_STR, JV_LIST, JV_DICT,
    JV_LOOP, JV_MACRO, JV_FUNC, JV_METHOD
};
typedef struct jlist jlist;
typedef struct jdict jdict;
typedef struct jloop jloop;
typedef struct jmacro jmacro;
typedef struct jmethod jmethod;

typedef struct jv {
    int t;
    union {
        int64_t i;                                  // BOOL, INT, FUNC (builtin id)
        double f;
        struct { const char *s; size_t n; } s;     // STR; UNDEF keeps a name hint here
        jlist *l;
        jdict *d;                                   // DICT (namespace too: d->ns)
        jloop *loop;
        jmacro *m;
        jmethod *bm;
    } u;
} jv;

// lazy: a Python generator (map/select/... results): always truthy, no len(), prints as
// <generator object>, iterated once (used: a second iteration sees nothing), as in jinja2.
// group: a groupby result item, a (grouper, list) tuple with those two attributes.
struct jlist { jv *v; size_t n, cap; int tuple, lazy, used, group; };
struct jdict { jv *k, *v; size_t n, cap; int ns; };
// rec_node/rec_scope: a `recursive` loop (loop(items) renders the body again one level deeper);
// changed: the arguments of the last loop.changed() call (has_changed once called).
struct jloop {
    int64_t index0, length, depth0; jv prev, next; int has_prev, has_next;
    const struct jnode *rec_node; struct jscope *rec_scope;
    jv changed; int has_changed;
};
struct jmethod { jv self; const char *name; };

jv jv_undef(const char *hint);
jv jv_none(void);
jv jv_bool(int b);
jv jv_int(int64_t i);
jv jv_float(double f);
jv jv_strn(const char *s, size_t n);       // does not copy
jv jv_str_copy(jarena *a, const char *s, size_t n);
jv jv_list(jarena *a, size_t cap);
jv jv_dict(jarena *a, size_t cap);
int jl_push(jarena *a, jlist *l, jv v);
int jd_set(jarena *a, jdict *d, jv k, jv v);
jv *jd_get(const jdict *d, jv k);           // NULL when absent
jv *jd_gets(const jdict *d, const char *key);

int jv_truthy(jv v);
int jv_equal(jv a, jv b);
// -2 when the two cannot be ordered (type error), else -1/0/1.
int jv_compare(jv a, jv b);
const char *jv_type_name(jv v);            // Python-ish: 'str', 'int', 'dict', 'undefined'
// str(v) as Python/jinja2 prints it (None, True, 1.5, ['a'], {'k': 1}); undefined -> "".
void jv_str(jbuf *b, jv v);
void jv_repr(jbuf *b, jv v);
// repr(v) (ascii = 0) or ascii(v) (ascii = 1): strings escaped as Python escapes them.
void jinja_repr_ascii(jbuf *b, jv v, int ascii);
// JSON as Python json.dumps(v, ensure_ascii=False, indent=indent) (indent < 0: none).
int jv_tojson(jbuf *b, jv v, int indent, int depth);
void jv_float_repr(jbuf *b, double f);     // Python repr(float)
jv jv_from_json(jarena *a, const json_t *j);
// The value as a string (for ~, filters on strings): an arena copy when not a string already.
jv jv_to_str(jarena *a, jv v);

// UTF-8 helpers (input is validated UTF-8; bad bytes count as one code point each).
size_t ju_len(const char *s, size_t n);                    // code points
size_t ju_offset(const char *s, size_t n, size_t cp);      // byte offset of code point cp (clamped)
int ju_decode(const char *s, size_t n, size_t *i);         // next code point, advances *i

// jinja_str.c: Python string operations (mode: 'u' upper, 'l' lower, 't' str.title,
// 'c' capitalize, 'T' jinja2's title filter; strip which: 1 left, 2 right, 3 both).
int ju_isspace(int cp);
jv ju_case(jarena *a, jv s, int mode);
jv ju_strip(jv s, jv chars, int which);
jv ju_replace(jarena *a, jv s, jv old, jv new_, int64_t count);
int ju_split(jarena *a, jv s, jv sep, int64_t maxsplit, jv *out);

// ---- tokens -----------------------------------------------------------------------------
enum {
    TK_EOF, TK_TEXT, TK_VBEGIN, TK_VEND, TK_BBEGIN, TK_BEND,
    TK_NAME, TK_STR, TK_INT, TK_FLOAT, TK_OP
};
typedef struct {
    int t, line;
    const char *s; size_t n;     // TEXT, NAME, OP (points into source or arena), STR (unescaped)
    int64_t i; double f;
} jtok;
// Tokenize with trim_blocks + lstrip_blocks semantics; raw blocks become TEXT.
int jinja_lex(jarena *a, const char *src, size_t len, const char *name, jtok **toks, size_t *ntok);

// ---- syntax tree ------------------------------------------------------------------------
enum {
    // expressions
    N_LIT, N_NAME, N_LIST, N_TUPLE, N_DICT, N_ATTR, N_ITEM, N_SLICE, N_CALL, N_FILTER, N_TEST,
    N_NOT, N_NEG, N_POS, N_BIN, N_AND, N_OR, N_COND, N_CMP,
    // statements
    N_BODY, N_TEXT, N_OUT, N_IF, N_FOR, N_SET, N_SETBLOCK, N_MACRO, N_CALLBLOCK, N_BREAK,
    N_CONTINUE, N_FILTERBLOCK, N_GENERATION
};
typedef struct jnode jnode;
struct jnode {
    int kind, line;
    const char *str;        // NAME/ATTR name, BIN/CMP op, FILTER/TEST name, SET target, MACRO name
    const char *str2;       // SET namespace attribute; FOR: "recursive" for a recursive loop
    jv lit;
    jnode *a, *b, *c;       // operands / cond / iter / body
    jnode **args; size_t nargs;        // positional args, list items, body statements, CMP operands
    jnode **kwv; const char **kwn; size_t nkw;   // keyword args, dict values, macro defaults
    jnode **keys;                      // dict keys
    const char **ops;                  // CMP ops (nargs-1 of them)
    const char **targets; size_t ntargets;   // FOR targets, MACRO params
    jnode *els;                        // IF/FOR else
};
// Parse tokens into a body node. NULL + ft_err "NAME:LINE: what".
jnode *jinja_parse_tokens(jarena *a, const jtok *toks, size_t ntok, const char *name);

// ---- evaluation -------------------------------------------------------------------------
typedef struct jscope jscope;
struct jscope { jscope *parent; jdict *vars; };
struct jmacro { const jnode *def; jscope *closure; const jnode *caller_body; jscope *caller_scope; int is_caller; };

typedef struct {
    jarena *a;
    const char *name;       // template name for messages
    jbuf *out;
    jscope *globals;
    int depth;              // macro recursion guard
    int edepth;             // expression evaluation depth guard
    jbuf *root_out;         // the template's own output (generation marks are offsets into it)
    size_t *marks; size_t nmarks, capmarks;   // {% generation %} [start, end) pairs, flattened
    ft_jinja_limits lim;    // this render's budget (iterations, depth here; the rest in jrun)
    uint64_t iters;         // loop iterations so far
    int line;               // line of the statement being run (for budget messages)
    struct jframe *frames;  // innermost running loop iteration (see exec_for)
    uintptr_t stack0;       // the stack where the render began (the stack guard's base)
} jctx;

// One loop iteration: what it allocates is released at its end unless a value made in it
// was stored where it outlives it (a namespace attribute): then `pinned`.
typedef struct jframe { struct jframe *prev; jmark mark; int pinned; } jframe;
// Keep the running loop iterations that v (just stored into the older container holder, whose
// storage may have grown into s1/s2) was allocated in from releasing their memory (jinja_exec.c).
void jinja_pin_escape(jctx *c, const void *holder, const void *s1, const void *s2, jv v);
int jinja_budget_err(jctx *c, const jnode *n, const char *what, unsigned long long limit, const char *unit,
                     const char *key);

// Builtin functions (JV_FUNC ids).
enum { JF_RANGE = 1, JF_NAMESPACE, JF_DICT, JF_RAISE, JF_STRFTIME, JF_CYCLE, JF_JOINER_UNUSED };

int jinja_eval(jctx *c, jscope *s, const jnode *n, jv *out);
int jinja_exec(jctx *c, jscope *s, const jnode *n);   // 0 ok, -1 error, 1 break, 2 continue
int jinja_err(jctx *c, const jnode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
jv jinja_lookup(jscope *s, const char *name);
// loop(items) of a recursive loop: the loop's body over items, one level deeper, as a string.
int jinja_loop_call(jctx *c, const jnode *at, jloop *L, jv *args, size_t nargs, jv *out);
int jinja_call_value(jctx *c, const jnode *at, jv fn, jv *args, size_t nargs, const char **kwn, jv *kwv,
                     size_t nkw, jv *out);

// filters.c / tests / methods: dispatch by name. Return -1 with jinja_err on failure.
int jinja_filter(jctx *c, const jnode *at, const char *name, jv v, jv *args, size_t nargs,
                 const char **kwn, jv *kwv, size_t nkw, jv *out);
int jinja_test(jctx *c, const jnode *at, const char *name, jv v, jv *args, size_t nargs, int *out);
// 1 = name is a method of v (and *out set), 0 = not a method, -1 = error.
int jinja_method(jctx *c, const jnode *at, jv self, const char *name, jv *args, size_t nargs,
                 const char **kwn, jv *kwv, size_t nkw, jv *out);
int jinja_has_method(jv self, const char *name);
// jinja2's getattr/getitem (attribute, then item; undefined when missing), for str.format fields.
jv jinja_getattr(jctx *c, jv obj, const char *name);
int jinja_getitem(jctx *c, const jnode *at, jv obj, jv key, jv *out);

// jinja_fmt.c: Python string formatting. fmt % args (the `%` operator; the format filter
// passes a tuple or a dict), str.format as string.Formatter, format(v, spec) into b.
int jinja_percent(jctx *c, const jnode *at, jv fmt, jv args, jv *out);
int jinja_str_format(jctx *c, const jnode *at, jv fmt, jv *args, size_t nargs, const char **kwn, jv *kwv, size_t nkw,
                     jv *out);
int jinja_format_value(jctx *c, const jnode *at, jv v, const char *spec, size_t n, jbuf *b);
// jinja_group.c: the groupby, batch and slice filters over the items of l.
int jinja_filter_group(jctx *c, const jnode *at, const char *name, jlist *l, jv *args, size_t nargs, const char **kwn,
                       jv *kwv, size_t nkw, jv *out);

#endif
