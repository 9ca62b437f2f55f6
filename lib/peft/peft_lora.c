// peft_lora.c — the "lora" and "qlora" rows of the PEFT kind table (peft_kind.h): LoRA on
// the model's linear hooks (lib/peft/lora.h; DoRA with --dora, lib/model/dora.h; rsLoRA with --rslora),
// on an f32 base (lora) or an NF4 double-quantized one (qlora, lib/model/qweight.h). Both write a
// PEFT LORA adapter dir; lora's row reads them (ft-eval --adapter: the first is attached,
// further ones are merged into the base weights) and merges them for ft-merge, refusing
// non-finite results and DoRA where it has no meaning.
#include "peft/peft_kind.h"
#include "optim/train_opts.h"
#include "core/err.h"
#include "peft/lora.h"
#include "peft/peft.h"
#include "model/qweight.h"
#include "core/rng.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- training ------------------------------------------------------------------------------
static int lora_check(const ft_train_opts *o) {
    if (o->dora && o->lora_dropout > 0) return ft_err("--lora-dropout is not supported with --dora");
    if (o->dora && o->lora_bias) return ft_err("--lora-bias is not supported with --dora");
    if (o->lora_bias && o->lora_init && !strcmp(o->lora_init, "gaussian"))   // PEFT would not load it
        return ft_err("--lora-bias goes with --lora-init default only (PEFT refuses lora_bias with "
                      "init_lora_weights \"gaussian\")");
    return 0;
}

static int lora_open(ft_trainable *tr, const ft_train_opts *o) {
    ft_lora_cfg lc = {.r = (int)o->lora_r, .alpha = (float)o->lora_alpha, .dropout = (float)o->lora_dropout,
                      .rslora = o->rslora, .dora = o->dora, .layers = o->lora_layers,
                      .rank_pattern = o->lora_rank_pattern, .alpha_pattern = o->lora_alpha_pattern,
                      .bias = o->lora_bias, .gaussian = 0};
    if (o->lora_init && strcmp(o->lora_init, "default")) {
        if (!strcmp(o->lora_init, "gaussian")) lc.gaussian = 1;
        else return ft_err("--lora-init %s: expected default (Kaiming-uniform A, PEFT's true) or gaussian (A ~ N(0, 1/r)); "
                           "pissa, olora and the other SVD/data-driven initializations are not implemented", o->lora_init);
    }
    if (ft_lora_parse_targets(o->lora_targets, &lc.targets)) return -1;
    ft_adapter *ad = ft_calloc(1, sizeof *ad);
    if (!ad) return -1;
    tr->state = ad;
    if (ft_adapter_new(ad, tr->m, &lc, (uint64_t)o->seed) || ft_adapter_alloc_grads(ad)) return -1;
    tr->params = ad->params;
    tr->grads = ad->grads;
    tr->n = ad->n_params;
    return 0;
}

static void lora_describe(const ft_trainable *tr, const ft_train_opts *o, char *buf, size_t cap) {
    int k = snprintf(buf, cap, "%s r=%ld alpha=%g on %s", o->dora ? "DoRA" : "LoRA", o->lora_r, o->lora_alpha, o->lora_targets);
    if (o->lora_layers && k > 0 && (size_t)k < cap) k += snprintf(buf + k, cap - (size_t)k, " of layers %s", o->lora_layers);
    if (o->lora_rank_pattern && k > 0 && (size_t)k < cap) k += snprintf(buf + k, cap - (size_t)k, ", ranks %s", o->lora_rank_pattern);
    if (o->lora_alpha_pattern && k > 0 && (size_t)k < cap) k += snprintf(buf + k, cap - (size_t)k, ", alphas %s", o->lora_alpha_pattern);
    if (o->lora_bias && k > 0 && (size_t)k < cap) snprintf(buf + k, cap - (size_t)k, ", lora_bias");
}

// LoRA dropout (lib/peft/lora.h) for micro-batch `micro` of step `step`, or off (micro < 0:
// evaluation). The masks follow from (seed, step, micro-batch), so a resumed run draws the same.
static void lora_prepare(ft_trainable *tr, const ft_train_opts *o, long step, int micro) {
    if (o->lora_dropout <= 0) return;
    uint64_t s = ((uint64_t)o->seed ^ 0x4C6F526144726F70ull)   // "LoRaDrop"
                 + (uint64_t)step * 0x9e3779b97f4a7c15ull + (uint64_t)micro * 0xbf58476d1ce4e5b9ull;
    ft_adapter_set_dropout(tr->state, micro < 0 ? 0.0f : (float)o->lora_dropout, ft_splitmix64(&s));
}

static int lora_enable(ft_trainable *tr, int on) {
    ft_adapter *ad = tr->state;
    if (on) ft_adapter_attach(ad, tr->m);
    else ft_adapter_detach(ad);
    return 0;
}

static int lora_save(const ft_trainable *tr, const char *dir, const char *base_model) {
    const ft_adapter *ad = tr->state;
    if (ad && !ad->model) return ft_err("%s: the adapter is disabled (ft_trainable_enable): enable it to save", dir);
    return ft_adapter_save(ad, dir, base_model);
}

static void lora_close(ft_trainable *tr) {
    if (tr->state) ft_adapter_free(tr->state);
    free(tr->state);
    tr->state = NULL;
}

// ---- adapter dirs --------------------------------------------------------------------------
static int lora_apply(ft_model *m, const char *dir, void **held) {
    ft_adapter *a = NULL;
    int rc = ft_adapter_apply(m, dir, &a);
    *held = a;
    return rc;
}

static void lora_release(void *held) { ft_adapter_destroy(held); }

// DoRA cannot be written without its magnitude vector, nor merged with a weight other than 1.
static int lora_merge_check(const char *dir, const json_t *config, const ft_peft_merge_opts *mo, int to_gguf_adapter) {
    int dora = json_is_true(json_object_get(config, "use_dora"));
    if (dora && to_gguf_adapter)
        return ft_err("%s: a DoRA adapter (lora_magnitude_vector) cannot be written as a llama.cpp LoRA GGUF, "
                      "which has no magnitude vector; merge it instead (ft-merge --model BASE --adapter %s "
                      "-o OUT.gguf)", dir, dir);
    if (json_is_true(json_object_get(config, "lora_bias")) && to_gguf_adapter)
        return ft_err("%s: an adapter with \"lora_bias\": true cannot be written as a llama.cpp LoRA GGUF, which has "
                      "no LoRA bias; merge it instead (ft-merge --model BASE --adapter %s -o OUT)", dir, dir);
    const json_t *ms = json_object_get(config, "modules_to_save");
    if (json_is_array(ms) && json_array_size(ms) && to_gguf_adapter)
        return ft_err("%s: an adapter with modules_to_save (full copies of modules) cannot be written as a llama.cpp "
                      "LoRA GGUF; merge it instead (ft-merge --model BASE --adapter %s -o OUT)", dir, dir);
    if (json_is_array(ms) && json_array_size(ms) && mo->weight != 1.0)
        return ft_err("%s: an adapter with modules_to_save merges only with weight 1 (got --weight %g): its full "
                      "copies replace the base's modules", dir, mo->weight);
    if (dora && mo->weight != 1.0)
        return ft_err("%s: a DoRA adapter merges only with weight 1 (got --weight %g): its magnitude vector rescales "
                      "whole rows, so a weighted DoRA merge is undefined (PEFT has none either)", dir, mo->weight);
    return 0;
}

// The first non-finite value of x (n floats), or -1.
static long first_nonfinite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return (long)i;
    return -1;
}

// After merging adapter `dir` (weight w): every weight it touched must be finite and, when it is
// stored as f16 (limit 65504), representable. Names the adapter's tensor when it holds the NaN/Inf
// itself, else the merged tensor, its row and column.
static int check_merged(ft_model *m, const ft_adapter *a, const char *dir, double w, float limit, const char *dtype) {
    for (int l = 0; l < a->L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            const ft_lora *h = &a->hooks[l * FT_LORA_N_TARGETS + j];
            if (!h->r) continue;
            ft_linear *lin = ft_model_layer_linear(m, l, j, NULL);
            if (!lin || !lin->w) continue;
            char mod[160];
            ft_lora_module_name(l, j, mod, sizeof mod);
            const struct { const char *suffix; const float *x; size_t n; } own[] = {
                {"lora_A.weight", h->A, (size_t)h->r * lin->in},
                {"lora_B.weight", h->B, (size_t)lin->out * h->r},
                {"lora_magnitude_vector", h->mag, h->mag ? (size_t)lin->out : 0},
                {"lora_B.bias", h->bias, h->bias ? (size_t)lin->out : 0}};
            for (int q = 0; q < 4; q++) {
                long k = own[q].x ? first_nonfinite(own[q].x, own[q].n) : -1;
                if (k >= 0)
                    return ft_err("%s: tensor %s.%s holds %g at index %ld: the adapter is broken (a diverged "
                                  "run?); nothing was written", dir, mod, own[q].suffix, (double)own[q].x[k], k);
            }
            const char *name = m->tensors[lin->w_idx].name;
            size_t n = (size_t)lin->out * lin->in;
            for (size_t i = 0; i < n; i++) {
                float v = lin->w[i];
                if (isfinite(v) && fabsf(v) <= limit) continue;
                if (!isfinite(v))
                    return ft_err("%s: merging it (weight %g) makes %s non-finite (%g at row %zu, column %zu): its "
                                  "update B A overflows f32; nothing was written", dir, w, name, (double)v,
                                  i / (size_t)lin->in, i % (size_t)lin->in);
                return ft_err("%s: merging it (weight %g) makes %s %g at row %zu, column %zu, beyond %s's range "
                              "(|x| <= %g): it would be stored as Inf; use --dtype bf16 or f32; nothing was written",
                              dir, w, name, (double)v, i / (size_t)lin->in, i % (size_t)lin->in, dtype, (double)limit);
            }
        }
    return 0;
}

static int lora_merge(ft_model *m, const char *dir, const ft_peft_merge_opts *mo, char *info, size_t cap) {
    ft_adapter a = {0};
    if (ft_adapter_load(&a, m, dir)) { ft_adapter_free(&a); return -1; }
    if (ft_adapter_merge_check(&a, m, dir)) { ft_adapter_free(&a); return -1; }
    for (int h = 0; h < a.L * FT_LORA_N_TARGETS; h++) a.hooks[h].scale *= (float)mo->weight;
    ft_adapter_detach(&a);
    ft_adapter_merge(&a, m);
    int rc = check_merged(m, &a, dir, mo->weight, mo->limit, mo->dtype);
    if (!rc)
        snprintf(info, cap, "r=%d, alpha=%g%s%s%s%s", a.cfg.r, a.cfg.alpha, a.cfg.rslora ? ", rsLoRA" : "",
                 a.cfg.dora ? ", DoRA" : "", a.cfg.bias ? ", lora_bias" : "",
                 json_object_size(json_object_get(a.fields, "rank_pattern")) ||
                         json_object_size(json_object_get(a.fields, "alpha_pattern"))
                     ? ", per-module r/alpha" : "");
    ft_adapter_free(&a);
    return rc;
}

// ---- the rows ------------------------------------------------------------------------------
const ft_peft_kind ft_peft_lora = {
    .method = "lora",
    .peft_type = "LORA",
    .output = "adapter",
    .opts = FT_PEFT_OPT_DORA,
    .load_base = ft_model_load,
    .check = lora_check,
    .open = lora_open,
    .describe = lora_describe,
    .prepare = lora_prepare,
    .enable = lora_enable,
    .save = lora_save,
    .close = lora_close,
    .apply = lora_apply,
    .release = lora_release,
    .merge_check = lora_merge_check,
    .merge = lora_merge,
};

// LoRA on an NF4 base: its files are lora's (read and merged by the row above).
const ft_peft_kind ft_peft_qlora = {
    .method = "qlora",
    .peft_type = "LORA",
    .output = "adapter",
    .load_base = ft_model_load_nf4,
    .open = lora_open,
    .describe = lora_describe,
    .prepare = lora_prepare,
    .enable = lora_enable,
    .save = lora_save,
    .close = lora_close,
};
