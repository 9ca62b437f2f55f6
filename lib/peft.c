// peft.c — adapter directories of every type on a model (see peft.h).
#include "peft.h"
#include "bottleneck.h"
#include "err.h"
#include "io.h"
#include "json_get.h"
#include "lora.h"
#include "safetensors.h"
#include "virtual.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_LORA, P_VIRTUAL, P_BOTTLENECK };

struct ft_peft {
    int kind;
    ft_adapter *lora;
    ft_virtual *virt;
    ft_bottleneck_set *bn;
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

int ft_peft_type(const char *dir, char *buf, size_t cap) {
    char path[4096];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    json_t *c = ft_peft_config_read(path);
    if (!c) return -1;
    const char *t = NULL;
    int rc = ft_json_get_str(c, "peft_type", path, NULL, &t);
    if (rc == 0) rc = ft_err("%s: no \"peft_type\" string (is this an adapter directory?)", path);
    else if (rc > 0) { snprintf(buf, cap, "%s", t); rc = 0; }
    json_decref(c);
    return rc;
}

int ft_peft_apply(ft_model *m, const char *dir, ft_peft **out) {
    *out = NULL;
    char type[64];
    if (ft_peft_type(dir, type, sizeof type)) return -1;
    ft_peft *p = ft_calloc(1, sizeof *p);
    if (!p) return -1;
    int rc;
    if (!strcmp(type, "LORA")) {
        p->kind = P_LORA;
        rc = ft_adapter_apply(m, dir, &p->lora);
        if (!rc && !p->lora) {   // merged into the base weights: nothing to hold
            free(p);
            return 0;
        }
    } else if (!strcmp(type, "PROMPT_TUNING") || !strcmp(type, "PREFIX_TUNING")) {
        p->kind = P_VIRTUAL;
        rc = m->virt ? ft_err("%s: the model already has virtual tokens (one prompt/prefix adapter at a time)", dir)
                     : ft_virtual_apply(m, dir, &p->virt);
    } else if (!strcmp(type, "BOTTLENECK")) {
        p->kind = P_BOTTLENECK;
        rc = ft_bottleneck_apply(m, dir, &p->bn);
    } else {
        rc = ft_err("%s/adapter_config.json: peft_type %s is not supported (LORA, PROMPT_TUNING, PREFIX_TUNING, BOTTLENECK)",
                    dir, type);
    }
    if (rc) {
        free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void ft_peft_destroy(ft_peft *p) {
    if (!p) return;
    ft_adapter_destroy(p->lora);
    ft_virtual_destroy(p->virt);
    ft_bottleneck_destroy(p->bn);
    free(p);
}
