// peft.c — adapter directories of every type on a model (see peft.h), dispatched through
// the PEFT kind table (peft_kind.h) on adapter_config.json's peft_type.
#include "peft/peft.h"
#include "core/err.h"
#include "core/io.h"
#include "core/json_get.h"
#include "peft/peft_kind.h"
#include "format/safetensors.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ft_peft {
    const ft_peft_kind *kind;   // the row that loaded it
    void *held;                 // what kind->release frees
};

json_t *ft_peft_config_read(const char *path) {
    char *text = NULL;
    size_t len = 0;
    if (ft_read_all(path, &text, &len)) return NULL;
    json_error_t je;
    json_t *c = json_loadb(text, len, 0, &je);
    free(text);
    if (!c) {
        ft_err("%s:%d: %s", path, je.line, je.text);
        return NULL;
    }
    if (!json_is_object(c)) {
        json_decref(c);
        ft_err("%s:1: expected a JSON object", path);
        return NULL;
    }
    return c;
}

int ft_peft_config_write(const char *path, json_t *c) {
    char *text = c ? json_dumps(c, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(c);
    if (!text) return ft_err("%s: out of memory", path);
    size_t tl = strlen(text);
    text[tl] = '\n';   // replaces the NUL (the buffer is tl+1 bytes); written as tl+1 bytes
    int rc = ft_write_all(path, text, tl + 1);
    free(text);
    return rc;
}

// The HF dir a base path stands for (itself; a .safetensors file's directory), absolute; a
// name that is no path (a hub id) as it is; NULL for a GGUF file (transformers and PEFT cannot
// load it).
static char *hf_dir_of(const char *base) {
    struct stat sb;
    if (stat(base, &sb)) return ft_strdup(base);
    char *d = NULL;
    size_t n = strlen(base);
    if (S_ISDIR(sb.st_mode)) d = ft_strdup(base);
    else if (n > 12 && !strcmp(base + n - 12, ".safetensors")) {
        const char *slash = strrchr(base, '/');
        d = slash ? strndup(base, (size_t)(slash - base)) : ft_strdup(".");
    }
    if (!d) return NULL;
    char *abs = realpath(d, NULL);
    free(d);
    return abs;
}

void ft_peft_set_base(json_t *c, const char *base_model) {
    char *hf = base_model ? hf_dir_of(base_model) : NULL;
    const char *val = hf ? hf : NULL;
    json_t *tok = json_object_get(c, "tokenizer_name_or_path");
    if (tok && json_is_string(tok) && base_model && !strcmp(json_string_value(tok), base_model))
        json_object_set_new(c, "tokenizer_name_or_path", val ? json_string(val) : json_null());
    json_object_set_new(c, "base_model_name_or_path", val ? json_string(val) : json_null());
    free(hf);
}

int ft_peft_set_base_name(const char *dir, const char *name) {
    char *path = ft_path_join(dir, "adapter_config.json");
    if (!path) return -1;
    json_t *c = ft_peft_config_read(path);
    int rc = -1;
    if (c) {
        json_t *tok = json_object_get(c, "tokenizer_name_or_path");
        if (tok && !json_is_null(tok)) json_object_set_new(c, "tokenizer_name_or_path", json_string(name));
        json_object_set_new(c, "base_model_name_or_path", json_string(name));
        rc = ft_peft_config_write(path, c);
    }
    free(path);
    return rc;
}

int ft_peft_save_dir(const char *dir, json_t *config, st_writer *w) {
    char cpath[4096], wpath[4096];
    snprintf(cpath, sizeof cpath, "%s/adapter_config.json", dir);
    snprintf(wpath, sizeof wpath, "%s/adapter_model.safetensors", dir);
    int rc = -1;
    if (!config || !w) ft_err("%s: out of memory", dir);
    else if (!ft_mkdirs(dir) && !st_writer_meta(w, "format", "pt") && !st_writer_write(w, wpath)) {
        rc = ft_peft_config_write(cpath, config);
        config = NULL;   // consumed
    }
    json_decref(config);
    st_writer_free(w);
    return rc;
}

const ft_peft_kind *ft_peft_kind_of_dir(const char *dir, json_t **config, int for_merge) {
    *config = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    json_t *c = ft_peft_config_read(path);
    if (!c) return NULL;
    const char *t = NULL;
    int rc = ft_json_get_str(c, "peft_type", path, NULL, &t);
    if (rc == 0) ft_err("%s: no \"peft_type\" string (is this an adapter directory?)", path);
    const ft_peft_kind *k = rc <= 0 ? NULL : for_merge ? ft_peft_kind_for_merge(t, path) : ft_peft_kind_by_type(t, path);
    if (k) *config = c;
    else json_decref(c);
    return k;
}

int ft_peft_apply(ft_model *m, const char *dir, ft_peft **out) {
    *out = NULL;
    json_t *c = NULL;
    const ft_peft_kind *k = ft_peft_kind_of_dir(dir, &c, 0);
    json_decref(c);
    if (!k) return -1;
    void *held = NULL;
    if (k->apply(m, dir, &held)) return -1;
    if (!held) return 0;   // e.g. a further LoRA merged into the base weights: nothing to hold
    ft_peft *p = ft_calloc(1, sizeof *p);
    if (!p) {
        k->release(held);
        return -1;
    }
    p->kind = k;
    p->held = held;
    *out = p;
    return 0;
}

void ft_peft_destroy(ft_peft *p) {
    if (!p) return;
    p->kind->release(p->held);
    free(p);
}
