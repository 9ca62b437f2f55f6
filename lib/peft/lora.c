// lora.c — LoRA adapters (and DoRA's magnitude vector): init, hooks, merge, PEFT save/load
// (see lora.h; the DoRA arithmetic is lib/model/dora.c).
#include "peft/lora.h"
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

static const char *const SHORT[FT_LORA_N_TARGETS] = {"q", "k", "v", "o", "gate", "up", "down"};
static const char *const PEFT[FT_LORA_N_TARGETS] = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                    "gate_proj", "up_proj", "down_proj"};

int ft_lora_parse_targets(const char *s, unsigned *mask) {
    *mask = 0;
    if (!strcmp(s, "all-linear") || !strcmp(s, "all")) { *mask = FT_LORA_ALL; return 0; }
    char *copy = ft_strdup(s);
    if (!copy) return -1;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        int found = -1;
        for (int j = 0; j < FT_LORA_N_TARGETS; j++)
            if (!strcmp(t, SHORT[j]) || !strcmp(t, PEFT[j])) found = j;
        if (found < 0) {
            ft_err("unknown LoRA target '%s' (expected q,k,v,o,gate,up,down or all-linear)", t);
            free(copy);
            return -1;
        }
        *mask |= 1u << found;
    }
    free(copy);
    if (!*mask) return ft_err("empty LoRA target list");
    return 0;
}

float ft_lora_scale_of(int r, float alpha, int rslora) {
    return rslora ? alpha / sqrtf((float)r) : alpha / (float)r;
}

float ft_lora_scale(const ft_lora_cfg *c) { return ft_lora_scale_of(c->r, c->alpha, c->rslora); }

void ft_lora_module_name(int l, int j, char *out, size_t cap) {
    snprintf(out, cap, "base_model.model.model.layers.%d.%s.%s", l, j < 4 ? "self_attn" : "mlp", PEFT[j]);
}

// Each selected hook's rank and alpha: r / alpha unless rank_pattern / alpha_pattern of c has a
// key for its module (PEFT's get_pattern_key). hr/ha get 0 where sel is 0.
static int plan(const json_t *c, const char *file, int L, int r, float alpha, const unsigned char *sel, int *hr,
                float *ha) {
    const json_t *rp = json_object_get(c, "rank_pattern"), *ap = json_object_get(c, "alpha_pattern");
    for (int i = 0; i < L * FT_LORA_N_TARGETS; i++) {
        hr[i] = 0;
        ha[i] = 0;
        if (!sel[i]) continue;
        char name[96];
        ft_lora_hf_name(i / FT_LORA_N_TARGETS, i % FT_LORA_N_TARGETS, name, sizeof name);
        double v = r;
        if (ft_lora_pattern(rp, "rank_pattern", name, file, 1, &v) < 0) return -1;
        hr[i] = (int)v;
        v = alpha;
        if (ft_lora_pattern(ap, "alpha_pattern", name, file, 0, &v) < 0) return -1;
        ha[i] = (float)v;
    }
    return 0;
}

// Lay out the hooks and the flat buffer for cfg on model m (A, B, mag, bias zero): hook i gets
// rank hr[i] (0: not adapted) and alpha ha[i].
static int adapter_alloc(ft_adapter *a, ft_model *m, const ft_lora_cfg *cfg, const int *hr, const float *ha) {
    memset(a, 0, sizeof *a);
    if (cfg->r < 1) return ft_err("LoRA rank must be >= 1 (got %d)", cfg->r);
    if (cfg->dora && cfg->bias) return ft_err("lora_bias (a bias on LoRA B) is not supported with DoRA");
    a->cfg = *cfg;
    a->cfg.targets = 0;
    a->L = m->cfg.n_layers;
    int nh = a->L * FT_LORA_N_TARGETS;
    a->hooks = ft_calloc((size_t)nh, sizeof *a->hooks);
    a->alpha = ft_calloc((size_t)nh, sizeof *a->alpha);
    if (!a->hooks || !a->alpha) { ft_adapter_free(a); return -1; }
    size_t n = 0;
    for (int i = 0; i < nh; i++) {
        if (!hr[i]) continue;
        const char *sn;
        ft_linear *lin = ft_model_layer_linear(m, i / FT_LORA_N_TARGETS, i % FT_LORA_N_TARGETS, &sn);
        if (cfg->dora && !lin->w) {
            ft_adapter_free(a);
            return ft_err("%s: DoRA needs an f32 base weight, but layer %d %s is quantized (use --method lora "
                          "without --dora, or an unquantized base)", m->path ? m->path : "model", i / FT_LORA_N_TARGETS, sn);
        }
        n += (size_t)hr[i] * (lin->in + lin->out) + (cfg->dora ? (size_t)lin->out : 0) + (cfg->bias ? (size_t)lin->out : 0);
        a->cfg.targets |= 1u << (i % FT_LORA_N_TARGETS);
    }
    if (!a->cfg.targets) { ft_adapter_free(a); return ft_err("no LoRA target modules"); }
    a->n_params = n;
    a->params = ft_calloc(n ? n : 1, sizeof(float));
    if (!a->params) { ft_adapter_free(a); return -1; }
    size_t off = 0;
    for (int i = 0; i < nh; i++) {
        if (!hr[i]) continue;
        ft_linear *lin = ft_model_layer_linear(m, i / FT_LORA_N_TARGETS, i % FT_LORA_N_TARGETS, NULL);
        ft_lora *h = &a->hooks[i];
        h->r = hr[i];
        a->alpha[i] = ha[i];
        h->scale = ft_lora_scale_of(hr[i], ha[i], cfg->rslora);
        h->A = a->params + off;
        off += (size_t)h->r * lin->in;
        h->B = a->params + off;
        off += (size_t)h->r * lin->out;
        if (cfg->dora) {
            h->mag = a->params + off;
            off += (size_t)lin->out;
        }
        if (cfg->bias) {
            h->bias = a->params + off;
            off += (size_t)lin->out;
        }
    }
    return 0;
}

// The adapter_config.json keys that say which modules and ranks ft-train's options give:
// target_modules, layers_to_transform, rank_pattern, alpha_pattern, lora_bias, init_lora_weights.
static json_t *train_fields(const ft_lora_cfg *cfg, int L) {
    json_t *c = json_object(), *t = json_array();
    for (int j = 0; j < FT_LORA_N_TARGETS; j++)
        if (cfg->targets & (1u << j)) json_array_append_new(t, json_string(PEFT[j]));
    json_object_set_new(c, "target_modules", t);
    json_t *v;
    if (cfg->layers) {
        if (!(v = ft_lora_parse_layers(cfg->layers, "--lora-layers", L))) goto fail;
        json_object_set_new(c, "layers_to_transform", v);
    }
    if (cfg->rank_pattern) {
        if (!(v = ft_lora_parse_pattern(cfg->rank_pattern, "--lora-rank-pattern", 1))) goto fail;
        json_object_set_new(c, "rank_pattern", v);
    }
    if (cfg->alpha_pattern) {
        if (!(v = ft_lora_parse_pattern(cfg->alpha_pattern, "--lora-alpha-pattern", 0))) goto fail;
        json_object_set_new(c, "alpha_pattern", v);
    }
    json_object_set_new(c, "lora_bias", json_boolean(cfg->bias));
    json_object_set_new(c, "init_lora_weights", cfg->gaussian ? json_string("gaussian") : json_true());
    return c;
fail:
    json_decref(c);
    return NULL;
}

// A standard normal from two uniforms (Box-Muller).
static float gauss(ft_rng *rng) {
    double u1 = (ft_rng_float(rng) + 0x1p-25), u2 = ft_rng_float(rng);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

int ft_adapter_new(ft_adapter *a, ft_model *m, const ft_lora_cfg *cfg, uint64_t seed) {
    memset(a, 0, sizeof *a);
    if (cfg->r < 1) return ft_err("LoRA rank must be >= 1 (got %d)", cfg->r);
    if (!(cfg->targets & FT_LORA_ALL)) return ft_err("no LoRA target modules");
    int L = m->cfg.n_layers, nh = L * FT_LORA_N_TARGETS, rc = -1;
    json_t *fields = train_fields(cfg, L);
    unsigned char *sel = ft_malloc((size_t)nh);
    int *hr = ft_malloc((size_t)nh * sizeof *hr);
    float *ha = ft_malloc((size_t)nh * sizeof *ha);
    if (!fields || !sel || !hr || !ha) goto out;
    int ns = ft_lora_select(fields, "ft-train", L, sel);
    if (ns < 0) goto out;
    if (!ns) {
        ft_err("--lora-targets with --lora-layers select no module");
        goto out;
    }
    if (plan(fields, "ft-train", L, cfg->r, cfg->alpha, sel, hr, ha) || adapter_alloc(a, m, cfg, hr, ha)) goto out;
    a->fields = fields;
    fields = NULL;
    ft_rng rng;
    ft_rng_seed(&rng, seed ^ 0x4C6F5241ull);
    for (int i = 0; i < nh; i++) {
        ft_lora *h = &a->hooks[i];
        if (!h->r) continue;
        const ft_linear *lin = ft_model_layer_linear(m, i / FT_LORA_N_TARGETS, i % FT_LORA_N_TARGETS, NULL);
        int in = lin->in;
        if (h->mag) ft_dora_init_magnitude(lin, h->mag);   // ||W||_row: step 0 == base
        if (cfg->gaussian) {   // PEFT "gaussian": normal_(A, std = 1 / r)
            for (size_t k = 0; k < (size_t)h->r * in; k++) h->A[k] = gauss(&rng) / (float)h->r;
            continue;
        }
        // kaiming_uniform_(a=sqrt(5)) on (r, in): bound = sqrt(6 / ((1 + 5) * in)) = 1/sqrt(in)
        float bound = 1.0f / sqrtf((float)in);
        for (size_t k = 0; k < (size_t)h->r * in; k++) h->A[k] = (2.0f * ft_rng_float(&rng) - 1.0f) * bound;
    }
    ft_adapter_attach(a, m);
    rc = 0;
out:
    json_decref(fields);
    free(sel);
    free(hr);
    free(ha);
    return rc;
}

// Drop the frozen-adapter DoRA norms (the adapter is about to change).
static void drop_norms(ft_adapter *a) {
    for (size_t i = 0; a->hooks && i < (size_t)a->L * FT_LORA_N_TARGETS; i++) a->hooks[i].norm = NULL;
    free(a->norms);
    a->norms = NULL;
}

// Compute the row norms of every DoRA hook attached to m into the buffer its norm points to.
static int refresh_norms(ft_model *m) {
    const ft_ops *ops = m->ops ? m->ops : ft_ops_cpu();
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            ft_linear *lin = ft_model_layer_linear(m, l, j, NULL);
            ft_lora *h = lin->lora;
            if (!h || !h->norm || !h->mag || !lin->w) continue;
            float *tmp = ft_malloc(((size_t)h->r * lin->out + (size_t)h->r * h->r) * sizeof(float));
            if (!tmp) return -1;
            ft_dora_norm(ops, lin, h, h->norm, tmp);
            free(tmp);
        }
    return 0;
}

int ft_adapter_alloc_grads(ft_adapter *a) {
    drop_norms(a);
    if (a->grads) return 0;
    a->grads = ft_calloc(a->n_params ? a->n_params : 1, sizeof(float));
    if (!a->grads) return -1;
    for (size_t i = 0; i < (size_t)a->L * FT_LORA_N_TARGETS; i++) {
        ft_lora *h = &a->hooks[i];
        if (!h->r) continue;
        h->dA = a->grads + (h->A - a->params);
        h->dB = a->grads + (h->B - a->params);
        if (h->mag) h->dmag = a->grads + (h->mag - a->params);
        if (h->bias) h->dbias = a->grads + (h->bias - a->params);
    }
    return 0;
}

void ft_adapter_set_dropout(ft_adapter *a, float p, uint64_t seed) {
    uint64_t st = seed;
    for (size_t i = 0; i < (size_t)a->L * FT_LORA_N_TARGETS; i++) {
        ft_lora *h = &a->hooks[i];
        uint64_t hs = ft_splitmix64(&st);   // one independent stream per hook, as PEFT's per-module dropout
        if (!h->r) continue;
        h->drop_p = p;
        h->drop_seed = hs;
        // on a device the model's linears hold copies of the hooks (lib/model/model_device.c): they
        // get the same masks
        ft_linear *lin = a->model ? ft_model_layer_linear(a->model, (int)(i / FT_LORA_N_TARGETS),
                                                          (int)(i % FT_LORA_N_TARGETS), NULL) : NULL;
        if (lin && lin->lora && lin->lora != h) {
            lin->lora->drop_p = p;
            lin->lora->drop_seed = hs;
        }
    }
}

void ft_adapter_attach(ft_adapter *a, ft_model *m) {
    for (int l = 0; l < a->L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            ft_lora *h = &a->hooks[l * FT_LORA_N_TARGETS + j];
            if (h->r) ft_model_layer_linear(m, l, j, NULL)->lora = h;
        }
    a->model = m;
}

void ft_adapter_detach(ft_adapter *a) {
    if (!a->model) return;
    for (int l = 0; l < a->L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            ft_linear *lin = ft_model_layer_linear(a->model, l, j, NULL);
            if (lin->lora == &a->hooks[l * FT_LORA_N_TARGETS + j]) lin->lora = NULL;
        }
    a->model = NULL;
}

int ft_adapter_merge_check(const ft_adapter *a, const ft_model *m, const char *dir) {
    for (int i = 0; i < a->L * FT_LORA_N_TARGETS; i++) {
        if (!a->hooks[i].bias) continue;
        const char *sn;
        ft_linear *lin = ft_model_layer_linear((ft_model *)m, i / FT_LORA_N_TARGETS, i % FT_LORA_N_TARGETS, &sn);
        if (!lin->b)
            return ft_err("%s: \"lora_bias\": true, but layer %d %s of the base has no bias to merge lora_B.bias into "
                          "(PEFT refuses this merge too); use the adapter unmerged (ft-eval --adapter)", dir,
                          i / FT_LORA_N_TARGETS, sn);
    }
    return 0;
}

void ft_adapter_merge(const ft_adapter *a, ft_model *m) {
    for (int l = 0; l < a->L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            const ft_lora *h = &a->hooks[l * FT_LORA_N_TARGETS + j];
            if (!h->r) continue;
            ft_linear *lin = ft_model_layer_linear(m, l, j, NULL);
            if (h->mag) {
                ft_dora_merge(lin, h);
                continue;
            }
            for (int o = 0; o < lin->out; o++)
                for (int i = 0; i < lin->in; i++) {
                    double s = 0;
                    for (int k = 0; k < h->r; k++) s += (double)h->B[(size_t)o * h->r + k] * h->A[(size_t)k * lin->in + i];
                    lin->w[(size_t)o * lin->in + i] += (float)(h->scale * s);
                }
            if (h->bias && lin->b)   // PEFT: base bias += scale * lora_B.bias (ft_adapter_merge_check)
                for (int o = 0; o < lin->out; o++) lin->b[o] += h->scale * h->bias[o];
        }
}

void ft_adapter_free(ft_adapter *a) {
    ft_adapter_detach(a);
    drop_norms(a);
    free(a->hooks);
    free(a->params);
    free(a->grads);
    free(a->alpha);
    json_decref(a->fields);
    memset(a, 0, sizeof *a);
}

void ft_adapter_destroy(ft_adapter *a) {
    if (!a) return;
    ft_adapter_free(a);
    free(a);
}

// ---- PEFT files -------------------------------------------------------------------------
int ft_adapter_save(const ft_adapter *a, const char *dir, const char *base_model) {
    if (!a->model) return ft_err("%s: adapter is not attached to a model", dir);
    json_t *c = json_object();
    json_t *targets = json_array();
    for (int j = 0; j < FT_LORA_N_TARGETS; j++)
        if (a->cfg.targets & (1u << j)) json_array_append_new(targets, json_string(PEFT[j]));
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
        ft_err("%s: target_modules %s (with exclude_modules / layers_to_transform) names no module of the model (its "
               "linears: %s in each of its %d layers, named as model.layers.0.self_attn.q_proj; a string is a regular "
               "expression for a whole name, or \"all-linear\")", cpath, txt ? txt : "null", ft_lora_target_names(), L);
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
            ft_err("%s: tensor %s is for a module that target_modules / exclude_modules / layers_to_transform in %s "
                   "do not select", wpath, t->name, cpath);
            goto out;
        }
        if (kind == 0) have[l * FT_LORA_N_TARGETS + j] = 1;
    }
    // a selected module without tensors stays as it is (PEFT leaves it at its zero-B init, with a warning)
    for (int i = 0; i < nh; i++) sel[i] = sel[i] && have[i];
    if (plan(c, cpath, L, cfg.r, cfg.alpha, sel, hr, ha)) goto out;
    int any = 0;
    for (int i = 0; i < nh; i++) any |= hr[i] > 0;
    if (!any) {
        ft_err("%s: no LoRA tensors", wpath);
        goto out;
    }
    cfg.targets = FT_LORA_ALL;
    if (adapter_alloc(a, m, &cfg, hr, ha)) goto out;
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
        if (refresh_norms(m)) goto fail;
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
    return refresh_norms(m);   // an attached DoRA adapter's frozen norms depend on the base weights
}
