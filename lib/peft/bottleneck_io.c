// bottleneck_io.c — the on-disk layout of bottleneck adapters (docs/formats.md): PEFT's two
// files with ft's own peft_type:
//   DIR/adapter_config.json        {"peft_type": "BOTTLENECK", "task_type": "CAUSAL_LM",
//                                   "adapter_dim", "adapter_where": ["attn", "mlp"],
//                                   "adapter_act", "num_layers", "hidden_size", ...}
//   DIR/adapter_model.safetensors  base_model.model.model.layers.N.self_attn.o_proj.adapter_down.weight (d, C)
//                                  ....adapter_down.bias (d), ....adapter_up.weight (C, d),
//                                  ....adapter_up.bias (C); the mlp site under mlp.down_proj
// Loading checks peft_type, the config against the model, every tensor's presence, shape,
// dtype (F32/F16/BF16) and finiteness, and refuses tensors it does not know.
#include "model/bottleneck.h"
#include "peft/peft.h"
#include "peft/peft_kind.h"
#include "core/err.h"
#include "core/io.h"
#include "core/json_get.h"
#include "format/safetensors.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const PART[4] = {"adapter_down.weight", "adapter_down.bias", "adapter_up.weight",
                                    "adapter_up.bias"};

// Tensor k (0..3, PART order) of a site: data pointer and shape.
static float *part(ft_bottleneck *b, int k, uint64_t shape[2], int *n_dims) {
    switch (k) {
    case 0: shape[0] = (uint64_t)b->d; shape[1] = (uint64_t)b->C; *n_dims = 2; return b->down_w;
    case 1: shape[0] = (uint64_t)b->d; shape[1] = 1; *n_dims = 1; return b->down_b;
    case 2: shape[0] = (uint64_t)b->C; shape[1] = (uint64_t)b->d; *n_dims = 2; return b->up_w;
    default: shape[0] = (uint64_t)b->C; shape[1] = 1; *n_dims = 1; return b->up_b;
    }
}

int ft_bottleneck_save(const ft_bottleneck_set *s, const char *dir, const char *base_model) {
    if (!s->model) return ft_err("%s: bottleneck adapter is not attached to a model", dir);
    json_t *c = json_object();
    json_t *where = json_array(), *targets = json_array();
    if (s->cfg.where & FT_BN_ATTN) {
        json_array_append_new(where, json_string("attn"));
        json_array_append_new(targets, json_string("o_proj"));
    }
    if (s->cfg.where & FT_BN_MLP) {
        json_array_append_new(where, json_string("mlp"));
        json_array_append_new(targets, json_string("down_proj"));
    }
    json_object_set_new(c, "peft_type", json_string(ft_peft_bottleneck.peft_type));
    json_object_set_new(c, "task_type", json_string("CAUSAL_LM"));
    json_object_set_new(c, "adapter_dim", json_integer(s->cfg.dim));
    json_object_set_new(c, "adapter_where", where);
    json_object_set_new(c, "target_modules", targets);
    json_object_set_new(c, "adapter_act", json_string(ft_bottleneck_act_name(s->cfg.act)));
    json_object_set_new(c, "adapter_residual", json_string("h + up(act(down(h)))"));
    json_object_set_new(c, "num_layers", json_integer(s->model->cfg.n_layers));
    json_object_set_new(c, "hidden_size", json_integer(s->model->cfg.hidden));
    json_object_set_new(c, "inference_mode", json_true());
    json_object_set_new(c, "base_model_name_or_path", base_model ? json_string(base_model) : json_null());
    ft_peft_set_base(c, base_model);
    json_object_set_new(c, "revision", json_null());
    st_writer *w = st_writer_new();
    if (!w) { json_decref(c); return ft_err("%s: out of memory", dir); }
    FT_BN_FOR_SITES(s, l, wh, b) {
        char mod[160], key[224];
        ft_bottleneck_module_name(l, wh, mod, sizeof mod);
        for (int k = 0; k < 4; k++) {
            uint64_t shape[2];
            int nd;
            float *data = part(b, k, shape, &nd);
            snprintf(key, sizeof key, "%s.%s", mod, PART[k]);
            if (st_writer_add(w, key, ST_F32, nd, shape, data)) {
                st_writer_free(w);
                json_decref(c);
                return -1;
            }
        }
    }
    return ft_peft_save_dir(dir, c, w);
}

// Is name the key of some tensor of cfg on a model of L layers?
static int known_key(const char *name, int L, unsigned where) {
    const char *pre = "base_model.model.model.layers.";
    size_t np = strlen(pre);
    if (strncmp(name, pre, np)) return 0;
    char *end;
    long l = strtol(name + np, &end, 10);
    if (end == name + np || *end != '.' || l < 0 || l >= L) return 0;
    char mod[160], key[224];
    for (unsigned w = FT_BN_ATTN; w <= FT_BN_MLP; w <<= 1) {
        if (!(where & w)) continue;
        ft_bottleneck_module_name((int)l, w, mod, sizeof mod);
        for (int k = 0; k < 4; k++) {
            snprintf(key, sizeof key, "%s.%s", mod, PART[k]);
            if (!strcmp(name, key)) return 1;
        }
    }
    return 0;
}

// Read and check adapter_config.json into cfg.
static int read_config(const char *cpath, const ft_model *m, ft_bottleneck_cfg *cfg) {
    json_t *c = ft_peft_config_read(cpath);
    if (!c) return -1;
    int rc = -1;
    const char *pt = NULL, *act = NULL;
    if (ft_json_get_str(c, "peft_type", cpath, NULL, &pt) < 0) goto out;
    if (ft_peft_kind_find_type(pt) != &ft_peft_bottleneck) {
        ft_err("%s: peft_type is %s, expected \"%s\"", cpath, pt ? pt : "missing", ft_peft_bottleneck.peft_type);
        goto out;
    }
    int k = ft_json_get_int(c, "adapter_dim", cpath, 1, 65536, 0, &cfg->dim);
    if (k == 0) ft_err("%s: key \"adapter_dim\" is missing (an integer in 1..65536)", cpath);
    if (k <= 0) goto out;
    json_t *jw = json_object_get(c, "adapter_where");
    cfg->where = 0;
    if (json_is_string(jw)) {
        if (ft_bottleneck_parse_where(json_string_value(jw), &cfg->where)) goto bad_where;
    } else if (json_is_array(jw) && json_array_size(jw) > 0) {
        size_t i;
        json_t *e;
        json_array_foreach(jw, i, e) {
            unsigned one;
            if (!json_is_string(e)) {
                char key[40];
                snprintf(key, sizeof key, "adapter_where[%zu]", i);
                ft_json_type_err(cpath, key, "a string (attn or mlp)", e);
                goto out;
            }
            if (ft_bottleneck_parse_where(json_string_value(e), &one)) goto bad_where;
            cfg->where |= one;
        }
    } else {
        ft_json_type_err(cpath, "adapter_where", "a non-empty list such as [\"attn\", \"mlp\"]", jw);
        goto out;
    }
    if (ft_json_get_str(c, "adapter_act", cpath, NULL, &act) < 0) goto out;
    if (!act) {
        ft_err("%s: \"adapter_act\" is missing (relu, silu or gelu_pytorch_tanh)", cpath);
        goto out;
    }
    if (ft_bottleneck_parse_act(act, &cfg->act)) {
        ft_err_ctx("%s", cpath);
        goto out;
    }
    int nl, hs, kl = ft_json_get_int(c, "num_layers", cpath, 0, 1 << 30, 0, &nl), kh;
    if (kl < 0 || (kh = ft_json_get_int(c, "hidden_size", cpath, 0, 1 << 30, 0, &hs)) < 0) goto out;
    if (kl && nl != m->cfg.n_layers) {
        ft_err("%s: num_layers does not match the model's %d layers", cpath, m->cfg.n_layers);
        goto out;
    }
    if (kh && hs != m->cfg.hidden) {
        ft_err("%s: hidden_size does not match the model's hidden size %d", cpath, m->cfg.hidden);
        goto out;
    }
    rc = 0;
    goto out;
bad_where:
    ft_err_ctx("%s", cpath);
out:
    json_decref(c);
    return rc;
}

int ft_bottleneck_apply(ft_model *m, const char *dir, ft_bottleneck_set **out) {
    *out = NULL;
    if (ft_bottleneck_attached(m))
        return ft_err("%s: the model already has a bottleneck adapter attached (they do not stack)", dir);
    char *cpath = ft_path_join(dir, "adapter_config.json");
    char *wpath = ft_path_join(dir, "adapter_model.safetensors");
    st_set *st = NULL;
    ft_bottleneck_set *s = NULL;
    ft_bottleneck_cfg cfg;
    int rc = -1;
    if (!cpath || !wpath || read_config(cpath, m, &cfg)) goto out;
    if (!(st = st_open(wpath))) goto out;
    for (size_t i = 0; i < st->n_tensors; i++)
        if (!known_key(st->tensors[i].name, m->cfg.n_layers, cfg.where)) {
            ft_err("%s: unexpected tensor %s (adapter_where %s%s%s, %d layers)", wpath, st->tensors[i].name,
                   cfg.where & FT_BN_ATTN ? "attn" : "", cfg.where == 3 ? "," : "", cfg.where & FT_BN_MLP ? "mlp" : "",
                   m->cfg.n_layers);
            goto out;
        }
    if (ft_bottleneck_alloc_set(&s, m, &cfg)) goto out;
    s->model = m;
    FT_BN_FOR_SITES(s, l, wh, b) {
        char mod[160], key[224];
        ft_bottleneck_module_name(l, wh, mod, sizeof mod);
        for (int k = 0; k < 4; k++) {
            uint64_t shape[2];
            int nd;
            float *data = part(b, k, shape, &nd);
            snprintf(key, sizeof key, "%s.%s", mod, PART[k]);
            const st_tensor *t = st_find(st, key);
            if (!t) {
                ft_err("%s: missing tensor %s", wpath, key);
                goto out;
            }
            if (st_tensor_to_f32(t, data, nd, shape, wpath)) goto out;
        }
    }
    ft_bottleneck_attach(s);
    *out = s;
    s = NULL;
    rc = 0;
out:
    if (s) s->model = NULL;   // never attached
    ft_bottleneck_destroy(s);
    if (st) st_close(st);
    free(cpath);
    free(wpath);
    return rc;
}
