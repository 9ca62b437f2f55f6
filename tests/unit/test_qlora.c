// test_qlora.c — QLoRA on tiny models: a model whose linears are NF4-DQ gives the logits of
// the f32 model whose weights are the dequantized NF4 values (step 0 equals the quantized
// base, with and without a LoRA adapter); finite-difference check of LoRA dA/dB through the
// quantized linears (forward qmatmul, backward qmatmul_backward); ft_model_load_nf4 from an HF
// dir and from a Q8_0 GGUF equals ft_model_load + ft_model_quantize_nf4 bit for bit, keeps
// only the non-linear tensors in f32, counts its bytes, and names the tensor on bad input.
#include "testutil.h"
#include "core/err.h"
#include "format/gguf.h"
#include "peft/lora.h"
#include "model/model.h"
#include "model/model_backward.h"
#include "model/model_save.h"
#include "model/qweight.h"
#include "core/rng.h"
#include "format/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 2, T = 8, N = B * T, V = 23 };

static ft_model *tiny(int C, int F, int heads, int kv, uint64_t seed) {
    tu_model_spec s = {.vocab = V, .hidden = C, .intermediate = F, .heads = heads, .kv_heads = kv};
    return tu_tiny_model(&s, seed);
}

static void logits(ft_model *m, float *out) {   // out (T, V)
    static const int32_t ids[T] = {1, 5, 9, 3, 22, 0, 12, 7};
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, 1, T, 0), 0);
    assert_int_equal(ft_model_forward(m, &a, ids, NULL, NULL, 1, T), 0);
    ft_model_logits(m, &a, NULL, T, out);
    ft_acts_free(&a);
}

static void add_lora(ft_adapter *ad, ft_model *m, uint64_t seed) {
    ft_lora_cfg lc = {.r = 2, .alpha = 4.0f, .targets = FT_LORA_ALL};
    assert_int_equal(ft_adapter_new(ad, m, &lc, 3), 0);
    ft_rng r;
    ft_rng_seed(&r, seed);
    for (size_t i = 0; i < ad->n_params; i++) ad->params[i] = (ft_rng_float(&r) - 0.5f) * 0.6f;   // B != 0
}

static float max_diff(const float *a, const float *b, size_t n) {
    float d = 0;
    for (size_t i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

static void test_step0_equals_dequantized_base(void **st) {
    (void)st;
    ft_model *q = tiny(32, 48, 4, 2, 11), *d = tiny(32, 48, 4, 2, 11);
    float f32[T * V], lq[T * V], ld[T * V];
    logits(q, f32);
    assert_int_equal(ft_model_quantize_nf4(q), 0);
    assert_int_equal(ft_model_quantize_nf4(q), -1);   // once only
    for (int l = 0; l < 2; l++)
        for (int j = 0; j < 7; j++) {
            ft_linear *lq_ = ft_model_layer_linear(q, l, j, NULL), *ld_ = ft_model_layer_linear(d, l, j, NULL);
            assert_null(lq_->w);
            assert_non_null(lq_->qw);
            ft_qweight_dequant_rows(lq_->qw, 0, ld_->out, ld_->w);   // d's weights := deq(NF4)
        }
    logits(q, lq);
    logits(d, ld);
    // the same sgemm on the same values (the bands cover these small matrices whole)
    for (int i = 0; i < T * V; i++) assert_float_equal(lq[i], ld[i], 1e-5 * (1 + fabsf(ld[i])));
    assert_true(max_diff(lq, f32, T * V) > 1e-3);   // and the quantization did change the model
    // with the same LoRA adapter (B != 0) on both
    ft_adapter aq, ad;
    add_lora(&aq, q, 5);
    add_lora(&ad, d, 5);
    logits(q, lq);
    logits(d, ld);
    for (int i = 0; i < T * V; i++) assert_float_equal(lq[i], ld[i], 1e-5 * (1 + fabsf(ld[i])));
    // a second adapter would be merged into base weights the NF4 model does not have: refused
    char *dir = tu_tmpdir(), *out = tu_path(dir, "a");
    assert_int_equal(ft_adapter_save(&aq, out, "tiny"), 0);
    ft_adapter *held = NULL;
    assert_int_equal(ft_adapter_apply(q, out, &held), -1);
    assert_non_null(strstr(ft_errmsg(), "quantized (NF4) base"));
    assert_null(held);
    tu_rmdir(dir);
    free(out); free(dir);
    size_t np;
    size_t bytes = ft_model_qweight_bytes(q, &np);
    size_t want = 0, want_b = 0;
    for (int j = 0; j < 7; j++) {
        ft_linear *lin = ft_model_layer_linear(d, 0, j, NULL);
        size_t n = (size_t)lin->in * lin->out, nb = (n + 63) / 64;
        want += 2 * n;
        want_b += 2 * ((n + 1) / 2 + nb + 4 * ((nb + 255) / 256) + 4);
    }
    assert_int_equal(np, want);
    assert_int_equal(bytes, want_b);
    ft_adapter_free(&aq);
    ft_adapter_free(&ad);
    ft_model_free(q);
    // a NaN in the last linear: refused, naming the tensor, with the model left as it was
    ft_linear *down = ft_model_layer_linear(d, 1, 6, NULL);
    down->w[5] = NAN;
    assert_int_equal(ft_model_quantize_nf4(d), -1);
    assert_non_null(strstr(ft_errmsg(), "model.layers.1.mlp.down_proj.weight"));
    assert_null(d->qstore);
    for (int l = 0; l < 2; l++)
        for (int j = 0; j < 7; j++) {
            assert_non_null(ft_model_layer_linear(d, l, j, NULL)->w);
            assert_null(ft_model_layer_linear(d, l, j, NULL)->qw);
        }
    ft_model_free(d);
}

// ---- finite differences (as test_backward.c), base NF4 ----
typedef struct {
    int32_t ids[N], tgt[N], pos[N], doc[N];
    uint8_t mask[N];
} batch;

static void make_batch(batch *b, uint64_t seed) {
    ft_rng r;
    ft_rng_seed(&r, seed);
    int docs[N] = {0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, -1, -1, -1};
    int p = 0;
    for (int n = 0; n < N; n++) {
        b->doc[n] = docs[n];
        if (n % T == 0 || docs[n] != docs[n - 1]) p = 0;
        b->pos[n] = docs[n] < 0 ? 0 : p++;
        b->ids[n] = docs[n] < 0 ? 0 : (int32_t)ft_rng_below(&r, V);
        int last = n + 1 == N || (n + 1) % T == 0 || docs[n + 1] != docs[n];
        b->mask[n] = docs[n] >= 0 && !last && ft_rng_below(&r, 4) != 0;
        b->tgt[n] = b->mask[n] ? (int32_t)ft_rng_below(&r, V) : 0;
    }
}

static double n_targets(const batch *b) {
    double t = 0;
    for (int n = 0; n < N; n++) t += b->mask[n];
    return t;
}

static double loss(ft_model *m, ft_acts *a, const batch *b) {
    assert_int_equal(ft_model_forward(m, a, b->ids, b->pos, b->doc, B, T), 0);
    return ft_model_loss(m, a, b->tgt, b->mask, N) / n_targets(b);
}

static int check(ft_model *m, ft_acts *a, const batch *b, float *p, float g, const char *what, double *worst) {
    const float eps = 1e-2f;
    float keep = *p;
    *p = keep + eps;
    double lp = loss(m, a, b);
    *p = keep - eps;
    double lm = loss(m, a, b);
    *p = keep;
    double num = (lp - lm) / (2.0 * ((double)(keep + eps) - (double)keep));
    double err = fabs(num - g) / (fabs(num) + fabs(g) + 1e-3);
    *worst = fmax(*worst, err);
    if (err > 2e-2) fprintf(stderr, "  %s: analytic %.6g numeric %.6g (rel %.3g)\n", what, g, num, err);
    return err > 2e-2;
}

static void test_lora_grads_nf4(void **st) {
    (void)st;
    ft_model *m = tiny(16, 24, 4, 2, 21);
    assert_int_equal(ft_model_quantize_nf4(m), 0);
    ft_adapter ad;
    add_lora(&ad, m, 9);
    assert_int_equal(ft_adapter_alloc_grads(&ad), 0);
    batch b;
    make_batch(&b, 3);
    ft_acts a;
    ft_backward_ws ws;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&ws, &m->cfg, B, T), 0);
    assert_int_equal(ft_model_forward(m, &a, b.ids, b.pos, b.doc, B, T), 0);
    double l = ft_model_backward(m, &a, &ws, b.ids, b.doc, b.tgt, b.mask, B, T, NULL, (float)(1.0 / n_targets(&b)));
    assert_true(isfinite(l));
    ft_rng r;
    ft_rng_seed(&r, 4);
    int bad = 0, checked = 0;
    double worst = 0;
    for (int h = 0; h < ad.L * FT_LORA_N_TARGETS; h++) {
        ft_lora *k = &ad.hooks[h];
        ft_linear *lin = ft_model_layer_linear(m, h / 7, h % 7, NULL);
        for (int s = 0; s < 3; s++) {
            size_t ia = (size_t)ft_rng_below(&r, (uint64_t)k->r * lin->in);
            size_t ib = (size_t)ft_rng_below(&r, (uint64_t)k->r * lin->out);
            bad += check(m, &a, &b, &k->A[ia], k->dA[ia], "lora_A", &worst);
            bad += check(m, &a, &b, &k->B[ib], k->dB[ib], "lora_B", &worst);
            checked += 2;
        }
    }
    fprintf(stderr, "  qlora: %d parameters checked, worst relative error %.2g\n", checked, worst);
    assert_int_equal(bad, 0);
    ft_backward_free(&ws);
    ft_acts_free(&a);
    ft_adapter_free(&ad);
    ft_model_free(m);
}

// ---- loading ----
static void same_quant(ft_model *a, ft_model *b) {
    for (int l = 0; l < a->cfg.n_layers; l++)
        for (int j = 0; j < 7; j++) {
            const ft_qweight *x = ft_model_layer_linear(a, l, j, NULL)->qw, *y = ft_model_layer_linear(b, l, j, NULL)->qw;
            assert_non_null(x);
            assert_non_null(y);
            assert_null(ft_model_layer_linear(a, l, j, NULL)->w);
            assert_int_equal(x->n, y->n);
            assert_memory_equal(x->codes, y->codes, (x->n + 1) / 2);
            assert_memory_equal(x->qabsmax, y->qabsmax, x->n_blocks);
            assert_memory_equal(x->scale2, y->scale2, x->n_groups * sizeof(float));
            assert_true(x->offset == y->offset);
        }
}

static void check_loaded(const char *path) {
    ft_model *a = ft_model_load_nf4(path), *b = ft_model_load(path);
    if (!a) fprintf(stderr, "  %s\n", ft_errmsg());
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(ft_model_quantize_nf4(b), 0);
    same_quant(a, b);   // with the Q/K un-permutation for GGUF
    // the table holds only embeddings, norms and lm_head
    assert_int_equal(a->n_tensors, b->n_tensors - 14);
    for (int i = 0; i < a->n_tensors; i++) {
        assert_null(strstr(a->tensors[i].name, "_proj"));
        assert_memory_equal(a->params + a->tensors[i].offset, ft_model_tensor_data(b, a->tensors[i].name),
                            a->tensors[i].numel * sizeof(float));
    }
    assert_null(ft_model_tensor(a, "model.layers.0.self_attn.q_proj.weight"));
    float la[T * V], lb[T * V];
    logits(a, la);
    logits(b, lb);
    assert_memory_equal(la, lb, sizeof la);
    size_t na, nb_;
    assert_int_equal(ft_model_qweight_bytes(a, &na), ft_model_qweight_bytes(b, &nb_));
    assert_int_equal(na, nb_);
    ft_model_free(a);
    ft_model_free(b);
}

static void test_load_nf4(void **st) {
    (void)st;
    char *d = tu_tmpdir(), *hf = tu_path(d, "hf"), *gg = tu_path(d, "m.gguf");
    ft_model *m = tiny(64, 128, 4, 2, 31);
    assert_int_equal(ft_model_save_hf(m, hf, ST_F32, 0), 0);
    assert_int_equal(ft_model_save_gguf(m, gg, GGML_Q8_0, NULL, 1), 0);
    check_loaded(hf);
    check_loaded(gg);   // an already-quantized GGUF: dequantized, then NF4
    // a NaN in a linear: the error names the file and the tensor
    float *w = ft_model_tensor_data(m, "model.layers.1.mlp.up_proj.weight");
    w[130] = NAN;
    char *hf2 = tu_path(d, "hf2");
    assert_int_equal(ft_model_save_hf(m, hf2, ST_F32, 0), 0);
    assert_null(ft_model_load_nf4(hf2));
    assert_non_null(strstr(ft_errmsg(), "model.layers.1.mlp.up_proj.weight"));
    assert_non_null(strstr(ft_errmsg(), "non-finite weight at row 2, column 2"));
    assert_non_null(strstr(ft_errmsg(), "hf2"));
    assert_null(ft_model_load_nf4("/nonexistent/model"));
    assert_non_null(strstr(ft_errmsg(), "/nonexistent/model"));
    ft_model_free(m);
    free(hf); free(hf2); free(gg);
    tu_rmdir(d);
    free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step0_equals_dequantized_base),
        cmocka_unit_test(test_lora_grads_nf4),
        cmocka_unit_test(test_load_nf4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
