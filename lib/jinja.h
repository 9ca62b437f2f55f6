// jinja.h — a Jinja2 subset interpreter that renders chat templates like HF
// `apply_chat_template` (jinja2 sandbox, trim_blocks, lstrip_blocks, loopcontrols,
// tojson with ensure_ascii=False, raise_exception, strftime_now, {% generation %}).
// Parse once, render many times; template errors carry "NAME:LINE: what".
#ifndef FT_JINJA_H
#define FT_JINJA_H

#include <jansson.h>
#include <stddef.h>

typedef struct ft_jinja ft_jinja;

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
