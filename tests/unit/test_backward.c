// test_backward.c — whole tiny-model gradient checks by central finite differences:
// every tensor of full fine-tuning (untied + q/k/v bias, tied embeddings, Qwen3's q/k norms,
// Gemma 3's norms, GeGLU, embedding scale, sliding window and query scale), and the LoRA
// A/B of every target with the base frozen, over packed rows with document masking,
// padding and gradient accumulation across two micro-batches; and LoRA dropout (the masks are
// a function of the seed, so the loss stays a deterministic function to differentiate).
#include "testutil.h"
#include "core/err.h"
#include "peft/lora.h"
#include "model/model.h"
#include "model/model_backward.h"
#include "core/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 2, T = 8, N = B * T };

typedef struct {
    int32_t ids[N], tgt[N], pos[N], doc[N];
    uint8_t mask[N];
} batch;

static ft_model *tiny(int tie, int bias, uint64_t seed) {
    tu_model_spec s = {.tie = tie, .bias = bias};
    return tu_tiny_model(&s, seed);
}

// Row 0 packs two documents, row 1 holds one document then padding (doc -1).
static void make_batch(batch *b, uint64_t seed) {
    ft_rng r;
    ft_rng_seed(&r, seed);
    int docs[N] = {0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, -1, -1, -1};
    int p = 0;
    for (int n = 0; n < N; n++) {
        b->doc[n] = docs[n];
        if (n % T == 0 || docs[n] != docs[n - 1]) p = 0;
        b->pos[n] = docs[n] < 0 ? 0 : p++;
        b->ids[n] = docs[n] < 0 ? 0 : (int32_t)ft_rng_below(&r, 23);
        int last = n + 1 == N || (n + 1) % T == 0 || docs[n + 1] != docs[n];
        b->mask[n] = docs[n] >= 0 && !last && ft_rng_below(&r, 4) != 0;
        b->tgt[n] = b->mask[n] ? (int32_t)ft_rng_below(&r, 23) : 0;
    }
}

static double total_targets(const batch *bs, int nb) {
    double t = 0;
    for (int k = 0; k < nb; k++)
        for (int n = 0; n < N; n++) t += bs[k].mask[n];
    return t;
}

// Mean loss over the targets of all micro-batches (one optimizer step).
static double step_loss(ft_model *m, ft_acts *a, const batch *bs, int nb) {
    double s = 0;
    for (int k = 0; k < nb; k++) {
        assert_int_equal(ft_model_forward(m, a, bs[k].ids, bs[k].pos, bs[k].doc, B, T), 0);
        s += ft_model_loss(m, a, bs[k].tgt, bs[k].mask, N);
    }
    return s / total_targets(bs, nb);
}

static void step_grad(ft_model *m, ft_acts *a, ft_backward_ws *ws, const batch *bs, int nb, float *grads) {
    float scale = (float)(1.0 / total_targets(bs, nb));
    for (int k = 0; k < nb; k++) {
        assert_int_equal(ft_model_forward(m, a, bs[k].ids, bs[k].pos, bs[k].doc, B, T), 0);
        double l = ft_model_backward(m, a, ws, bs[k].ids, bs[k].doc, bs[k].tgt, bs[k].mask, B, T, grads, scale);
        assert_true(isfinite(l));
    }
}

// Central difference of the step loss at p[i]; compared with the analytic gradient g.
static int check_param(ft_model *m, ft_acts *a, const batch *bs, int nb, float *p, float g, const char *what,
                       size_t i, double *worst) {
    const float eps = 1e-2f;
    float keep = *p;
    *p = keep + eps;
    double lp = step_loss(m, a, bs, nb);
    *p = keep - eps;
    double lm = step_loss(m, a, bs, nb);
    *p = keep;
    double num = (lp - lm) / (2.0 * ((double)(keep + eps) - (double)keep));
    double err = fabs(num - g) / (fabs(num) + fabs(g) + 1e-3);
    if (err > *worst) *worst = err;
    if (err > 2e-2) {
        fprintf(stderr, "  %s[%zu]: analytic %.6g numeric %.6g (rel %.3g)\n", what, i, g, num, err);
        return 1;
    }
    return 0;
}

static void run_full_spec(const tu_model_spec *spec, uint64_t seed) {
    int tie = spec->tie, bias = spec->bias;
    ft_model *m = tu_tiny_model(spec, seed);
    batch bs[2];
    make_batch(&bs[0], 1);
    make_batch(&bs[1], 2);
    ft_acts a;
    ft_backward_ws ws;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&ws, &m->cfg, B, T), 0);
    float *grads = calloc(m->n_params, sizeof(float));
    step_grad(m, &a, &ws, bs, 2, grads);
    ft_rng r;
    ft_rng_seed(&r, 5);
    int bad = 0, checked = 0;
    double worst = 0;
    for (int t = 0; t < m->n_tensors; t++) {
        const ft_tensor_info *ti = &m->tensors[t];
        if (tie && !strcmp(ti->name, "lm_head.weight")) continue;
        for (int k = 0; k < 4; k++) {
            size_t i = ti->offset + (size_t)ft_rng_below(&r, ti->numel);
            if (m->params + ti->offset == m->embed)   // a row the batch looks up (others get no gradient)
                i = ti->offset + (size_t)bs[0].ids[ft_rng_below(&r, N)] * m->cfg.hidden +
                    (size_t)ft_rng_below(&r, (uint64_t)m->cfg.hidden);
            bad += check_param(m, &a, bs, 2, &m->params[i], grads[i], ti->name, i - ti->offset, &worst);
            checked++;
        }
    }
    fprintf(stderr, "  full %s (tie=%d, bias=%d): %d parameters checked, worst relative error %.2g\n", m->cfg.arch, tie,
            bias, checked, worst);
    assert_int_equal(bad, 0);
    free(grads);
    ft_backward_free(&ws);
    ft_acts_free(&a);
    ft_model_free(m);
}

static void run_full(int tie, int bias) {
    tu_model_spec s = {.tie = tie, .bias = bias};
    run_full_spec(&s, 11 + tie + 2 * bias);
}

static void test_full_untied_bias(void **st) { (void)st; run_full(0, 1); }
static void test_full_tied(void **st) { (void)st; run_full(1, 0); }
// Qwen3: the per-head q/k norms' own gradients and what flows through them; head_dim 6 != 16/4.
static void test_full_qwen3(void **st) {
    (void)st;
    tu_model_spec s = {.arch = "qwen3", .tie = 1, .head_dim = 6};
    run_full_spec(&s, 41);
}
// Gemma 3: post-norms, GeGLU, sqrt(C) embedding scale (untied, so the embedding rows see it alone),
// q/k norms, a 3-key window on layer 0 (rows of 8) with its own rope base, query scalar 5.
static void test_full_gemma3(void **st) {
    (void)st;
    tu_model_spec s = {.arch = "gemma3", .tie = 0, .head_dim = 8, .window = 3, .query_scalar = 5.0f};
    run_full_spec(&s, 43);
}

// Central differences of `per` sampled A and B entries of every hook of ad.
static int check_lora(ft_model *m, ft_acts *a, const batch *bs, ft_adapter *ad, ft_rng *r, int per, int *checked,
                      double *worst) {
    int bad = 0;
    for (int h = 0; h < ad->L * FT_LORA_N_TARGETS; h++) {
        ft_lora *k = &ad->hooks[h];
        ft_linear *lin = ft_model_layer_linear(m, h / 7, h % 7, NULL);
        for (int s = 0; s < per; s++) {
            size_t ia = (size_t)ft_rng_below(r, (uint64_t)k->r * lin->in);
            size_t ib = (size_t)ft_rng_below(r, (uint64_t)k->r * lin->out);
            bad += check_param(m, a, bs, 2, &k->A[ia], k->dA[ia], "lora_A", ia, worst);
            bad += check_param(m, a, bs, 2, &k->B[ib], k->dB[ib], "lora_B", ib, worst);
            *checked += 2;
        }
    }
    return bad;
}

static void test_lora_grads(void **st) {
    (void)st;
    ft_model *m = tiny(1, 0, 21);
    ft_lora_cfg lc = {.r = 2, .alpha = 4.0f, .dropout = 0.0f, .rslora = 0, .targets = FT_LORA_ALL, .dora = 0};
    ft_adapter ad;
    assert_int_equal(ft_adapter_new(&ad, m, &lc, 3), 0);
    ft_rng r;
    ft_rng_seed(&r, 9);
    for (size_t i = 0; i < ad.n_params; i++) ad.params[i] = (ft_rng_float(&r) - 0.5f) * 0.6f;   // B != 0 too
    assert_int_equal(ft_adapter_alloc_grads(&ad), 0);
    batch bs[2];
    make_batch(&bs[0], 3);
    make_batch(&bs[1], 4);
    ft_acts a;
    ft_backward_ws ws;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&ws, &m->cfg, B, T), 0);
    step_grad(m, &a, &ws, bs, 2, NULL);
    int checked = 0;
    double worst = 0;
    int bad = check_lora(m, &a, bs, &ad, &r, 3, &checked, &worst);
    fprintf(stderr, "  lora: %d parameters checked, worst relative error %.2g\n", checked, worst);
    assert_int_equal(bad, 0);
    ft_backward_free(&ws);
    ft_acts_free(&a);
    ft_adapter_free(&ad);
    ft_model_free(m);
}

// Per-module ranks and alphas (rank_pattern / alpha_pattern, --lora-layers) and lora_bias: A, B
// and the LoRA B bias gradients of every hook against central differences.
static void test_lora_bias_pattern_grads(void **st) {
    (void)st;
    ft_model *m = tiny(1, 0, 23);
    ft_lora_cfg lc = {.r = 2, .alpha = 4.0f, .targets = FT_LORA_ALL, .rank_pattern = "down_proj=3,k_proj=1",
                      .alpha_pattern = "v_proj=9", .bias = 1};
    ft_adapter ad;
    assert_int_equal(ft_adapter_new(&ad, m, &lc, 3), 0);
    assert_int_equal(ad.hooks[6].r, 3);   // layer 0 down_proj
    assert_int_equal(ad.hooks[1].r, 1);   // layer 0 k_proj
    assert_true(fabsf(ad.hooks[2].scale - 9.0f / 2) < 1e-6f);
    ft_rng r;
    ft_rng_seed(&r, 11);
    for (size_t i = 0; i < ad.n_params; i++) ad.params[i] = (ft_rng_float(&r) - 0.5f) * 0.6f;
    assert_int_equal(ft_adapter_alloc_grads(&ad), 0);
    batch bs[2];
    make_batch(&bs[0], 3);
    make_batch(&bs[1], 4);
    ft_acts a;
    ft_backward_ws ws;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&ws, &m->cfg, B, T), 0);
    step_grad(m, &a, &ws, bs, 2, NULL);
    int checked = 0;
    double worst = 0;
    int bad = check_lora(m, &a, bs, &ad, &r, 2, &checked, &worst);
    for (int h = 0; h < ad.L * FT_LORA_N_TARGETS; h++) {
        ft_lora *k = &ad.hooks[h];
        ft_linear *lin = ft_model_layer_linear(m, h / 7, h % 7, NULL);
        assert_non_null(k->bias);
        size_t i = (size_t)ft_rng_below(&r, (uint64_t)lin->out);
        bad += check_param(m, &a, bs, 2, &k->bias[i], k->dbias[i], "lora_B.bias", i, &worst);
        checked++;
    }
    fprintf(stderr, "  lora patterns + bias: %d parameters checked, worst relative error %.2g\n", checked, worst);
    assert_int_equal(bad, 0);
    ft_backward_free(&ws);
    ft_acts_free(&a);
    ft_adapter_free(&ad);
    ft_model_free(m);
}

// LoRA with dropout p = 0.3 on every target's input: the adapter's A/B gradients and the base's
// (whose gradients flow through the adapter's masked input path) against central differences.
static void test_lora_dropout_grads(void **st) {
    (void)st;
    ft_model *m = tiny(0, 1, 31);
    ft_lora_cfg lc = {.r = 2, .alpha = 4.0f, .dropout = 0.3f, .rslora = 0, .targets = FT_LORA_ALL, .dora = 0};
    ft_adapter ad;
    assert_int_equal(ft_adapter_new(&ad, m, &lc, 3), 0);
    ft_rng r;
    ft_rng_seed(&r, 19);
    for (size_t i = 0; i < ad.n_params; i++) ad.params[i] = (ft_rng_float(&r) - 0.5f) * 0.6f;   // B != 0
    assert_int_equal(ft_adapter_alloc_grads(&ad), 0);
    batch bs[2];
    make_batch(&bs[0], 5);
    make_batch(&bs[1], 6);
    ft_acts a;
    ft_backward_ws ws;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&ws, &m->cfg, B, T), 0);
    double plain = step_loss(m, &a, bs, 2);
    ft_adapter_set_dropout(&ad, 0.3f, 77);
    double dropped = step_loss(m, &a, bs, 2);
    assert_true(fabs(dropped - plain) > 1e-4);                      // the dropout is applied
    assert_true(fabs(step_loss(m, &a, bs, 2) - dropped) == 0.0);   // and repeatable
    float *grads = calloc(m->n_params, sizeof(float));
    step_grad(m, &a, &ws, bs, 2, grads);
    int checked = 0;
    double worst = 0;
    int bad = check_lora(m, &a, bs, &ad, &r, 2, &checked, &worst);
    for (int t = 0; t < m->n_tensors; t++) {
        const ft_tensor_info *ti = &m->tensors[t];
        for (int k = 0; k < 2; k++) {
            size_t i = ti->offset + (size_t)ft_rng_below(&r, ti->numel);
            bad += check_param(m, &a, bs, 2, &m->params[i], grads[i], ti->name, i - ti->offset, &worst);
            checked++;
        }
    }
    fprintf(stderr, "  lora dropout: %d parameters checked, worst relative error %.2g\n", checked, worst);
    assert_int_equal(bad, 0);
    free(grads);
    ft_backward_free(&ws);
    ft_acts_free(&a);
    ft_adapter_free(&ad);
    ft_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_untied_bias),
        cmocka_unit_test(test_full_tied),
        cmocka_unit_test(test_full_qwen3),
        cmocka_unit_test(test_full_gemma3),
        cmocka_unit_test(test_lora_grads), cmocka_unit_test(test_lora_bias_pattern_grads),
        cmocka_unit_test(test_lora_dropout_grads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
