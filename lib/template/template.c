// template.c — where a chat template comes from and how it is rendered: built-in names,
// FILE.jinja, HF model dirs (chat_template.jinja, chat_template.json, tokenizer_config.json
// with a string or a named list, bos/eos as strings or AddedToken objects), GGUF files
// (tokenizer.chat_template + the bos/eos token strings), and "auto" from --model.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "format/gguf.h"
#include "core/io.h"
#include "template/jinja.h"
#include "template/template.h"

struct ft_template {
    ft_jinja *j;
    char *name, *src, *bos, *eos;
};

const char *ft_template_name(const ft_template *t) { return t->name; }
const char *ft_template_source(const ft_template *t) { return t->src; }
const char *ft_template_bos(const ft_template *t) { return t->bos; }
const char *ft_template_eos(const ft_template *t) { return t->eos; }

ft_template *ft_template_from_string(const char *src, size_t len, const char *name, const char *bos, const char *eos) {
    ft_template *t = ft_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->name = ft_strdup(name);
    t->src = ft_malloc(len + 1);
    t->bos = ft_strdup(bos ? bos : "");
    t->eos = ft_strdup(eos ? eos : "");
    if (!t->name || !t->src || !t->bos || !t->eos) { ft_template_free(t); return NULL; }
    memcpy(t->src, src, len);
    t->src[len] = 0;
    if (!(t->j = ft_jinja_parse(src, len, name))) { ft_template_free(t); return NULL; }
    return t;
}

void ft_template_free(ft_template *t) {
    if (!t) return;
    ft_jinja_free(t->j);
    free(t->name); free(t->src); free(t->bos); free(t->eos);
    free(t);
}

int ft_template_set_tokens(ft_template *t, const char *bos, const char *eos) {
    if (bos) { char *p = ft_strdup(bos); if (!p) return -1; free(t->bos); t->bos = p; }
    if (eos) { char *p = ft_strdup(eos); if (!p) return -1; free(t->eos); t->eos = p; }
    return 0;
}

void ft_template_set_limits(ft_template *t, const ft_jinja_limits *l) { ft_jinja_set_limits(t->j, l); }

int ft_template_has_generation(const ft_template *t) { return ft_jinja_has_generation(t->j); }

int ft_template_render(ft_template *t, const json_t *messages, const json_t *extra, int add_generation_prompt,
                       char **out, size_t *len) {
    return ft_template_render_marked(t, messages, extra, add_generation_prompt, out, len, NULL, NULL);
}

int ft_template_render_marked(ft_template *t, const json_t *messages, const json_t *extra, int add_generation_prompt,
                              char **out, size_t *len, size_t **marks, size_t *nmarks) {
    json_t *vars = json_object();
    if (!vars) return ft_err("out of memory");
    if (extra && json_is_object(extra)) json_object_update(vars, (json_t *)extra);
    json_object_set(vars, "messages", (json_t *)messages);
    json_object_set_new(vars, "bos_token", json_string(t->bos));
    json_object_set_new(vars, "eos_token", json_string(t->eos));
    json_object_set_new(vars, "add_generation_prompt", json_boolean(add_generation_prompt));
    int rc = ft_jinja_render_marked(t->j, vars, out, len, marks, nmarks);
    json_decref(vars);
    return rc;
}

// ---- sources ----------------------------------------------------------------------------
static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}
static int is_dir(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }
static int exists(const char *p) { struct stat st; return stat(p, &st) == 0; }

// "bos_token": "<s>" or {"content": "<s>", ...}
static const char *token_str(const json_t *v) {
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_object(v) && json_is_string(json_object_get(v, "content"))) return json_string_value(json_object_get(v, "content"));
    return NULL;
}

// chat_template as a string, or a list of {"name","template"} (picks "default", else the first)
static const char *pick_template(const json_t *ct, const char *path) {
    if (json_is_string(ct)) return json_string_value(ct);
    if (json_is_array(ct)) {
        const char *first = NULL;
        size_t i; json_t *e;
        json_array_foreach(ct, i, e) {
            const char *tpl = json_string_value(json_object_get(e, "template"));
            const char *nm = json_string_value(json_object_get(e, "name"));
            if (!tpl) continue;
            if (nm && !strcmp(nm, "default")) return tpl;
            if (!first) first = tpl;
        }
        if (first) return first;
    }
    ft_err("%s: chat_template is neither a string nor a list of {name, template}", path);
    return NULL;
}

static ft_template *load_tokenizer_config(const char *path, const char *tpl_override, const char *tpl_name) {
    json_error_t e;
    if (!exists(path)) { ft_err("%s: no such file or directory", path); return NULL; }
    json_t *cfg = json_load_file(path, 0, &e);
    if (!cfg) { ft_err("%s:%d: invalid JSON: %s", path, e.line, e.text); return NULL; }
    const char *bos = token_str(json_object_get(cfg, "bos_token"));
    const char *eos = token_str(json_object_get(cfg, "eos_token"));
    const char *src = tpl_override;
    if (!src) {
        json_t *ct = json_object_get(cfg, "chat_template");
        if (!ct) { json_decref(cfg); ft_err("%s: no chat_template in it; pick one with --template chatml|llama3|...", path); return NULL; }
        if (!(src = pick_template(ct, path))) { json_decref(cfg); return NULL; }
    }
    ft_template *t = ft_template_from_string(src, strlen(src), tpl_name ? tpl_name : path, bos, eos);
    json_decref(cfg);
    return t;
}

static ft_template *load_dir(const char *dir) {
    char *cfg = ft_path_join(dir, "tokenizer_config.json");
    char *jinja = ft_path_join(dir, "chat_template.jinja");
    char *cjson = ft_path_join(dir, "chat_template.json");
    ft_template *t = NULL;
    char *src = NULL; size_t len;
    if (!cfg || !jinja || !cjson) goto out;
    if (exists(jinja)) {
        if (ft_read_all(jinja, &src, &len)) goto out;
        if (exists(cfg)) t = load_tokenizer_config(cfg, src, jinja);
        else t = ft_template_from_string(src, len, jinja, NULL, NULL);
    } else if (exists(cjson)) {
        json_error_t e;
        json_t *j = json_load_file(cjson, 0, &e);
        if (!j) { ft_err("%s:%d: invalid JSON: %s", cjson, e.line, e.text); goto out; }
        const char *s = pick_template(json_object_get(j, "chat_template"), cjson);
        if (s) t = exists(cfg) ? load_tokenizer_config(cfg, s, cjson) : ft_template_from_string(s, strlen(s), cjson, NULL, NULL);
        json_decref(j);
    } else if (exists(cfg)) {
        t = load_tokenizer_config(cfg, NULL, NULL);
    } else {
        ft_err("%s: no tokenizer_config.json or chat_template.jinja in this directory", dir);
    }
out:
    free(cfg); free(jinja); free(cjson); free(src);
    return t;
}

static char *gguf_token(const gguf_file *g, const char *id_key) {
    uint64_t id, n;
    const gguf_value *arr;
    if (gguf_get_u64(g, id_key, &id) || gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &n, &arr) || id >= n) {
        ft_err_clear();
        return NULL;
    }
    uint64_t len;
    const char *s = gguf_arr_str(arr, id, &len);
    if (!s) return NULL;
    char *p = malloc(len + 1);
    if (p) { memcpy(p, s, len); p[len] = 0; }
    return p;
}

static ft_template *load_gguf(const char *path) {
    gguf_file *g = gguf_open(path);
    if (!g) return NULL;
    char *src = NULL;
    if (gguf_get_str(g, "tokenizer.chat_template", &src)) {
        gguf_close(g);
        ft_err("%s: no tokenizer.chat_template in this GGUF; pick one with --template chatml|llama3|...", path);
        return NULL;
    }
    char *bos = gguf_token(g, "tokenizer.ggml.bos_token_id"), *eos = gguf_token(g, "tokenizer.ggml.eos_token_id");
    char name[4096];
    snprintf(name, sizeof name, "%s:tokenizer.chat_template", path);
    ft_template *t = ft_template_from_string(src, strlen(src), name, bos, eos);
    free(src); free(bos); free(eos);
    gguf_close(g);
    return t;
}

static ft_template *load_model(const char *m) {
    if (!exists(m)) { ft_err("%s: no such file or directory", m); return NULL; }
    if (is_dir(m)) return load_dir(m);
    if (ends_with(m, ".gguf")) return load_gguf(m);
    if (ends_with(m, ".json")) return load_tokenizer_config(m, NULL, NULL);
    ft_err("%s: not a model directory, .gguf or tokenizer_config.json", m);
    return NULL;
}

// Only the special tokens of a model (its chat template, if any, is not needed).
static ft_template *load_tokens(const char *m) {
    if (!exists(m)) { ft_err("%s: no such file or directory", m); return NULL; }
    if (ends_with(m, ".gguf")) {
        gguf_file *g = gguf_open(m);
        if (!g) return NULL;
        char *bos = gguf_token(g, "tokenizer.ggml.bos_token_id"), *eos = gguf_token(g, "tokenizer.ggml.eos_token_id");
        ft_template *t = ft_template_from_string("", 0, m, bos, eos);
        free(bos); free(eos);
        gguf_close(g);
        return t;
    }
    if (is_dir(m)) {
        char *cfg = ft_path_join(m, "tokenizer_config.json");
        ft_template *t = cfg ? load_tokenizer_config(cfg, "", NULL) : NULL;
        free(cfg);
        return t;
    }
    return load_tokenizer_config(m, "", NULL);
}

int ft_template_of_model(const char *model, ft_template **out) {
    *out = NULL;
    if (ends_with(model, ".gguf") && !is_dir(model)) {
        gguf_file *g = gguf_open(model);
        if (!g) return -1;
        int has = gguf_find(g, "tokenizer.chat_template") != NULL;
        gguf_close(g);
        if (!has) return 0;
    } else if (is_dir(model)) {
        char *cfg = ft_path_join(model, "tokenizer_config.json");
        char *jinja = ft_path_join(model, "chat_template.jinja");
        char *cjson = ft_path_join(model, "chat_template.json");
        int has = -1;
        if (cfg && jinja && cjson) {
            has = exists(jinja) || exists(cjson);
            if (!has && exists(cfg)) {   // a tokenizer_config.json without chat_template: none
                json_error_t e;
                json_t *c = json_load_file(cfg, 0, &e);
                if (!c) ft_err("%s:%d: invalid JSON: %s", cfg, e.line, e.text), has = -1;
                else has = json_object_get(c, "chat_template") != NULL;
                json_decref(c);
            }
        } else ft_err("out of memory");
        free(cfg); free(jinja); free(cjson);
        if (has <= 0) return has;
    } else {
        return 0;   // a weights file: no template beside it is looked for
    }
    return (*out = load_model(model)) ? 0 : -1;
}

ft_template *ft_template_load(const char *spec, const char *model) {
    if (!spec || !strcmp(spec, "auto")) {
        if (!model) { ft_err("--template auto needs --model MODEL (a model dir or .gguf)"); return NULL; }
        return load_model(model);
    }
    const char *bos, *eos;
    const char *b = ft_template_builtin_source(spec, &bos, &eos);
    if (b && !exists(spec)) return ft_template_from_string(b, strlen(b), spec, bos, eos);
    if (!exists(spec)) {
        ft_err("%s: no such file, and not a built-in template (chatml, llama2, llama3, mistral, gemma, phi3, zephyr, alpaca, vicuna)", spec);
        return NULL;
    }
    if (is_dir(spec) || ends_with(spec, ".gguf") || ends_with(spec, ".json")) return load_model(spec);
    char *src; size_t len;
    if (ft_read_all(spec, &src, &len)) return NULL;
    ft_template *t = ft_template_from_string(src, len, spec, NULL, NULL);
    free(src);
    if (t && model) {   // a template file with --model: take the model's special tokens
        ft_template *m = load_tokens(model);
        if (!m || ft_template_set_tokens(t, m->bos, m->eos)) { ft_template_free(m); ft_template_free(t); return NULL; }
        ft_template_free(m);
    }
    return t;
}
