// test_model_device_peft.c — lib/model with the adapters whose arithmetic has ops of its own
// (DoRA, bottleneck adapters, prompt and prefix tuning with and without the projection MLP)
// and an NF4-quantized base, moved onto the guard backend (kernels/guard/: device buffers the
// host cannot touch) against the same model on the CPU table, bit for bit: the training loss,
// the adapters' gradients (downloaded from the device copies), and KV-cache decoding (the
// virtual tokens seeding the cache). Any host access of device memory would fault.
#include "testutil.h"
#include "model/bottleneck.h"
#include "model/dora.h"
#include "model/model_backward.h"
#include "model/qweight.h"
#include "core/rng.h"
#include "model/virtual.h"

#include <stdlib.h>
#include <string.h>

enum { B = 2, T = 6, N = B * T, NT = 9 };

static const ft_ops *guard(void) {
    const ft_ops *g = ft_ops_guard();
    assert_non_null(g);
    return g;
}

static void *down(const ft_ops *o, const void *d, size_t bytes) {
    void *h = malloc(bytes);
    assert_int_equal(o->download(h, d, bytes), 0);
    return h;
}

// One forward + backward (frozen base) on each model; the losses must be equal. Rows carry nv
// virtual positions in front (acts sized for T + nv); no document masks then.
static void step(ft_model *mc, ft_model *mg, int nv) {
    int32_t tok[N], tgt[N], doc[N];
    for (int i = 0; i < N; i++) { tok[i] = (i * 3 + 1) % 23; tgt[i] = (i * 11 + 2) % 23; doc[i] = i % T > 3; }
    const int32_t *dc = nv ? NULL : doc;
    ft_acts ac, ag;
    ft_backward_ws wc, wg;
    assert_int_equal(ft_acts_alloc(&ac, &mc->cfg, B, T + nv, 1), 0);
    assert_int_equal(ft_model_acts_alloc(mg, &ag, B, T + nv, 1), 0);
    assert_int_equal(ft_backward_alloc(&wc, &mc->cfg, B, T + nv), 0);
    assert_int_equal(ft_model_backward_alloc(mg, &wg, B, T + nv), 0);
    for (int rep = 0; rep < 2; rep++) {   // gradients accumulate over two micro-batches
        assert_int_equal(ft_model_forward(mc, &ac, tok, NULL, dc, B, T), 0);
        assert_int_equal(ft_model_forward(mg, &ag, tok, NULL, dc, B, T), 0);
        double lc = ft_model_backward(mc, &ac, &wc, tok, dc, tgt, NULL, B, T, NULL, 0.25f);
        double lg = ft_model_backward(mg, &ag, &wg, tok, dc, tgt, NULL, B, T, NULL, 0.25f);
        assert_true(lc == lg && lc > 0);
    }
    ft_backward_free(&wc);
    ft_backward_free(&wg);
    ft_acts_free(&ac);
    ft_acts_free(&ag);
}

// KV-cache decoding on both: a chunked prefill, then token by token; logits equal.
static void decode(ft_model *mc, ft_model *mg) {
    int32_t tok[NT];
    for (int i = 0; i < NT; i++) tok[i] = (i * 5 + 2) % 23;
    size_t V = (size_t)mc->cfg.vocab_size;
    float *lc = malloc(V * sizeof(float)), *lg = malloc(V * sizeof(float));
    ft_kvcache kc, kg;
    int cap = NT + ft_model_n_virtual(mc);
    assert_int_equal(ft_kvcache_init(&kc, mc, cap, 3), 0);
    assert_int_equal(ft_kvcache_init(&kg, mg, cap, 3), 0);
    assert_int_equal(ft_model_decode(mc, &kc, tok, 4, lc), 0);
    assert_int_equal(ft_model_decode(mg, &kg, tok, 4, lg), 0);
    assert_memory_equal(lc, lg, V * sizeof(float));
    for (int i = 4; i < NT; i++) {
        assert_int_equal(ft_model_decode(mc, &kc, tok + i, 1, lc), 0);
        assert_int_equal(ft_model_decode(mg, &kg, tok + i, 1, lg), 0);
        assert_memory_equal(lc, lg, V * sizeof(float));
    }
    ft_kvcache_free(&kc);
    ft_kvcache_free(&kg);
    free(lc);
    free(lg);
}

// The device copy's flat gradients equal the host's (n floats), and are not all zero.
static void same_grads(const ft_ops *g, const float *dev, const float *host, size_t n) {
    assert_non_null(dev);
    float *h = down(g, dev, n * sizeof(float));
    assert_memory_equal(h, host, n * sizeof(float));
    double sq = 0;
    for (size_t i = 0; i < n; i++) sq += (double)h[i] * h[i];
    assert_true(sq > 0);
    free(h);
}

// DoRA on every linear (the norms recomputed every forward, as in training): dA, dB and dmag.
static void test_dora(void **st) {
    tu_model_spec sp = {0};
    ft_model *mc = tu_tiny_model(&sp, 6), *mg = tu_tiny_model(&sp, 6);
    enum { R = 2, MAXH = 16 };
    ft_lora hooks[MAXH];
    static float mem[MAXH][3][R * 32], grad[MAXH][3][R * 32];
    memset(hooks, 0, sizeof hooks);
    memset(grad, 0, sizeof grad);
    ft_rng r;
    ft_rng_seed(&r, 11);
    int k = 0;
    size_t nf = 0;
    for (int l = 0; l < mc->cfg.n_layers; l++) {
        ft_linear *lin;
        for (int j = 0; (lin = ft_model_layer_linear(mc, l, j, NULL)); j++, k++) {
            assert_true(k < MAXH && lin->in <= 32 && lin->out <= 32);
            ft_lora *h = &hooks[k];
            h->r = R; h->scale = 1.25f;
            h->A = mem[k][0]; h->B = mem[k][1]; h->mag = mem[k][2];
            h->dA = grad[k][0]; h->dB = grad[k][1]; h->dmag = grad[k][2];
            for (int i = 0; i < R * lin->in; i++) h->A[i] = ft_rng_float(&r) - 0.5f;
            for (int i = 0; i < R * lin->out; i++) h->B[i] = ft_rng_float(&r) - 0.5f;
            ft_dora_init_magnitude(lin, h->mag);
            for (int i = 0; i < lin->out; i++) h->mag[i] *= 0.8f + 0.4f * ft_rng_float(&r);   // mag != n
            nf += (size_t)R * (lin->in + lin->out) + lin->out;
            lin->lora = h;
            ft_model_layer_linear(mg, l, j, NULL)->lora = h;
        }
    }
    const ft_ops *g = guard();
    assert_int_equal(ft_model_to_device(mg, g), 0);
    float *dp, *dg;
    assert_int_equal(ft_model_device_lora(mg, &dp, &dg), nf);
    step(mc, mg, 0);
    float *want = malloc(nf * sizeof(float)), *p = want;
    for (int i = 0; i < k; i++) {
        const ft_linear *lin = ft_model_layer_linear(mc, i / FT_LIN_COUNT, i % FT_LIN_COUNT, NULL);
        size_t na = (size_t)R * lin->in, nb = (size_t)R * lin->out;
        memcpy(p, hooks[i].dA, na * sizeof(float));
        memcpy(p + na, hooks[i].dB, nb * sizeof(float));
        memcpy(p + na + nb, hooks[i].dmag, (size_t)lin->out * sizeof(float));
        p += na + nb + lin->out;
    }
    same_grads(g, dg, want, nf);
    free(want);
    decode(mc, mg);
    for (int l = 0; l < mc->cfg.n_layers; l++)
        for (int j = 0; j < FT_LIN_COUNT; j++) ft_model_layer_linear(mc, l, j, NULL)->lora = NULL;
    ft_model_free(mc);
    ft_model_free(mg);
}

// A bottleneck adapter at both sites (silu), its up projection made non-zero so every
// parameter gets a gradient.
static void test_bottleneck(void **st) {
    tu_model_spec sp = {0};
    ft_model *mc = tu_tiny_model(&sp, 7), *mg = tu_tiny_model(&sp, 7);
    ft_bottleneck_cfg cfg = {.dim = 3, .where = FT_BN_ATTN | FT_BN_MLP, .act = FT_ACT_SILU};
    ft_bottleneck_set *sc, *sg;
    assert_int_equal(ft_bottleneck_new(&sc, mc, &cfg, 4), 0);
    assert_int_equal(ft_bottleneck_new(&sg, mg, &cfg, 4), 0);
    assert_int_equal(ft_bottleneck_alloc_grads(sc), 0);
    assert_int_equal(ft_bottleneck_alloc_grads(sg), 0);
    ft_rng r;
    ft_rng_seed(&r, 5);
    for (size_t i = 0; i < sc->n_params; i++) sc->params[i] = sg->params[i] = sc->params[i] + 0.3f * (ft_rng_float(&r) - 0.5f);
    const ft_ops *g = guard();
    assert_int_equal(ft_model_to_device(mg, g), 0);
    float *dp, *dg;
    assert_int_equal(ft_model_device_adapter(mg, &dp, &dg), sc->n_params);
    step(mc, mg, 0);
    same_grads(g, dg, sc->grads, sc->n_params);
    decode(mc, mg);
    ft_bottleneck_destroy(sg);   // the host set: the model keeps its device copy attached
    decode(mc, mg);
    ft_bottleneck_destroy(sc);
    ft_model_free(mc);
    ft_model_free(mg);
}

static void virtual_case(int kind, int projection) {
    tu_model_spec sp = {0};
    ft_model *mc = tu_tiny_model(&sp, 8), *mg = tu_tiny_model(&sp, 8);
    ft_virtual_cfg cfg = {.kind = kind, .n_virtual = 3, .projection = projection, .proj_hidden = 5};
    ft_virtual *vc, *vg;
    assert_int_equal(ft_virtual_new(&vc, mc, &cfg, 9), 0);
    assert_int_equal(ft_virtual_new(&vg, mg, &cfg, 9), 0);
    assert_int_equal(ft_virtual_alloc_grads(vc), 0);
    assert_int_equal(ft_virtual_alloc_grads(vg), 0);
    const ft_ops *g = guard();
    assert_int_equal(ft_model_to_device(mg, g), 0);
    assert_true(mg->virt != vg && ft_model_n_virtual(mg) == 3);   // the device copy
    float *dp, *dg;
    size_t n;
    float *hp = ft_virtual_params(vc, &n);
    assert_int_equal(ft_model_device_adapter(mg, &dp, &dg), n);
    float *h = down(g, dp, n * sizeof(float));
    assert_memory_equal(h, hp, n * sizeof(float));
    free(h);
    step(mc, mg, 3);
    same_grads(g, dg, ft_virtual_grads(vc), n);
    decode(mc, mg);
    ft_virtual_destroy(vg);   // the host copy: the model keeps the device copy attached
    assert_true(ft_model_n_virtual(mg) == 3);
    ft_virtual_destroy(vc);
    ft_model_free(mc);
    ft_model_free(mg);
}

static void test_prompt(void **st) { virtual_case(FT_VIRT_PROMPT, 0); }
static void test_prefix(void **st) { virtual_case(FT_VIRT_PREFIX, 0); }
static void test_prefix_projection(void **st) { virtual_case(FT_VIRT_PREFIX, 1); }

// An NF4 base (QLoRA's frozen weights): its codes and constants on the device, qmatmul there.
static void test_nf4(void **st) {
    tu_model_spec sp = {0};
    ft_model *mc = tu_tiny_model(&sp, 10), *mg = tu_tiny_model(&sp, 10);
    assert_int_equal(ft_model_quantize_nf4(mc), 0);
    assert_int_equal(ft_model_quantize_nf4(mg), 0);
    const ft_ops *g = guard();
    assert_int_equal(ft_model_to_device(mg, g), 0);
    const ft_linear *lin = ft_model_layer_linear(mg, 1, 3, NULL);
    assert_true(lin->qw && lin->qw != &mg->qstore[1 * FT_LIN_COUNT + 3]);   // a device copy
    step(mc, mg, 0);
    decode(mc, mg);
    ft_model_free(mc);
    ft_model_free(mg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dora),
        cmocka_unit_test(test_bottleneck),
        cmocka_unit_test(test_prompt),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_prefix_projection),
        cmocka_unit_test(test_nf4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
