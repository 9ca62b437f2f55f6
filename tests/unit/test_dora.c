// test_dora.c — DoRA (lib/model/dora.c, lib/peft/lora.c with cfg.dora):
//  - one linear: the forward equals a direct double-precision evaluation of
//    b + mag/||W + s B A||_row * (W + s B A) x (V formed explicitly), and every gradient
//    (dx, dW, db, dA, dB, dmag; exact, through the norm) matches central differences;
//  - whole tiny model (llama, and qwen2-style q/k/v bias): dA, dB, dmag through
//    ft_model_forward/ft_model_backward(grads = NULL) match central differences;
//  - step 0 (B = 0, mag = ||W||_row) gives the base model's logits bit for bit;
//  - PEFT layout: use_dora true, "...lora_magnitude_vector" (1-D), round trip, F16/BF16 files,
//    the ".weight" spelling; bad files (missing magnitude, wrong shape, NaN, magnitude without
//    use_dora) refused naming the file and tensor; merge equals the hooked forward;
//  - ft_adapter_apply's frozen norms (computed once) give the same logits, and are recomputed
//    when a further adapter is merged into the base weights;
//  - a quantized base (lin->w NULL) is refused with a clear message.
#include "testutil.h"
#include "model/dora.h"
#include "core/err.h"
#include "peft/lora.h"
#include "model/model.h"
#include "model/model_backward.h"
#include "format/quant.h"
#include "core/rng.h"
#include "format/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float rnd(ft_rng *r, float a) { return (ft_rng_float(r) - 0.5f) * 2.0f * a; }

// ---- one linear --------------------------------------------------------------------------
enum { LN = 3, LI = 7, LO = 5, LR = 2 };

typedef struct {
    float w[LO * LI], b[LO], A[LR * LI], B[LO * LR], mag[LO], x[LN * LI], R[LN * LO];
    ft_lora lo;
    ft_linear lin;
} one;

static void one_init(one *t, int bias) {
    ft_rng r;
    ft_rng_seed(&r, 41 + bias);
    for (int i = 0; i < LO * LI; i++) t->w[i] = rnd(&r, 0.6f);
    for (int i = 0; i < LO; i++) t->b[i] = rnd(&r, 0.5f), t->mag[i] = 0.5f + ft_rng_float(&r);
    for (int i = 0; i < LR * LI; i++) t->A[i] = rnd(&r, 0.5f);
    for (int i = 0; i < LO * LR; i++) t->B[i] = rnd(&r, 0.5f);
    for (int i = 0; i < LN * LI; i++) t->x[i] = rnd(&r, 1.0f);
    for (int i = 0; i < LN * LO; i++) t->R[i] = rnd(&r, 1.0f);
    memset(&t->lo, 0, sizeof t->lo);
    t->lo.A = t->A; t->lo.B = t->B; t->lo.mag = t->mag; t->lo.r = LR; t->lo.scale = 1.5f;
    memset(&t->lin, 0, sizeof t->lin);
    t->lin.w = t->w; t->lin.b = bias ? t->b : NULL; t->lin.in = LI; t->lin.out = LO; t->lin.lora = &t->lo;
}

// Direct evaluation in double from the definition (V formed explicitly).
static void one_direct(const one *t, double *y) {
    double s = t->lo.scale;
    for (int j = 0; j < LO; j++) {
        double V[LI], n2 = 0;
        for (int i = 0; i < LI; i++) {
            V[i] = t->w[j * LI + i];
            for (int k = 0; k < LR; k++) V[i] += s * t->B[j * LR + k] * t->A[k * LI + i];
            n2 += V[i] * V[i];
        }
        for (int n = 0; n < LN; n++) {
            double v = 0;
            for (int i = 0; i < LI; i++) v += V[i] * t->x[n * LI + i];
            y[n * LO + j] = (t->lin.b ? t->b[j] : 0.0) + t->mag[j] / sqrt(n2) * v;
        }
    }
}

static double one_loss(const one *t) {
    const ft_ops *ops = ft_ops_cpu();
    float out[LN * LO], tmp[4096];
    assert_true(ft_linear_scratch(&t->lin, LN, 0) <= 4096);
    ft_linear_forward(ops, &t->lin, out, t->x, LN, tmp);
    double l = 0;
    for (int i = 0; i < LN * LO; i++) l += (double)t->R[i] * out[i];
    return l;
}

static int fd_one(one *t, float *p, float g, const char *what, int i, double *worst) {
    const float eps = 1e-2f;
    float keep = *p;
    *p = keep + eps;
    double lp = one_loss(t);
    *p = keep - eps;
    double lm = one_loss(t);
    *p = keep;
    double num = (lp - lm) / (2.0 * eps);
    double err = fabs(num - g) / (fabs(num) + fabs(g) + 1e-3);
    if (err > *worst) *worst = err;
    if (err > 5e-3) {
        fprintf(stderr, "  %s[%d]: analytic %.6g numeric %.6g (rel %.3g)\n", what, i, g, num, err);
        return 1;
    }
    return 0;
}

static void run_one(int bias) {
    one t;
    one_init(&t, bias);
    const ft_ops *ops = ft_ops_cpu();
    float out[LN * LO], tmp[4096];
    double want[LN * LO];
    ft_linear_forward(ops, &t.lin, out, t.x, LN, tmp);
    one_direct(&t, want);
    for (int i = 0; i < LN * LO; i++) assert_float_equal(out[i], want[i], 1e-5 * (1 + fabs(want[i])));
    float dx[LN * LI] = {0}, dw[LO * LI] = {0}, db[LO] = {0}, dA[LR * LI] = {0}, dB[LO * LR] = {0}, dmag[LO] = {0};
    t.lo.dA = dA; t.lo.dB = dB; t.lo.dmag = dmag;
    assert_true(ft_linear_scratch(&t.lin, LN, 1) <= 4096);
    ft_linear_backward(ops, &t.lin, dx, dw, bias ? db : NULL, t.R, t.x, LN, tmp);
    int bad = 0;
    double worst = 0;
    for (int i = 0; i < LN * LI; i++) bad += fd_one(&t, &t.x[i], dx[i], "dx", i, &worst);
    for (int i = 0; i < LO * LI; i++) bad += fd_one(&t, &t.w[i], dw[i], "dW", i, &worst);
    for (int i = 0; i < LR * LI; i++) bad += fd_one(&t, &t.A[i], dA[i], "dA", i, &worst);
    for (int i = 0; i < LO * LR; i++) bad += fd_one(&t, &t.B[i], dB[i], "dB", i, &worst);
    for (int i = 0; i < LO; i++) bad += fd_one(&t, &t.mag[i], dmag[i], "dmag", i, &worst);
    if (bias)
        for (int i = 0; i < LO; i++) bad += fd_one(&t, &t.b[i], db[i], "db", i, &worst);
    fprintf(stderr, "  one linear (bias=%d): worst relative error %.2g\n", bias, worst);
    assert_int_equal(bad, 0);
}

static void test_one_linear(void **st) { (void)st; run_one(0); run_one(1); }

// ---- tiny model --------------------------------------------------------------------------
enum { B = 2, T = 6, N = B * T, V = 23 };

static ft_model *tiny(int bias, uint64_t seed) {
    tu_model_spec s = {.vocab = V, .tie = 1, .bias = bias};
    return tu_tiny_model(&s, seed);
}

static const int32_t IDS[N] = {1, 5, 9, 3, 22, 0, 12, 7, 7, 2, 18, 4};
static const int32_t TGT[N] = {5, 9, 3, 22, 0, 12, 7, 7, 2, 18, 4, 1};

static double loss(ft_model *m, ft_acts *a) {
    assert_int_equal(ft_model_forward(m, a, IDS, NULL, NULL, B, T), 0);
    return ft_model_loss(m, a, TGT, NULL, N) / N;
}

static void logits(ft_model *m, float *out) {
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T, 0), 0);
    assert_int_equal(ft_model_forward(m, &a, IDS, NULL, NULL, B, T), 0);
    ft_model_logits(m, &a, NULL, N, out);
    ft_acts_free(&a);
}

static void randomize(ft_adapter *ad, uint64_t seed) {
    ft_rng r;
    ft_rng_seed(&r, seed);
    for (int h = 0; h < ad->L * FT_LORA_N_TARGETS; h++) {
        ft_lora *k = &ad->hooks[h];
        if (!k->r) continue;
        const ft_linear *lin = ft_model_layer_linear(ad->model, h / 7, h % 7, NULL);
        for (int i = 0; i < k->r * lin->out; i++) k->B[i] = rnd(&r, 0.3f);
        for (int i = 0; i < lin->out; i++) k->mag[i] *= 0.7f + 0.6f * ft_rng_float(&r);   // != ||W||
    }
}

static void run_model_grads(int bias) {
    ft_model *m = tiny(bias, 21 + bias);
    ft_lora_cfg lc = {.r = 2, .alpha = 4.0f, .dropout = 0.0f, .rslora = 0, .targets = FT_LORA_ALL, .dora = 1};
    ft_adapter ad;
    assert_int_equal(ft_adapter_new(&ad, m, &lc, 3), 0);
    randomize(&ad, 9);
    assert_int_equal(ft_adapter_alloc_grads(&ad), 0);
    ft_acts a;
    ft_backward_ws ws;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&ws, &m->cfg, B, T), 0);
    assert_int_equal(ft_model_forward(m, &a, IDS, NULL, NULL, B, T), 0);
    double l = ft_model_backward(m, &a, &ws, IDS, NULL, TGT, NULL, B, T, NULL, 1.0f / N);
    assert_true(isfinite(l));
    ft_rng r;
    ft_rng_seed(&r, 5);
    int bad = 0, checked = 0;
    double worst = 0;
    for (int h = 0; h < ad.L * FT_LORA_N_TARGETS; h++) {
        ft_lora *k = &ad.hooks[h];
        ft_linear *lin = ft_model_layer_linear(m, h / 7, h % 7, NULL);
        struct { float *p, *g; size_t n; const char *what; } ts[3] = {
            {k->A, k->dA, (size_t)k->r * lin->in, "A"}, {k->B, k->dB, (size_t)k->r * lin->out, "B"},
            {k->mag, k->dmag, (size_t)lin->out, "mag"}};
        for (int q = 0; q < 3; q++)
            for (int s = 0; s < 2; s++) {
                size_t i = (size_t)ft_rng_below(&r, ts[q].n);
                const float eps = 1e-2f;
                float keep = ts[q].p[i];
                ts[q].p[i] = keep + eps;
                double lp = loss(m, &a);
                ts[q].p[i] = keep - eps;
                double lm = loss(m, &a);
                ts[q].p[i] = keep;
                double num = (lp - lm) / (2.0 * eps), g = ts[q].g[i];
                double err = fabs(num - g) / (fabs(num) + fabs(g) + 1e-3);
                if (err > worst) worst = err;
                if (err > 2e-2) {
                    fprintf(stderr, "  hook %d %s[%zu]: analytic %.6g numeric %.6g\n", h, ts[q].what, i, g, num);
                    bad++;
                }
                checked++;
            }
    }
    fprintf(stderr, "  dora model (bias=%d): %d parameters checked, worst relative error %.2g\n", bias, checked, worst);
    assert_int_equal(bad, 0);
    ft_backward_free(&ws);
    ft_acts_free(&a);
    ft_adapter_free(&ad);
    ft_model_free(m);
}

static void test_model_grads(void **st) { (void)st; run_model_grads(0); run_model_grads(1); }

static void test_step0_equals_base(void **st) {
    (void)st;
    for (int bias = 0; bias < 2; bias++) {
        ft_model *m = tiny(bias, 7);
        float base[N * V], with[N * V];
        logits(m, base);
        ft_lora_cfg lc = {.r = 4, .alpha = 8.0f, .dropout = 0.0f, .rslora = 0, .targets = FT_LORA_ALL, .dora = 1};
        ft_adapter ad;
        assert_int_equal(ft_adapter_new(&ad, m, &lc, 1), 0);
        // n_params: A, B and one magnitude per output row of every target
        size_t want = 0;
        for (int l = 0; l < 2; l++)
            for (int j = 0; j < 7; j++) {
                const ft_linear *lin = ft_model_layer_linear(m, l, j, NULL);
                want += 4 * (size_t)(lin->in + lin->out) + lin->out;
                // mag == ||W_j||, and the hook points into the flat buffer
                const ft_lora *h = lin->lora;
                assert_true(h && h->mag >= ad.params && h->mag + lin->out <= ad.params + ad.n_params);
                for (int o = 0; o < lin->out; o++) {
                    double s = 0;
                    for (int i = 0; i < lin->in; i++) s += (double)lin->w[o * lin->in + i] * lin->w[o * lin->in + i];
                    assert_float_equal(h->mag[o], sqrt(s), 1e-6 * sqrt(s));
                }
            }
        assert_int_equal(ad.n_params, want);
        logits(m, with);
        // mag / n == 1 exactly (same double sum) and the adapter adds exactly 0: the base, bit for bit
        assert_memory_equal(base, with, sizeof base);
        ft_adapter_free(&ad);
        ft_model_free(m);
    }
}

// ---- files -------------------------------------------------------------------------------
static void wr(const char *p, const char *s) { tu_write_file(p, s, strlen(s)); }

// Rewrite DIR/adapter_model.safetensors: every tensor in dtype dt; the magnitude of module
// "q_proj" of layer 0 altered by mode: 0 none, 1 dropped, 2 shape [out+1], 3 NaN, 4 shape
// [out, 1], 5 renamed with ".weight".
static void rewrite(const char *dir, int dt, int mode) {
    char *p = tu_path(dir, "adapter_model.safetensors");
    st_set *s = st_open(p);
    assert_non_null(s);
    st_writer *w = st_writer_new();
    const char *q = "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector";
    float *bufs[64] = {0};
    assert_true(s->n_tensors <= 64);
    for (size_t i = 0; i < s->n_tensors; i++) {
        const st_tensor *t = &s->tensors[i];
        size_t n = t->nbytes / 4;
        float *f = malloc((n + 1) * 4);
        memcpy(f, t->data, n * 4);
        f[n] = 1.0f;
        bufs[i] = f;
        int hit = !strcmp(t->name, q);
        if (hit && mode == 1) continue;
        if (hit && mode == 3) f[1] = NAN;
        uint64_t shape[2] = {t->shape[0], t->n_dims > 1 ? t->shape[1] : 1};
        int nd = t->n_dims;
        if (hit && mode == 2) shape[0]++;
        if (hit && mode == 4) nd = 2;
        size_t cnt = (size_t)shape[0] * (nd > 1 ? shape[1] : 1);
        char name[200];
        snprintf(name, sizeof name, "%s%s", t->name, hit && mode == 5 ? ".weight" : "");
        if (dt == ST_F32) {
            assert_int_equal(st_writer_add(w, name, ST_F32, nd, shape, f), 0);
        } else {
            uint16_t *h = malloc(cnt * 2);
            for (size_t k = 0; k < cnt; k++) h[k] = dt == ST_F16 ? ft_f32_to_f16(f[k]) : ft_f32_to_bf16(f[k]);
            memcpy(f, h, cnt * 2);   // keep it alive until the write
            free(h);
            assert_int_equal(st_writer_add(w, name, dt, nd, shape, f), 0);
        }
    }
    assert_int_equal(st_writer_write(w, p), 0);
    st_writer_free(w);
    for (int i = 0; i < 64; i++) free(bufs[i]);
    st_close(s);
    free(p);
}

static void expect_refused(ft_model *m, const char *dir, const char *what) {
    ft_adapter a;
    assert_int_equal(ft_adapter_load(&a, m, dir), -1);
    if (!strstr(ft_errmsg(), what) || !strstr(ft_errmsg(), "adapter_")) fprintf(stderr, "  got: %s\n", ft_errmsg());
    assert_non_null(strstr(ft_errmsg(), what));
    assert_non_null(strstr(ft_errmsg(), "adapter_"));   // the file is named
}

// The adapter of test_save_load_merge (deterministic), written to dir in F32.
static void fresh(ft_model *m, const ft_lora_cfg *lc, const char *dir) {
    ft_adapter ad;
    assert_int_equal(ft_adapter_new(&ad, m, lc, 2), 0);
    randomize(&ad, 4);
    assert_int_equal(ft_adapter_save(&ad, dir, "tiny"), 0);
    ft_adapter_free(&ad);
}

static void test_save_load_merge(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *out = tu_path(d, "dora");
    char *cp = tu_path(out, "adapter_config.json");
    ft_model *m = tiny(1, 31);
    ft_lora_cfg lc = {.r = 3, .alpha = 6.0f, .dropout = 0.0f, .rslora = 0, .targets = 1u | 2u | 8u | 64u, .dora = 1};
    ft_adapter ad;
    assert_int_equal(ft_adapter_new(&ad, m, &lc, 2), 0);
    randomize(&ad, 4);   // as fresh()
    float trained[N * V], loaded[N * V], merged[N * V];
    logits(m, trained);
    assert_int_equal(ft_adapter_save(&ad, out, "tiny"), 0);
    float q0mag[8];
    memcpy(q0mag, ad.hooks[0].mag, sizeof q0mag);
    ft_adapter_free(&ad);
    // PEFT's layout: use_dora true; the magnitude is 1-D (out) named without ".weight"
    FILE *f = fopen(cp, "r");
    char buf[4096] = {0};
    assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    assert_non_null(strstr(buf, "\"use_dora\": true"));
    char *wp = tu_path(out, "adapter_model.safetensors");
    st_set *s = st_open(wp);
    const st_tensor *t = st_find(s, "base_model.model.model.layers.1.mlp.down_proj.lora_magnitude_vector");
    assert_non_null(t);
    assert_int_equal(t->n_dims, 1);
    assert_int_equal(t->shape[0], 16);
    assert_null(st_find(s, "base_model.model.model.layers.1.self_attn.v_proj.lora_magnitude_vector"));
    st_close(s);
    free(wp);
    // round trip: the same logits
    ft_adapter *held = NULL;
    assert_int_equal(ft_adapter_apply(m, out, &held), 0);
    assert_non_null(held);
    assert_true(held->cfg.dora);
    logits(m, loaded);
    assert_memory_equal(trained, loaded, sizeof trained);
    // merged: W' = mag/||V|| * V gives the same logits to float rounding
    ft_adapter_detach(held);
    ft_adapter_merge(held, m);
    logits(m, merged);
    for (int i = 0; i < N * V; i++) assert_float_equal(merged[i], trained[i], 1e-4);
    ft_adapter_destroy(held);
    ft_model_free(m);

    m = tiny(1, 31);
    // F16 / BF16 files: values are the rounded ones
    for (int k = 0; k < 2; k++) {
        int dt = k ? ST_BF16 : ST_F16;
        fresh(m, &lc, out);
        rewrite(out, dt, 0);
        ft_adapter a2;
        assert_int_equal(ft_adapter_load(&a2, m, out), 0);
        for (int j = 0; j < 8; j++) {
            float want = dt == ST_F16 ? ft_f16_to_f32(ft_f32_to_f16(q0mag[j])) : ft_bf16_to_f32(ft_f32_to_bf16(q0mag[j]));
            assert_float_equal(a2.hooks[0].mag[j], want, 0);
        }
        ft_adapter_free(&a2);
    }
    // the in-memory spelling "...lora_magnitude_vector.weight" is accepted too
    fresh(m, &lc, out);
    rewrite(out, ST_F32, 5);
    ft_adapter a3;
    assert_int_equal(ft_adapter_load(&a3, m, out), 0);
    assert_memory_equal(a3.hooks[0].mag, q0mag, sizeof q0mag);
    ft_adapter_free(&a3);
    // bad files
    fresh(m, &lc, out);
    rewrite(out, ST_F32, 1);
    expect_refused(m, out, "missing base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector");
    fresh(m, &lc, out);
    rewrite(out, ST_F32, 2);
    expect_refused(m, out, "q_proj.lora_magnitude_vector has shape [17], expected [16]");
    fresh(m, &lc, out);
    rewrite(out, ST_F32, 4);
    expect_refused(m, out, "q_proj.lora_magnitude_vector has shape [16, 1], expected [16]");
    fresh(m, &lc, out);
    rewrite(out, ST_F32, 3);
    expect_refused(m, out, "non-finite");
    fresh(m, &lc, out);
    wr(cp, "{\"peft_type\": \"LORA\", \"r\": 3, \"lora_alpha\": 6, \"use_dora\": false}");
    expect_refused(m, out, "use_dora");
    ft_model_free(m);
    free(cp);
    free(out);
    tu_rmdir(d);
    free(d);
}

// ft_adapter_apply takes the adapter as frozen and computes the DoRA norms once; a further
// adapter merged into the base weights must refresh them (compared with a model where that
// adapter was merged first and the DoRA norms are computed by the forward).
static void test_frozen_norms(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *dd = tu_path(d, "dora"), *dl = tu_path(d, "lora");
    ft_model *m = tiny(1, 31);
    ft_lora_cfg lc = {.r = 3, .alpha = 6.0f, .dropout = 0.0f, .rslora = 0, .targets = 1u | 2u | 8u | 64u, .dora = 1};
    fresh(m, &lc, dd);
    ft_lora_cfg pc = {.r = 2, .alpha = 4.0f, .dropout = 0.0f, .rslora = 0, .targets = 1u | 16u, .dora = 0};   // plain LoRA on q and gate
    ft_adapter ad;
    assert_int_equal(ft_adapter_new(&ad, m, &pc, 5), 0);
    ft_rng r;
    ft_rng_seed(&r, 6);
    for (size_t i = 0; i < ad.n_params; i++) ad.params[i] = rnd(&r, 0.3f);
    assert_int_equal(ft_adapter_save(&ad, dl, "tiny"), 0);
    ft_adapter_free(&ad);
    float l0[N * V], l1[N * V], l2[N * V];
    ft_adapter *held = NULL, *none = NULL;
    assert_int_equal(ft_adapter_apply(m, dd, &held), 0);
    assert_non_null(held);
    assert_non_null(held->hooks[0].norm);
    logits(m, l0);
    assert_int_equal(ft_adapter_apply(m, dl, &none), 0);   // merged into W: norms recomputed
    assert_null(none);
    logits(m, l1);
    assert_memory_not_equal(l0, l1, sizeof l0);
    ft_model *m2 = tiny(1, 31);
    ft_adapter a2, a3;
    assert_int_equal(ft_adapter_load(&a2, m2, dl), 0);
    ft_adapter_detach(&a2);
    ft_adapter_merge(&a2, m2);
    ft_adapter_free(&a2);
    assert_int_equal(ft_adapter_load(&a3, m2, dd), 0);
    assert_null(a3.hooks[0].norm);   // computed by each forward
    logits(m2, l2);
    assert_memory_equal(l1, l2, sizeof l1);
    ft_adapter_free(&a3);
    ft_model_free(m2);
    // training drops the frozen norms
    assert_int_equal(ft_adapter_alloc_grads(held), 0);
    assert_null(held->hooks[0].norm);
    assert_null(held->norms);
    ft_adapter_destroy(held);
    ft_model_free(m);
    free(dd);
    free(dl);
    tu_rmdir(d);
    free(d);
}

static void test_quantized_base_refused(void **st) {
    (void)st;
    ft_model *m = tiny(0, 3);
    float *keep = m->layers[1].up.w;
    m->layers[1].up.w = NULL;   // as a QLoRA base: the weight lives in lin->qw
    ft_lora_cfg lc = {.r = 2, .alpha = 4.0f, .dropout = 0.0f, .rslora = 0, .targets = FT_LORA_ALL, .dora = 1};
    ft_adapter ad;
    assert_int_equal(ft_adapter_new(&ad, m, &lc, 1), -1);
    assert_non_null(strstr(ft_errmsg(), "DoRA needs an f32 base weight"));
    assert_non_null(strstr(ft_errmsg(), "up_proj"));
    lc.dora = 0;   // plain LoRA on the same base is fine
    assert_int_equal(ft_adapter_new(&ad, m, &lc, 1), 0);
    ft_adapter_free(&ad);
    m->layers[1].up.w = keep;
    ft_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_linear),
        cmocka_unit_test(test_step0_equals_base),
        cmocka_unit_test(test_model_grads),
        cmocka_unit_test(test_save_load_merge),
        cmocka_unit_test(test_frozen_norms),
        cmocka_unit_test(test_quantized_base_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
