// lora.c — LoRA adapters (and DoRA's magnitude vector): per-module layout, init, hooks, merge
// (see lora.h; the PEFT files are lora_io.c, the DoRA arithmetic lib/model/dora.c).
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

const char *ft_lora_peft_name(int j) { return PEFT[j]; }

void ft_lora_module_name(int l, int j, char *out, size_t cap) {
    snprintf(out, cap, "base_model.model.model.layers.%d.%s.%s", l, j < 4 ? "self_attn" : "mlp", PEFT[j]);
}

// Each selected hook's rank and alpha: r / alpha unless rank_pattern / alpha_pattern of c has a
// key for its module (PEFT's get_pattern_key). hr/ha get 0 where sel is 0.
int ft_lora_plan(const json_t *c, const char *file, int L, int r, float alpha, const unsigned char *sel, int *hr,
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
int ft_lora_alloc(ft_adapter *a, ft_model *m, const ft_lora_cfg *cfg, const int *hr, const float *ha) {
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
    if (ft_lora_plan(fields, "ft-train", L, cfg->r, cfg->alpha, sel, hr, ha) || ft_lora_alloc(a, m, cfg, hr, ha)) goto out;
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
int ft_lora_refresh_norms(ft_model *m) {
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

