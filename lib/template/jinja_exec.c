// jinja_exec.c — runs Jinja statements (text, output, if, for with loop.* and else, set,
// block set, namespace attribute set, macro, call, filter blocks, break/continue) and holds
// the public entry points: ft_jinja_parse, ft_jinja_render, ft_jinja_free.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "template/jinja_int.h"

struct ft_jinja {
    jarena ast, run;
    jnode *root;
    char *name;
    int has_generation;    // the template marks assistant text with {% generation %}
    ft_jinja_limits lim;   // the budget of each render
};

int jinja_budget_err(jctx *c, const jnode *n, const char *what, unsigned long long limit, const char *unit,
                     const char *key) {
    return ft_err("%s:%d: template exceeded the %s budget (%llu %s); raise it with --template-limit %s", c->name,
                  n ? n->line : c->line, what, limit, unit, key);
}

static int set_var(jctx *c, jscope *s, const char *name, jv v) {
    return jd_set(c->a, s->vars, jv_strn(name, strlen(name)), v);
}

static jscope *child_scope(jctx *c, jscope *parent) {
    jscope *s = ja_alloc(c->a, sizeof *s);
    if (!s) return NULL;
    jv d = jv_dict(c->a, 4);
    if (!d.u.d) return NULL;
    s->parent = parent; s->vars = d.u.d;
    return s;
}

// Items a for loop walks: list items, dict keys, string characters.
static int iter_items(jctx *c, const jnode *at, jv v, jlist **out) {
    if (v.t == JV_LIST && !(v.u.l->lazy && v.u.l->used)) {
        v.u.l->used = v.u.l->lazy;   // a generator is iterated once
        *out = v.u.l;
        return 0;
    }
    jv l = jv_list(c->a, 0);
    if (!l.u.l) return -1;
    if (v.t == JV_DICT) {
        for (size_t i = 0; i < v.u.d->n; i++) if (jl_push(c->a, l.u.l, v.u.d->k[i])) return -1;
    } else if (v.t == JV_STR) {
        for (size_t i = 0; i < v.u.s.n;) {
            size_t j = i;
            ju_decode(v.u.s.s, v.u.s.n, &j);
            if (jl_push(c->a, l.u.l, jv_strn(v.u.s.s + i, j - i))) return -1;
            i = j;
        }
    } else if (v.t != JV_UNDEF && v.t != JV_LIST) {
        return jinja_err(c, at, "'%s' object is not iterable", jv_type_name(v));
    }
    *out = l.u.l;
    return 0;
}

static int bind_targets(jctx *c, const jnode *n, jscope *s, jv item) {
    if (n->ntargets == 1) return set_var(c, s, n->targets[0], item);
    jlist *parts;
    if (item.t != JV_LIST && item.t != JV_STR)
        return jinja_err(c, n, "cannot unpack non-iterable %s object", jv_type_name(item));
    if (iter_items(c, n, item, &parts)) return -1;
    if (parts->n != n->ntargets)
        return jinja_err(c, n, "%s values to unpack (expected %zu, got %zu)", parts->n > n->ntargets ? "too many" : "not enough",
                         n->ntargets, parts->n);
    for (size_t i = 0; i < n->ntargets; i++) if (set_var(c, s, n->targets[i], parts->v[i])) return -1;
    return 0;
}

// The loop over seq at recursion level depth0 (0 unless a recursive loop's loop() called it);
// fr is the loop's frame for the per-iteration memory release (see exec_for).
static int run_for(jctx *c, jscope *outer, const jnode *n, jv seq, int64_t depth0, jframe *fr) {
    jlist *items;
    if (iter_items(c, n, seq, &items)) return -1;
    jscope *s = child_scope(c, outer);
    if (!s) return -1;
    if (n->c) {   // inline filter: {% for x in xs if cond %} (loop.length counts what passes)
        jv kept = jv_list(c->a, 0);
        if (!kept.u.l) return -1;
        for (size_t i = 0; i < items->n; i++) {
            jv ok;
            if (++c->iters > c->lim.iterations) return jinja_budget_err(c, n, "loop", c->lim.iterations, "iterations", "iterations=N");
            if (bind_targets(c, n, s, items->v[i]) || jinja_eval(c, s, n->c, &ok)) return -1;
            if (jv_truthy(ok) && jl_push(c->a, kept.u.l, items->v[i])) return -1;
        }
        items = kept.u.l;
    }
    jloop *L = ja_alloc(c->a, sizeof *L);
    if (!L) return -1;
    jv lv = {.t = JV_LOOP};
    lv.u.loop = L;
    L->length = (int64_t)items->n;
    L->depth0 = depth0;
    if (n->str2) { L->rec_node = n; L->rec_scope = outer; }   // {% for ... recursive %}
    // jinja2 clears its "no iteration" flag at the end of the body, so `else` also runs when
    // every iteration ended in break or continue
    int completed = 0;
    for (size_t i = 0; i < items->n; i++) {
        if (++c->iters > c->lim.iterations) return jinja_budget_err(c, n, "loop", c->lim.iterations, "iterations", "iterations=N");
        L->index0 = (int64_t)i;
        L->has_prev = i > 0; L->has_next = i + 1 < items->n;
        if (L->has_prev) L->prev = items->v[i - 1];
        if (L->has_next) L->next = items->v[i + 1];
        // what the iteration allocates (its scope, temporaries) goes at its end, unless a
        // value made in it was stored in a namespace (then the frame is pinned)
        fr->mark = ja_mark(c->a);
        fr->pinned = 0;
        // a fresh scope per iteration: as in jinja2, a `set` in the body does not carry over
        if (!(s = child_scope(c, outer))) return -1;
        if (bind_targets(c, n, s, items->v[i]) || set_var(c, s, "loop", lv)) return -1;
        int rc = jinja_exec(c, s, n->b);
        if (rc < 0) return -1;
        if (!fr->pinned) ja_rewind(c->a, fr->mark);
        if (rc == 1) break;
        if (rc == 0) completed = 1;
    }
    if (!completed && n->els) return jinja_exec(c, outer, n->els);
    return 0;
}

// run_for inside a frame of its own on the chain of running loops (pin_escape walks it).
static int run_in_frame(jctx *c, jscope *outer, const jnode *n, jv seq, int64_t depth0) {
    jframe fr = {.prev = c->frames};
    c->frames = &fr;
    int rc = run_for(c, outer, n, seq, depth0, &fr);
    c->frames = fr.prev;
    return rc;
}

static int exec_for(jctx *c, jscope *outer, const jnode *n) {
    jv seq;
    if (jinja_eval(c, outer, n->a, &seq)) return -1;
    return run_in_frame(c, outer, n, seq, 0);
}

int jinja_loop_call(jctx *c, const jnode *at, jloop *L, jv *args, size_t nargs, jv *out) {
    if (!L->rec_node) return jinja_err(c, at, "The loop must have the 'recursive' marker to be called recursively.");
    if (nargs != 1) return jinja_err(c, at, "loop() takes exactly one argument (%zu given)", nargs);
    if (c->depth >= c->lim.depth) return jinja_budget_err(c, at, "recursion", (unsigned long long)c->lim.depth, "nested calls", "depth=N");
    jbuf buf = {0}, *saved = c->out;
    c->out = &buf;
    c->depth++;
    int rc = run_in_frame(c, L->rec_scope, L->rec_node, args[0], L->depth0 + 1);
    c->depth--;
    c->out = saved;
    if (rc < 0 || buf.oom) { free(buf.p); return rc < 0 ? -1 : ft_err("out of memory"); }
    *out = jv_str_copy(c->a, buf.p ? buf.p : "", buf.n);
    free(buf.p);
    return 0;
}

// A value v stored into a container `holder` (a namespace, a loop's loop.changed memory) that
// is older than some running loop iterations outlives them: pin every running iteration for
// which v (or the holder's grown storage s1/s2, may be NULL) is young while the holder is not.
void jinja_pin_escape(jctx *c, const void *holder, const void *s1, const void *s2, jv v) {
    const void *p = NULL;
    switch (v.t) {
    case JV_STR: case JV_UNDEF: p = v.u.s.s; break;
    case JV_LIST: p = v.u.l; break;
    case JV_DICT: p = v.u.d; break;
    case JV_LOOP: p = v.u.loop; break;
    case JV_MACRO: p = v.u.m; break;
    case JV_METHOD: p = v.u.bm; break;
    default: break;
    }
    for (jframe *f = c->frames; f; f = f->prev) {
        if (f->pinned || ja_young(c->a, f->mark, holder)) continue;
        if ((p && ja_young(c->a, f->mark, p)) || (s1 && ja_young(c->a, f->mark, s1)) || (s2 && ja_young(c->a, f->mark, s2)))
            f->pinned = 1;
    }
}

// Render a body into a string, in an inner scope (as jinja2 does for block set and filter
// blocks: what they assign stays inside). 1/2: a break/continue left the enclosing loop.
static int capture(jctx *c, jscope *outer, const jnode *body, jv *out) {
    jscope *s = child_scope(c, outer);
    if (!s) return -1;
    jbuf buf = {0}, *saved = c->out;
    c->out = &buf;
    int rc = jinja_exec(c, s, body);
    c->out = saved;
    if (rc || buf.oom) { free(buf.p); return rc ? rc : ft_err("out of memory"); }
    *out = jv_str_copy(c->a, buf.p ? buf.p : "", buf.n);
    free(buf.p);
    return 0;
}

int jinja_exec(jctx *c, jscope *s, const jnode *n) {
    jv v;
    c->line = n->line;
    switch (n->kind) {
    case N_BODY:
        for (size_t i = 0; i < n->nargs; i++) {
            int rc = jinja_exec(c, s, n->args[i]);
            if (rc) return rc;
        }
        return 0;
    case N_TEXT:
        jb_put(c->out, n->lit.u.s.s, n->lit.u.s.n);
        return 0;
    case N_OUT:
        if (jinja_eval(c, s, n->a, &v)) return -1;
        jv_str(c->out, v);
        return 0;
    case N_IF:
        if (jinja_eval(c, s, n->a, &v)) return -1;
        if (jv_truthy(v)) return jinja_exec(c, s, n->b);
        return n->els ? jinja_exec(c, s, n->els) : 0;
    case N_FOR:
        return exec_for(c, s, n);
    case N_SET:
        if (jinja_eval(c, s, n->a, &v)) return -1;
        if (n->str2) {
            jv ns = jinja_lookup(s, n->str);
            if (ns.t != JV_DICT || !ns.u.d->ns)
                return jinja_err(c, n, "cannot assign attribute on non-namespace object '%s'", n->str);
            if (jd_set(c->a, ns.u.d, jv_strn(n->str2, strlen(n->str2)), v)) return -1;
            jinja_pin_escape(c, ns.u.d, ns.u.d->k, ns.u.d->v, v);
            return 0;
        }
        if (n->ntargets > 1) return bind_targets(c, n, s, v);   // {% set a, b = pair %}
        return set_var(c, s, n->str, v);
    case N_SETBLOCK: {
        int rc = capture(c, s, n->b, &v);
        if (rc) return rc;
        return set_var(c, s, n->str, v);
    }
    case N_MACRO: {
        jmacro *m = ja_alloc(c->a, sizeof *m);
        if (!m) return -1;
        m->def = n; m->closure = s;
        v.t = JV_MACRO; v.u.m = m;
        return set_var(c, s, n->str, v);
    }
    case N_CALLBLOCK: {
        jmacro *m = ja_alloc(c->a, sizeof *m);
        if (!m) return -1;
        m->def = n; m->closure = s; m->is_caller = 1;
        jv caller = {.t = JV_MACRO};
        caller.u.m = m;
        const jnode *call = n->a;
        jv fn, *args, *kwv;
        if (jinja_eval(c, s, call->a, &fn)) return -1;
        args = ja_alloc(c->a, (call->nargs + 1) * sizeof(jv));
        kwv = ja_alloc(c->a, (call->nkw + 1) * sizeof(jv));
        const char **kwn = ja_alloc(c->a, (call->nkw + 1) * sizeof(char *));
        if (!args || !kwv || !kwn) return -1;
        for (size_t i = 0; i < call->nargs; i++) if (jinja_eval(c, s, call->args[i], &args[i])) return -1;
        for (size_t i = 0; i < call->nkw; i++) {
            if (jinja_eval(c, s, call->kwv[i], &kwv[i])) return -1;
            kwn[i] = call->kwn[i];
        }
        kwn[call->nkw] = "caller"; kwv[call->nkw] = caller;
        if (jinja_call_value(c, call, fn, args, call->nargs, kwn, kwv, call->nkw + 1, &v)) return -1;
        jv_str(c->out, v);
        return 0;
    }
    case N_FILTERBLOCK: {
        jv body;
        int crc = capture(c, s, n->b, &body);
        if (crc) return crc;
        jnode *ph = n->c;   // placeholder literal at the bottom of the chain
        jv saved = ph->lit;
        ph->lit = body;
        int rc = jinja_eval(c, s, n->a, &v);
        ph->lit = saved;
        if (rc) return -1;
        jv_str(c->out, v);
        return 0;
    }
    case N_GENERATION: {
        if (c->out != c->root_out) return jinja_exec(c, s, n->b);   // inside a macro or block set
        size_t start = c->out->n;
        int rc = jinja_exec(c, s, n->b);
        if (rc < 0) return rc;
        if (c->nmarks + 2 > c->capmarks) {
            size_t cap = c->capmarks ? c->capmarks * 2 : 16;
            size_t *p = realloc(c->marks, cap * sizeof *p);
            if (!p) return ft_err("out of memory");
            c->marks = p; c->capmarks = cap;
        }
        c->marks[c->nmarks++] = start;
        c->marks[c->nmarks++] = c->out->n;
        return rc;
    }
    case N_BREAK: return 1;
    case N_CONTINUE: return 2;
    }
    return jinja_err(c, n, "not a statement");
}

// ---- public API -------------------------------------------------------------------------
// Defaults far above what a chat template needs (it loops over the messages, a few hundred;
// renders kilobytes; nests macros a few deep), low enough that a runaway template stops in
// about a second and well under the memory of a small machine.
void ft_jinja_limits_default(ft_jinja_limits *l) {
    l->iterations = 10000000;
    l->output = (size_t)64 << 20;
    l->items = 1000000;
    l->depth = 256;
    l->memory = (size_t)1 << 30;
}

static void limits_fill(ft_jinja_limits *l) {
    ft_jinja_limits d;
    ft_jinja_limits_default(&d);
    if (!l->iterations) l->iterations = d.iterations;
    if (!l->output) l->output = d.output;
    if (!l->items) l->items = d.items;
    if (l->depth <= 0) l->depth = d.depth;
    if (l->depth > FT_JINJA_MAX_DEPTH) l->depth = FT_JINJA_MAX_DEPTH;
    if (!l->memory) l->memory = d.memory;
}

int ft_jinja_limits_parse(const char *spec, ft_jinja_limits *l) {
    static const char *const keys[] = {"iterations", "output", "items", "depth", "memory", NULL};
    size_t sl = strlen(spec);
    if (!sl || spec[0] == ',' || spec[sl - 1] == ',' || strstr(spec, ",,"))
        return ft_err("template limit '%s': expected KEY=VALUE[,KEY=VALUE...]", spec);
    const char *p = spec;
    while (*p) {
        const char *eq = strchr(p, '='), *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        if (!eq || eq > end) return ft_err("template limit '%.*s': expected KEY=VALUE (keys: iterations, output, items, depth, memory)", (int)(end - p), p);
        int k = -1;
        for (int i = 0; keys[i]; i++)
            if ((size_t)(eq - p) == strlen(keys[i]) && !memcmp(p, keys[i], (size_t)(eq - p))) k = i;
        if (k < 0) return ft_err("template limit '%.*s': unknown key (keys: iterations, output, items, depth, memory)", (int)(eq - p), p);
        char num[32];
        size_t nl = (size_t)(end - eq - 1);
        if (!nl || nl >= sizeof num) return ft_err("template limit '%.*s': expected a positive number", (int)(end - p), p);
        memcpy(num, eq + 1, nl);
        num[nl] = 0;
        char *e;
        errno = 0;
        unsigned long long v = strtoull(num, &e, 10);
        if (errno) v = 0;   // out of range
        int shift = 0;
        if (*e && (k == 1 || k == 4) && !e[1]) shift = *e == 'k' || *e == 'K' ? 10 : *e == 'M' ? 20 : *e == 'G' ? 30 : -1;
        else if (*e) shift = -1;
        if (num[0] < '0' || num[0] > '9' || shift < 0 || !v || (shift && v > (~0ull >> shift)))
            return ft_err("template limit '%.*s': expected a positive number%s", (int)(end - p), p,
                          k == 1 || k == 4 ? " of bytes (k, M, G suffixes)" : "");
        v <<= shift;
        if (k == 0) l->iterations = v;
        else if (k == 3) {
            if (v > FT_JINJA_MAX_DEPTH) return ft_err("template limit depth=%llu: at most %d (the C stack)", v, FT_JINJA_MAX_DEPTH);
            l->depth = (int)v;
        } else {
            size_t z = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
            if (k == 1) l->output = z; else if (k == 2) l->items = z; else l->memory = z;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

void ft_jinja_set_limits(ft_jinja *t, const ft_jinja_limits *l) {
    if (l) t->lim = *l;
    else memset(&t->lim, 0, sizeof t->lim);
    limits_fill(&t->lim);
}

ft_jinja *ft_jinja_parse(const char *src, size_t len, const char *name) {
    ft_jinja *t = ft_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->name = ft_strdup(name ? name : "<template>");
    if (!t->name) { free(t); return NULL; }
    jtok *toks; size_t ntok;
    // jinja2's keep_trailing_newline=False (HF keeps the default): one final newline goes
    if (len && src[len - 1] == '\n') len -= 1 + (len > 1 && src[len - 2] == '\r');
    else if (len && src[len - 1] == '\r') len--;
    char *copy = ja_strndup(&t->ast, src, len);   // text tokens point into the source
    if (!copy || jinja_lex(&t->ast, copy, len, t->name, &toks, &ntok) ||
        !(t->root = jinja_parse_tokens(&t->ast, toks, ntok, t->name))) {
        ft_jinja_free(t);
        return NULL;
    }
    for (size_t i = 0; i + 1 < ntok; i++)
        if (toks[i].t == TK_BBEGIN && toks[i + 1].t == TK_NAME && toks[i + 1].n == 10 && !memcmp(toks[i + 1].s, "generation", 10))
            t->has_generation = 1;
    ft_jinja_set_limits(t, NULL);
    return t;
}

int ft_jinja_has_generation(const ft_jinja *t) { return t->has_generation; }

static int add_func(jctx *c, jscope *s, const char *name, int id) {
    jv f = {.t = JV_FUNC};
    f.u.i = id;
    return set_var(c, s, name, f);
}

// What stopped a render in a place without the context, as the message the user sees.
static int fail_msg(const jctx *c, const ft_jinja_limits *l, int fail, size_t held) {
    char loc[300];   // before the first statement (the record's values themselves): no line
    if (c->line) snprintf(loc, sizeof loc, "%s:%d", c->name, c->line);
    else snprintf(loc, sizeof loc, "%s", c->name);
    if (fail == JFAIL_OOM) return ft_err("%s: out of memory while rendering (%zu MiB of template values held)", loc, held >> 20);
    const char *key = fail == JFAIL_MEMORY ? "memory=BYTES" : fail == JFAIL_ITEMS ? "items=N" : "output=BYTES";
    unsigned long long v = fail == JFAIL_MEMORY ? l->memory : fail == JFAIL_ITEMS ? l->items : l->output;
    return ft_err("%s: template exceeded the %s budget (%llu %s); raise it with --template-limit %s", loc,
                  fail == JFAIL_MEMORY ? "memory" : fail == JFAIL_ITEMS ? "list/dict size" : "output", v,
                  fail == JFAIL_ITEMS ? "items" : "bytes", key);
}

static int render(ft_jinja *t, jctx *c, const json_t *vars) {
    jscope *builtins = child_scope(c, NULL);
    jscope *root = builtins ? child_scope(c, builtins) : NULL;
    if (!root) return -1;
    if (add_func(c, builtins, "range", JF_RANGE) || add_func(c, builtins, "namespace", JF_NAMESPACE) ||
        add_func(c, builtins, "dict", JF_DICT) || add_func(c, builtins, "raise_exception", JF_RAISE) ||
        add_func(c, builtins, "strftime_now", JF_STRFTIME))
        return -1;
    if (vars && json_is_object(vars)) {
        const char *k; json_t *v;
        json_object_foreach((json_t *)vars, k, v)
            if (set_var(c, root, k, jv_from_json(c->a, v))) return -1;
    }
    c->globals = root;
    return jinja_exec(c, root, t->root);
}

int ft_jinja_render_marked(ft_jinja *t, const json_t *vars, char **out, size_t *out_len, size_t **marks, size_t *nmarks) {
    ja_reset(&t->run);
    jbuf buf = {0};
    jctx c = {.a = &t->run, .name = t->name, .out = &buf, .root_out = &buf, .lim = t->lim,
              .stack0 = (uintptr_t)__builtin_frame_address(0)};
    if (marks) { *marks = NULL; *nmarks = 0; }
    jrun_state saved = jrun;
    jrun = (jrun_state){.memory = t->lim.memory, .items = t->lim.items, .output = t->lim.output};
    int rc = render(t, &c, vars), fail = jrun.fail;
    jrun = saved;
    if (rc < 0 || buf.oom || fail) {
        free(buf.p);
        free(c.marks);
        if (fail) fail_msg(&c, &t->lim, fail, t->run.bytes);
        else if (rc >= 0) ft_err("%s: out of memory while rendering", t->name);
        ja_reset(&t->run);   // a failed render does not keep its memory until the next one
        return -1;
    }
    if (!buf.p) { buf.p = ft_strdup(""); if (!buf.p) { free(c.marks); return -1; } }
    ja_reset(&t->run);
    *out = buf.p;
    *out_len = buf.n;
    if (marks) { *marks = c.marks; *nmarks = c.nmarks / 2; }
    else free(c.marks);
    return 0;
}

int ft_jinja_render(ft_jinja *t, const json_t *vars, char **out, size_t *out_len) {
    return ft_jinja_render_marked(t, vars, out, out_len, NULL, NULL);
}

void ft_jinja_free(ft_jinja *t) {
    if (!t) return;
    ja_free(&t->ast);
    ja_free(&t->run);
    free(t->name);
    free(t);
}
