// lora_io.c — LoRA adapters as PEFT's files (see lora.h): adapter_config.json (every field
// honoured or refused: lora_targets.c, lora_config.c) and adapter_model.safetensors, read for
// ft-eval --adapter and ft-merge (with modules_to_save's full copies), written by ft-train.
#include "peft/lora.h"
#include "peft/lora_internal.h"
#include "peft/peft.h"
#include "peft/peft_kind.h"
#include "model/dora.h"
#include "core/err.h"
#include "core/io.h"
#include "core/json_get.h"
#include "format/safetensors.h"
#include "core/rng.h"
#include "model/arch.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- PEFT files -------------------------------------------------------------------------
int ft_adapter_save(const ft_adapter *a, const char *dir, const char *base_model) {
    if (!a->model) return ft_err("%s: adapter is not attached to a model", dir);
    json_t *c = json_object();
    json_t *targets = json_array();
    for (int j = 0; j < FT_LORA_N_TARGETS; j++)
        if (a->cfg.targets & (1u << j)) json_array_append_new(targets, json_string(ft_lora_peft_name(j)));
    json_object_set_new(c, "peft_type", json_string(ft_peft_lora.peft_type));
    json_object_set_new(c, "task_type", json_string("CAUSAL_LM"));
    json_object_set_new(c, "r", json_integer(a->cfg.r));
    json_object_set_new(c, "lora_alpha", json_real(a->cfg.alpha));
    json_object_set_new(c, "lora_dropout", json_real(a->cfg.dropout));
    json_object_set_new(c, "target_modules", targets);
    json_object_set_new(c, "use_rslora", json_boolean(a->cfg.rslora));
    json_object_set_new(c, "use_dora", json_boolean(a->cfg.dora));
    json_object_set_new(c, "bias", json_string("none"));
    json_object_set_new(c, "lora_bias", json_boolean(a->cfg.bias));
    json_object_set_new(c, "fan_in_fan_out", json_false());
    json_object_set_new(c, "inference_mode", json_true());
    json_object_set_new(c, "init_lora_weights", json_true());
    json_object_set_new(c, "modules_to_save", json_null());
    json_object_set_new(c, "layers_to_transform", json_null());
    json_object_set_new(c, "layers_pattern", json_null());
    json_object_set_new(c, "exclude_modules", json_null());
    json_object_set_new(c, "rank_pattern", json_object());
    json_object_set_new(c, "alpha_pattern", json_object());
    json_object_set_new(c, "revision", json_null());
    if (a->fields) json_object_update(c, a->fields);   // where the modules, ranks and alphas came from
    ft_peft_set_base(c, base_model);
    st_writer *w = st_writer_new();
    for (int l = 0; w && l < a->L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            const ft_lora *h = &a->hooks[l * FT_LORA_N_TARGETS + j];
            if (!h->r) continue;
            ft_linear *lin = ft_model_layer_linear(a->model, l, j, NULL);
            char mod[160], key[200];
            ft_lora_module_name(l, j, mod, sizeof mod);
            uint64_t sa[2] = {(uint64_t)h->r, (uint64_t)lin->in}, sb[2] = {(uint64_t)lin->out, (uint64_t)h->r};
            uint64_t sm[1] = {(uint64_t)lin->out};
            snprintf(key, sizeof key, "%s.lora_A.weight", mod);
            int bad = st_writer_add(w, key, ST_F32, 2, sa, h->A);
            snprintf(key, sizeof key, "%s.lora_B.weight", mod);
            bad = bad || st_writer_add(w, key, ST_F32, 2, sb, h->B);
            if (!bad && h->bias) {
                snprintf(key, sizeof key, "%s.lora_B.bias", mod);
                bad = st_writer_add(w, key, ST_F32, 1, sm, h->bias);
            }
            if (!bad && h->mag) {   // PEFT's name: get_peft_model_state_dict drops ".weight" (see dora.h)
                snprintf(key, sizeof key, "%s.lora_magnitude_vector", mod);
                bad = st_writer_add(w, key, ST_F32, 1, sm, h->mag);
            }
            if (bad) {
                st_writer_free(w);
                json_decref(c);
                return -1;
            }
        }
    return ft_peft_save_dir(dir, c, w);
}

// Copy a (rows, cols) tensor — (rows) when cols == 0 — of any float dtype into dst as f32.
static int load_tensor(const st_tensor *t, float *dst, uint64_t rows, uint64_t cols, const char *file) {
    uint64_t shape[2] = {rows, cols};
    return st_tensor_to_f32(t, dst, cols ? 2 : 1, shape, file);
}

// Parse "base_model.model.model.layers.L.(self_attn|mlp).X_proj.lora_(A|B).weight" (*kind 0 A,
// 1 B), "...X_proj.lora_magnitude_vector" (*kind 2; PEFT writes it without ".weight", the
// in-memory name has it: both are accepted) or "...X_proj.lora_B.bias" (*kind 3, lora_bias).
static int parse_key(const char *name, int *l, int *j, int *kind) {
    const char *pre = "base_model.model.model.layers.";
    size_t np = strlen(pre);
    if (strncmp(name, pre, np)) return -1;
    char *end;
    long lv = strtol(name + np, &end, 10);
    if (end == name + np || *end != '.' || lv < 0 || lv > 100000) return -1;
    char mod[160];
    for (int k = 0; k < FT_LORA_N_TARGETS; k++) {
        ft_lora_module_name((int)lv, k, mod, sizeof mod);
        size_t ml = strlen(mod);
        if (strncmp(name, mod, ml) || name[ml] != '.') continue;
        const char *leaf = name + ml + 1;
        int kd = !strcmp(leaf, "lora_A.weight") ? 0 : !strcmp(leaf, "lora_B.weight") ? 1
               : (!strcmp(leaf, "lora_magnitude_vector") || !strcmp(leaf, "lora_magnitude_vector.weight")) ? 2
               : !strcmp(leaf, "lora_B.bias") ? 3 : -1;
        if (kd < 0) return -1;
        *l = (int)lv;
        *j = k;
        *kind = kd;
        return 0;
    }
    return -1;
}

// modules_to_save: tensor "base_model.model.NAME" of the adapter file is a full copy of the
// base's tensor NAME when its module (NAME less ".weight"/".bias") ends with an entry of
// modules_to_save (PEFT's _set_trainable matches key.endswith(entry)). Returns the model's
// tensor index, -1 when name is no such tensor, -2 with a message when it is one ft cannot take
// (a quantized base; tied embeddings, which PEFT unties by copying one side).
static int saved_module(const ft_model *m, const json_t *c, const char *name, const char *cpath, const char *wpath) {
    const json_t *ms = json_object_get(c, "modules_to_save");
    const char *pre = "base_model.model.";
    if (!json_is_array(ms) || strncmp(name, pre, strlen(pre))) return -1;
    const char *tn = name + strlen(pre);
    int k = -1;
    for (int i = 0; i < m->n_tensors && k < 0; i++)
        if (!strcmp(m->tensors[i].name, tn)) k = i;
    if (k < 0) return -1;
    const char *dot = strrchr(tn, '.');
    size_t ml = dot ? (size_t)(dot - tn) : strlen(tn);
    int hit = 0;
    for (size_t i = 0; i < json_array_size(ms) && !hit; i++) {
        const char *e = json_string_value(json_array_get(ms, i));
        size_t el = e ? strlen(e) : 0;
        hit = e && el <= ml && !strncmp(tn + ml - el, e, el);
    }
    if (!hit) return -1;
    if (m->qstore) {
        ft_err("%s: tensor %s is a full copy (modules_to_save in %s), which a quantized (NF4) base cannot take: "
               "use the f32 base", wpath, name, cpath);
        return -2;
    }
    char head[96], embed[96];
    ft_arch_global_name(m->cfg.arch_row, FT_GLOBAL_HEAD, head, sizeof head);
    ft_arch_global_name(m->cfg.arch_row, FT_GLOBAL_EMBED, embed, sizeof embed);
    if (m->cfg.tie_embeddings && (!strcmp(tn, head) || !strcmp(tn, embed))) {
        ft_err("%s: tensor %s is a full copy (modules_to_save in %s) of one side of the model's tied embeddings: "
               "PEFT unties them, and ft has no untied LM head for a tied model; nothing was applied", wpath, name,
               cpath);
        return -2;
    }
    return k;
}

// The keys of an adapter_config.json that ft_adapter_save writes back as they were read.
static const char *const FIELD_KEYS[] = {"target_modules", "layers_to_transform", "layers_pattern", "exclude_modules",
                                         "rank_pattern", "alpha_pattern", "init_lora_weights"};

static int adapter_load(ft_adapter *a, ft_model *m, const char *dir) {
    memset(a, 0, sizeof *a);
    char *cpath = ft_path_join(dir, "adapter_config.json");
    char *wpath = ft_path_join(dir, "adapter_model.safetensors");
    json_t *c = NULL;
    st_set *st = NULL;
    unsigned char *sel = NULL, *have = NULL;   // the linears the config selects; those with tensors
    int *hr = NULL;
    float *ha = NULL;
    int rc = -1, n_saved = 0;
    if (!cpath || !wpath || !(c = ft_peft_config_read(cpath))) goto out;
    const char *pt = NULL;
    if (ft_json_get_str(c, "peft_type", cpath, NULL, &pt) < 0) goto out;
    if (ft_peft_kind_find_type(pt) != &ft_peft_lora) {
        ft_err("%s: peft_type is %s, expected \"%s\"", cpath, pt ? pt : "missing", ft_peft_lora.peft_type);
        goto out;
    }
    if (ft_lora_check_fields(c, cpath)) goto out;
    ft_lora_cfg cfg = {0};
    double alpha, dropout;
    // PEFT's defaults where a key is absent: lora_alpha 8, lora_dropout 0
    if (ft_json_get_int(c, "r", cpath, 1, 65536, 0, &cfg.r) < 0 || ft_json_get_num(c, "lora_alpha", cpath, 8.0, &alpha) < 0 ||
        ft_json_get_num(c, "lora_dropout", cpath, 0.0, &dropout) < 0 ||
        ft_json_get_bool(c, "use_rslora", cpath, 0, &cfg.rslora) < 0 || ft_json_get_bool(c, "use_dora", cpath, 0, &cfg.dora) < 0 ||
        ft_json_get_bool(c, "lora_bias", cpath, 0, &cfg.bias) < 0)
        goto out;
    if (!cfg.r) {
        ft_err("%s: key \"r\" is missing (the LoRA rank, a positive integer)", cpath);
        goto out;
    }
    cfg.alpha = (float)alpha;
    cfg.dropout = (float)dropout;
    int L = m->cfg.n_layers, nh = L * FT_LORA_N_TARGETS;
    if (!(sel = ft_malloc((size_t)nh)) || !(have = ft_calloc((size_t)nh, 1)) || !(hr = ft_malloc((size_t)nh * sizeof *hr)) ||
        !(ha = ft_malloc((size_t)nh * sizeof *ha)))
        goto out;
    // target_modules (absent or null: the tensors say which linears are adapted), exclude_modules,
    // layers_to_transform
    int ns = ft_lora_select(c, cpath, L, sel);
    if (ns < 0) goto out;
    if (ns == 0) {
        json_t *tm = json_object_get(c, "target_modules");
        char *txt = tm ? json_dumps(tm, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        const json_t *ex = json_object_get(c, "exclude_modules"), *lt = json_object_get(c, "layers_to_transform");
        int narrowed = (ex && !json_is_null(ex)) || (lt && !json_is_null(lt));
        ft_err("%s: target_modules %s names no module of the model%s (its linears: %s in each of its %d layers, "
               "named as model.layers.0.self_attn.q_proj; a string is a regular expression for a whole name, or "
               "\"all-linear\")", cpath, txt ? txt : "null",
               narrowed ? " once exclude_modules / layers_to_transform apply" : "", ft_lora_target_names(), L);
        free(txt);
        goto out;
    }
    if (!(st = st_open(wpath))) goto out;
    for (size_t i = 0; i < st->n_tensors; i++) {
        int l, j, kind;
        const st_tensor *t = &st->tensors[i];
        if (parse_key(t->name, &l, &j, &kind)) {
            int k = saved_module(m, c, t->name, cpath, wpath);
            if (k == -2) goto out;
            if (k >= 0) {
                n_saved++;
                continue;
            }
            ft_err("%s: unsupported adapter tensor %s (only LoRA A/B, lora_B.bias (lora_bias) and DoRA "
                   "lora_magnitude_vector of q,k,v,o,gate,up,down, and whole tensors of the modules that "
                   "modules_to_save names)", wpath, t->name);
            goto out;
        }
        if (kind == 2 && !cfg.dora) {
            ft_err("%s: tensor %s is a DoRA magnitude, but %s does not say \"use_dora\": true", wpath, t->name, cpath);
            goto out;
        }
        if (kind == 3 && !cfg.bias) {
            ft_err("%s: tensor %s is a LoRA B bias, but %s does not say \"lora_bias\": true", wpath, t->name, cpath);
            goto out;
        }
        if (l >= L) {
            ft_err("%s: tensor %s names layer %d but the model has %d layers", wpath, t->name, l, L);
            goto out;
        }
        if (!sel[l * FT_LORA_N_TARGETS + j]) {
            const json_t *ex = json_object_get(c, "exclude_modules"), *lt = json_object_get(c, "layers_to_transform"),
                         *ms = json_object_get(c, "modules_to_save");
            int narrowed = (ex && !json_is_null(ex)) || (lt && !json_is_null(lt)) || (ms && !json_is_null(ms));
            ft_err("%s: tensor %s is for a module that target_modules in %s does not name%s", wpath, t->name, cpath,
                   narrowed ? " (once exclude_modules, layers_to_transform and modules_to_save apply)" : "");
            goto out;
        }
        if (kind == 0) have[l * FT_LORA_N_TARGETS + j] = 1;
    }
    // a selected module without tensors stays as it is (PEFT leaves it at its zero-B init, with a warning)
    for (int i = 0; i < nh; i++) sel[i] = sel[i] && have[i];
    if (ft_lora_plan(c, cpath, L, cfg.r, cfg.alpha, sel, hr, ha)) goto out;
    int any = 0;
    for (int i = 0; i < nh; i++) any |= hr[i] > 0;
    if (!any) {
        ft_err("%s: no LoRA tensors", wpath);
        goto out;
    }
    cfg.targets = FT_LORA_ALL;
    if (ft_lora_alloc(a, m, &cfg, hr, ha)) goto out;
    if (!(a->fields = json_object())) goto out;
    for (size_t k = 0; k < sizeof FIELD_KEYS / sizeof *FIELD_KEYS; k++) {
        json_t *v = json_object_get(c, FIELD_KEYS[k]);
        if (v) json_object_set(a->fields, FIELD_KEYS[k], v);
    }
    for (int l = 0; l < L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            ft_lora *h = &a->hooks[l * FT_LORA_N_TARGETS + j];
            if (!h->r) continue;
            ft_linear *lin = ft_model_layer_linear(m, l, j, NULL);
            char mod[160], key[200];
            ft_lora_module_name(l, j, mod, sizeof mod);
            snprintf(key, sizeof key, "%s.lora_A.weight", mod);
            const st_tensor *tA = st_find(st, key);
            snprintf(key, sizeof key, "%s.lora_B.weight", mod);
            const st_tensor *tB = st_find(st, key);
            if (!tA || !tB) {
                ft_err("%s: missing %s.lora_%s.weight", wpath, mod, tA ? "B" : "A");
                goto out;
            }
            if (load_tensor(tA, h->A, (uint64_t)h->r, (uint64_t)lin->in, wpath) ||
                load_tensor(tB, h->B, (uint64_t)lin->out, (uint64_t)h->r, wpath)) {
                if (tA->n_dims == 2 && tA->shape[0] != (uint64_t)h->r)
                    ft_err_ctx("%s says rank %d for %s (r%s; rank_pattern sets other ranks per module)", cpath, h->r,
                               mod + strlen("base_model.model."), h->r == cfg.r ? "" : " from rank_pattern");
                goto out;
            }
            if (h->bias) {
                snprintf(key, sizeof key, "%s.lora_B.bias", mod);
                const st_tensor *tb = st_find(st, key);
                if (!tb) {
                    ft_err("%s: missing %s (\"lora_bias\": true in adapter_config.json)", wpath, key);
                    goto out;
                }
                if (load_tensor(tb, h->bias, (uint64_t)lin->out, 0, wpath)) goto out;
            }
            if (h->mag) {
                snprintf(key, sizeof key, "%s.lora_magnitude_vector", mod);
                const st_tensor *tm = st_find(st, key);
                if (!tm) {
                    snprintf(key, sizeof key, "%s.lora_magnitude_vector.weight", mod);
                    tm = st_find(st, key);
                }
                if (!tm) {
                    ft_err("%s: missing %s.lora_magnitude_vector (DoRA: \"use_dora\": true in adapter_config.json)",
                           wpath, mod);
                    goto out;
                }
                if (load_tensor(tm, h->mag, (uint64_t)lin->out, 0, wpath)) goto out;
            }
        }
    // modules_to_save: PEFT's full copies replace the base's tensors (last, once nothing can fail
    // but the conversion, which checks every shape before it writes)
    for (size_t i = 0; n_saved && i < st->n_tensors; i++) {
        const st_tensor *t = &st->tensors[i];
        int k = saved_module(m, c, t->name, cpath, wpath);
        if (k < 0) continue;
        const ft_tensor_info *ti = &m->tensors[k];
        uint64_t shape[2] = {(uint64_t)ti->shape[0], ti->n_dims == 2 ? (uint64_t)ti->shape[1] : 0};
        if (st_tensor_to_f32(t, m->params + ti->offset, ti->n_dims, shape, wpath)) goto out;
    }
    a->n_saved = n_saved;
    rc = 0;
out:
    if (rc) ft_adapter_free(a);
    if (st) st_close(st);
    json_decref(c);
    free(sel);
    free(have);
    free(hr);
    free(ha);
    free(cpath);
    free(wpath);
    return rc;
}

int ft_adapter_load(ft_adapter *a, ft_model *m, const char *dir) {
    if (adapter_load(a, m, dir)) return -1;
    ft_adapter_attach(a, m);
    return 0;
}

int ft_adapter_apply(ft_model *m, const char *dir, ft_adapter **out) {
    *out = NULL;
    int attached = 0;
    for (int l = 0; l < m->cfg.n_layers && !attached; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++)
            if (ft_model_layer_linear(m, l, j, NULL)->lora) attached = 1;
    ft_adapter *a = ft_calloc(1, sizeof *a);
    if (!a) return -1;
    if (adapter_load(a, m, dir)) {
        free(a);
        return -1;
    }
    if (!attached) {
        ft_adapter_attach(a, m);
        *out = a;
        if (!a->cfg.dora) return 0;
        size_t n = 0;   // frozen: the DoRA row norms once, not in every forward
        for (int h = 0; h < a->L * FT_LORA_N_TARGETS; h++)
            if (a->hooks[h].r) n += (size_t)ft_model_layer_linear(m, h / FT_LORA_N_TARGETS, h % FT_LORA_N_TARGETS, NULL)->out;
        if (!(a->norms = ft_malloc(n * sizeof(float)))) goto fail;
        n = 0;
        for (int h = 0; h < a->L * FT_LORA_N_TARGETS; h++)
            if (a->hooks[h].r) {
                a->hooks[h].norm = a->norms + n;
                n += (size_t)ft_model_layer_linear(m, h / FT_LORA_N_TARGETS, h % FT_LORA_N_TARGETS, NULL)->out;
            }
        if (ft_lora_refresh_norms(m)) goto fail;
        return 0;
    fail:
        *out = NULL;
        ft_adapter_destroy(a);
        return -1;
    }
    // Another adapter holds the hooks: fold this one into the base weights.
    if (m->qstore) {   // an NF4 base (lib/model/qweight.h) has no f32 weights to fold into
        ft_adapter_destroy(a);
        return ft_err("%s: a second LoRA adapter is merged into the base weights, which a quantized (NF4) base "
                      "does not have: use one LoRA adapter with a quantized base", dir);
    }
    if (ft_adapter_merge_check(a, m, dir)) {
        ft_adapter_destroy(a);
        return -1;
    }
    ft_adapter_merge(a, m);
    ft_adapter_destroy(a);
    return ft_lora_refresh_norms(m);   // an attached DoRA adapter's frozen norms depend on the base weights
}
