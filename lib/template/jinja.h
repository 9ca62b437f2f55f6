// jinja.h — a Jinja2 subset interpreter that renders chat templates like HF
// `apply_chat_template` (jinja2 sandbox, trim_blocks, lstrip_blocks, loopcontrols,
// tojson with ensure_ascii=False, raise_exception, strftime_now, {% generation %}).
// Parse once, render many times; template errors carry "NAME:LINE: what".
#ifndef FT_JINJA_H
#define FT_JINJA_H

#include <jansson.h>
#include <stddef.h>

typedef struct ft_jinja ft_jinja;

// The budget of one rendering: a template is a program and a record is its input, so both
// are bounded. 0 in a field means the default. Exceeding one ends the render with an error
// naming it: "NAME:LINE: template exceeded the loop budget (10000000 iterations); raise it
// with --template-limit iterations=N".
typedef struct {
    unsigned long long iterations;   // loop body runs, all loops together (10,000,000)
    size_t output;                   // bytes of the output and of any string built (64 MiB)
    size_t items;                    // elements of one list or dict (1,000,000)
    int depth;                       // macro call nesting (256; at most FT_JINJA_MAX_DEPTH)
    size_t memory;                   // bytes of values alive at once (1 GiB)
} ft_jinja_limits;
#define FT_JINJA_MAX_DEPTH 1024
// Fill *l with the defaults.
void ft_jinja_limits_default(ft_jinja_limits *l);
// Parse "iterations=N,output=BYTES,items=N,depth=N,memory=BYTES" (any subset; BYTES may end
// in k, M or G, powers of 1024) over *l. -1 + ft_err naming the bad part.
int ft_jinja_limits_parse(const char *s, ft_jinja_limits *l);
// Use *l (NULL: the defaults) for the renders of t from now on.
void ft_jinja_set_limits(ft_jinja *t, const ft_jinja_limits *l);

// Parse a template. `name` is used in messages ("chatml.jinja:3: unexpected 'endfor'").
// NULL + ft_err on a syntax error.
ft_jinja *ft_jinja_parse(const char *src, size_t len, const char *name);

// Render with the keys of the JSON object `vars` as template globals (messages, bos_token,
// add_generation_prompt, tools, ...). On success *out is a malloc'd NUL-terminated string
// (caller frees) and *out_len its length. -1 + ft_err "NAME:LINE: what" on a template
// error; raise_exception(msg) gives "NAME:LINE: msg".
int ft_jinja_render(ft_jinja *t, const json_t *vars, char **out, size_t *out_len);

// Same, and the [start, end) byte ranges of the output that {% generation %} blocks produced
// (HF's assistant-token mask): *marks holds 2 * *nmarks offsets, malloc'd (NULL when none).
int ft_jinja_render_marked(ft_jinja *t, const json_t *vars, char **out, size_t *out_len, size_t **marks,
                           size_t *nmarks);
int ft_jinja_has_generation(const ft_jinja *t);

void ft_jinja_free(ft_jinja *t);

#endif
