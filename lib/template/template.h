// template.h — chat templates for ft-template: where a template comes from (built-in name,
// FILE.jinja, HF model dir / tokenizer_config.json, GGUF), rendering a conversation as HF
// apply_chat_template does, and turning input records into segment JSONL with the loss
// spans derived from the rendering itself.
#ifndef FT_TEMPLATE_H
#define FT_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "template/jinja.h"

typedef struct ft_template ft_template;

// spec: a built-in name (chatml, llama2, llama3, mistral, gemma, phi3, zephyr, alpaca,
// vicuna), a .jinja file, a model dir, a tokenizer_config.json, a .gguf, or "auto" (use
// `model`, which may itself be a dir or .gguf). NULL + ft_err when nothing usable is found.
ft_template *ft_template_load(const char *spec, const char *model);
// The chat template a model carries: a model dir's chat_template.jinja, chat_template.json or
// tokenizer_config.json "chat_template" (bos/eos from tokenizer_config.json), or a .gguf's
// tokenizer.chat_template. 0 with *out = NULL when it has none (or `model` is neither a dir
// nor a .gguf); -1 + ft_err when one is there but cannot be read or parsed.
int ft_template_of_model(const char *model, ft_template **out);
// From Jinja source; bos/eos may be NULL ("").
ft_template *ft_template_from_string(const char *src, size_t len, const char *name, const char *bos, const char *eos);
void ft_template_free(ft_template *t);
// Override the special-token strings the template sees (NULL keeps the current one).
int ft_template_set_tokens(ft_template *t, const char *bos, const char *eos);
// The budget of each rendering (NULL: the defaults, see ft_jinja_limits in jinja.h).
void ft_template_set_limits(ft_template *t, const ft_jinja_limits *l);
const char *ft_template_name(const ft_template *t);
// The bos_token / eos_token strings the template sees ("" when its source names none).
const char *ft_template_bos(const ft_template *t);
const char *ft_template_eos(const ft_template *t);
const char *ft_template_source(const ft_template *t);

// Render `messages` (a JSON array) with optional `tools` (NULL or any JSON value) and any
// extra variables in `extra` (object or NULL). *out malloc'd. -1 + ft_err on template error.
int ft_template_render(ft_template *t, const json_t *messages, const json_t *extra, int add_generation_prompt,
                       char **out, size_t *len);

// Same, with the {% generation %} ranges (see ft_jinja_render_marked); has_generation: the
// template has such blocks, and then they define the loss spans.
int ft_template_render_marked(ft_template *t, const json_t *messages, const json_t *extra, int add_generation_prompt,
                              char **out, size_t *len, size_t **marks, size_t *nmarks);
int ft_template_has_generation(const ft_template *t);

// Built-ins: NULL-terminated list of names; Jinja source of one (NULL if unknown).
const char *const *ft_template_builtin_names(void);
const char *ft_template_builtin_source(const char *name, const char **bos, const char **eos);

// ---- records -> segments ----------------------------------------------------------------
enum { FT_FMT_AUTO, FT_FMT_MESSAGES, FT_FMT_SHAREGPT, FT_FMT_ALPACA, FT_FMT_COMPLETION, FT_FMT_TEXT };
int ft_template_parse_format(const char *s);   // -1 when unknown

typedef struct {
    int format;               // FT_FMT_*
    int train_on_inputs;      // everything trainable
    int last_turn_only;       // only the final assistant turn trainable
    int generation_prompt;    // hold out a final assistant message as "reference", add_generation_prompt
    const char *system;       // add or replace the system message (NULL: leave)
} ft_template_opts;

// Convert one input record into {"segments":[{"text","train"}...], passthrough fields...}.
// Returns 0 (*out set), -2 bad record (message set: the reason, without FILE:LINE), -1 fatal.
// *n_unlocated (may be NULL) counts assistant messages the rendering drops or rewrites
// beyond recognition (they get no loss; the caller reports them).
int ft_template_record(ft_template *t, const ft_template_opts *o, const json_t *rec, json_t **out, int *n_unlocated);

// Preference pairs (template_pair.c): 1 when rec has "chosen" or "rejected". ft_template_pair
// converts one into {"chosen":{"segments":[...]},"rejected":{"segments":[...]}, passthrough}
// (with o->generation_prompt: the prompt's {"segments"} and the chosen answer as "reference");
// returns as ft_template_record (-2: bad record, e.g. a missing side, an empty completion, an
// implicit prompt that differs between the sides). ft_template_record calls it for such records.
int ft_template_is_pair(const json_t *rec);
int ft_template_pair(ft_template *t, const ft_template_opts *o, const json_t *rec, json_t **out);

// One output record as a compact JSON line (no newline), segments first as produced.
// malloc'd; NULL + ft_err on failure.
char *ft_template_dump(const json_t *rec);

// Loss spans of a rendering: byte ranges [start, end) of `text` that are trainable.
typedef struct { size_t start, end; } ft_span;
// For a conversation (messages already normalized), render and derive the spans of every
// assistant message (content + closing marker). *spans malloc'd, *nspans set.
int ft_template_spans(ft_template *t, const json_t *messages, const json_t *extra, char **text, size_t *len,
                      ft_span **spans, size_t *nspans, int *n_unlocated);

#endif
