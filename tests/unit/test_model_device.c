// test_model_device.c — lib/model on the guard backend (kernels/guard/: the CPU kernels
// behind device buffers the host cannot touch) against the same model on the CPU table, bit
// for bit: the training forward and loss, the full backward's gradients (packed rows with
// document ids, tied and untied, q/k/v biases), the optimizer step with clipping, the logits
// and KV-cache decoding. Any host access of device memory in the model glue would fault.
#include "testutil.h"
#include "model/model_backward.h"
#include "optim/optim.h"
#include "core/err.h"
#include "core/rng.h"

#include <stdlib.h>
#include <string.h>

enum { B = 2, T = 7, N = B * T };

static void *down(const ft_ops *o, const void *d, size_t bytes) {
    void *h = malloc(bytes);
    assert_int_equal(o->download(h, d, bytes), 0);
    return h;
}

static void run(int tie, int bias) {
    tu_model_spec sp = {.tie = tie, .bias = bias};
    ft_model *mc = tu_tiny_model(&sp, 21 + tie), *mg = tu_tiny_model(&sp, 21 + tie);
    const ft_ops *g = ft_ops_guard();
    assert_non_null(g);
    size_t np = mc->n_params;
    assert_int_equal(ft_model_to_device(mg, g), 0);
    assert_true(g->host_access == 0 && mg->ops == g);
    int32_t tok[N], pos[N], doc[N], tgt[N];
    uint8_t mask[N];
    for (int i = 0; i < N; i++) {
        tok[i] = (i * 7 + 3) % mc->cfg.vocab_size;
        tgt[i] = (i * 5 + 1) % mc->cfg.vocab_size;
        doc[i] = i % T < 3 ? 0 : 1;   // two documents per row
        pos[i] = i % T < 3 ? i % T : i % T - 3;
        mask[i] = i % 4 != 0;
    }
    ft_acts ac, ag;
    ft_backward_ws wc, wg;
    assert_int_equal(ft_acts_alloc(&ac, &mc->cfg, B, T, 1), 0);
    assert_int_equal(ft_model_acts_alloc(mg, &ag, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&wc, &mc->cfg, B, T), 0);
    assert_int_equal(ft_model_backward_alloc(mg, &wg, B, T), 0);
    // a workspace of the other table is refused, not used
    assert_int_equal(ft_model_forward(mg, &ac, tok, pos, doc, B, T), -1);
    assert_non_null(strstr(ft_errmsg(), "activations allocated for the cpu op table"));
    float *gc = calloc(np, sizeof(float)), *gg = g->alloc(np * sizeof(float));
    assert_int_equal(g->zero(gg, np * sizeof(float)), 0);
    for (int rep = 0; rep < 2; rep++) {   // two micro-batches accumulate
        assert_int_equal(ft_model_forward(mc, &ac, tok, pos, doc, B, T), 0);
        assert_int_equal(ft_model_forward(mg, &ag, tok, pos, doc, B, T), 0);
        double lc = ft_model_backward(mc, &ac, &wc, tok, doc, tgt, mask, B, T, gc, 0.1f);
        double lg = ft_model_backward(mg, &ag, &wg, tok, doc, tgt, mask, B, T, gg, 0.1f);
        assert_true(lc == lg && lc > 0);
        assert_true(ft_model_loss(mc, &ac, tgt, mask, N) == ft_model_loss(mg, &ag, tgt, mask, N));
    }
    float *h = down(g, gg, np * sizeof(float));
    assert_memory_equal(h, gc, np * sizeof(float));
    double sq = 0;
    for (size_t i = 0; i < np; i++) sq += (double)gc[i] * gc[i];
    assert_true(sq > 0);   // the comparison is not of two zero buffers
    free(h);
    // logits of some rows
    int rows[3] = {0, 5, 13};
    size_t V = (size_t)mc->cfg.vocab_size;
    float *lc = malloc(3 * V * sizeof(float)), *lg = malloc(3 * V * sizeof(float));
    ft_model_logits(mc, &ac, rows, 3, lc);
    ft_model_logits(mg, &ag, rows, 3, lg);
    assert_memory_equal(lc, lg, 3 * V * sizeof(float));
    // optimizer: clip, then AdamW on the device parameters
    ft_optim oc, og;
    assert_int_equal(ft_optim_init(&oc, ft_ops_cpu(), np, ft_adamw_default()), 0);
    assert_int_equal(ft_optim_init(&og, g, np, ft_adamw_default()), 0);
    double nc = ft_grad_clip(gc, np, 0.01), ng = ft_grad_clip_on(g, gg, np, 0.01);
    assert_true(nc == ng && nc > 0.01);
    for (int s = 0; s < 2; s++) {
        ft_optim_step(&oc, mc->params, gc, 1e-3f);
        ft_optim_step(&og, mg->params, gg, 1e-3f);
    }
    h = down(g, mg->params, np * sizeof(float));
    assert_memory_equal(h, mc->params, np * sizeof(float));
    free(h);
    // KV-cache decoding after the update: prefill in chunks, then token by token
    ft_kvcache kc, kg;
    assert_int_equal(ft_kvcache_init(&kc, mc, 12, 3), 0);
    assert_int_equal(ft_kvcache_init(&kg, mg, 12, 3), 0);
    assert_int_equal(ft_model_decode(mc, &kc, tok, 5, lc), 0);
    assert_int_equal(ft_model_decode(mg, &kg, tok, 5, lg), 0);
    assert_memory_equal(lc, lg, V * sizeof(float));
    for (int i = 5; i < 12; i++) {
        assert_int_equal(ft_model_decode(mc, &kc, tok + i, 1, lc), 0);
        assert_int_equal(ft_model_decode(mg, &kg, tok + i, 1, lg), 0);
        assert_memory_equal(lc, lg, V * sizeof(float));
    }
    ft_kvcache_free(&kc);
    ft_kvcache_free(&kg);
    ft_optim_free(&oc);
    ft_optim_free(&og);
    free(lc);
    free(lg);
    free(gc);
    g->free(gg);
    ft_backward_free(&wc);
    ft_backward_free(&wg);
    ft_acts_free(&ac);
    ft_acts_free(&ag);
    ft_model_free(mc);
    ft_model_free(mg);
}

static void test_untied_bias(void **st) { run(0, 1); }
static void test_tied(void **st) { run(1, 0); }

// LoRA on every linear (packed rows): the device copies of the hooks get the CPU's gradients,
// and their forward the CPU's loss, bit for bit.
static void test_lora(void **st) {
    tu_model_spec sp = {.bias = 1};
    ft_model *mc = tu_tiny_model(&sp, 5), *mg = tu_tiny_model(&sp, 5);
    const ft_ops *g = ft_ops_guard();
    enum { R = 2, MAXH = 16 };
    ft_lora hooks[MAXH];
    float mem[MAXH][2][R * 64], grad[MAXH][2][R * 64];
    memset(hooks, 0, sizeof hooks);
    memset(grad, 0, sizeof grad);
    ft_rng r;
    ft_rng_seed(&r, 8);
    int k = 0;
    size_t nf = 0;
    for (int l = 0; l < mc->cfg.n_layers; l++) {
        ft_linear *lin;
        for (int j = 0; (lin = ft_model_layer_linear(mc, l, j, NULL)); j++, k++) {
            assert_true(k < MAXH && lin->in <= 32 && lin->out <= 32);
            ft_lora *h = &hooks[k];
            h->r = R; h->scale = 1.5f; h->A = mem[k][0]; h->B = mem[k][1]; h->dA = grad[k][0]; h->dB = grad[k][1];
            for (int i = 0; i < R * lin->in; i++) h->A[i] = ft_rng_float(&r) - 0.5f;
            for (int i = 0; i < R * lin->out; i++) h->B[i] = ft_rng_float(&r) - 0.5f;   // non-zero: B gets dA
            nf += (size_t)R * (lin->in + lin->out);
            lin->lora = h;
            ft_model_layer_linear(mg, l, j, NULL)->lora = h;
        }
    }
    assert_int_equal(ft_model_to_device(mg, g), 0);
    float *dp, *dg;
    assert_int_equal(ft_model_device_lora(mg, &dp, &dg), nf);
    assert_non_null(dg);
    int32_t tok[N], tgt[N], doc[N];
    for (int i = 0; i < N; i++) { tok[i] = (i * 3 + 1) % 23; tgt[i] = (i * 11 + 2) % 23; doc[i] = i % T > 4; }
    ft_acts ac, ag;
    ft_backward_ws wc, wg;
    assert_int_equal(ft_acts_alloc(&ac, &mc->cfg, B, T, 1), 0);
    assert_int_equal(ft_model_acts_alloc(mg, &ag, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&wc, &mc->cfg, B, T), 0);
    assert_int_equal(ft_model_backward_alloc(mg, &wg, B, T), 0);
    assert_int_equal(ft_model_forward(mc, &ac, tok, NULL, doc, B, T), 0);
    assert_int_equal(ft_model_forward(mg, &ag, tok, NULL, doc, B, T), 0);
    double lc = ft_model_backward(mc, &ac, &wc, tok, doc, tgt, NULL, B, T, NULL, 0.25f);
    double lg = ft_model_backward(mg, &ag, &wg, tok, doc, tgt, NULL, B, T, NULL, 0.25f);
    assert_true(lc == lg);
    float *want = malloc(nf * sizeof(float)), *p = want, *got = down(g, dg, nf * sizeof(float));
    for (int i = 0; i < k; i++) {
        const ft_linear *lin = ft_model_layer_linear(mc, i / 7, i % 7, NULL);
        memcpy(p, hooks[i].dA, (size_t)R * lin->in * sizeof(float));
        p += (size_t)R * lin->in;
        memcpy(p, hooks[i].dB, (size_t)R * lin->out * sizeof(float));
        p += (size_t)R * lin->out;
    }
    assert_memory_equal(got, want, nf * sizeof(float));
    double sq = 0;
    for (size_t i = 0; i < nf; i++) sq += (double)want[i] * want[i];
    assert_true(sq > 0);
    free(want);
    free(got);
    ft_backward_free(&wc);
    ft_backward_free(&wg);
    ft_acts_free(&ac);
    ft_acts_free(&ag);
    for (int l = 0; l < mc->cfg.n_layers; l++)
        for (int j = 0; j < 7; j++) ft_model_layer_linear(mc, l, j, NULL)->lora = NULL;
    ft_model_free(mc);
    ft_model_free(mg);
}

// A device table without an op the attached adapter needs (as CUDA has no DoRA ops yet) is
// refused naming the op, and the model is left on the CPU.
static void test_refusals(void **st) {
    tu_model_spec sp = {0};
    ft_model *m = tu_tiny_model(&sp, 3);
    ft_linear *lin = ft_model_layer_linear(m, 0, 0, NULL);
    ft_lora h = {0};
    float mag[64];
    h.r = 1; h.A = mag; h.B = mag; h.mag = mag;
    lin->lora = &h;
    ft_ops t = *ft_ops_guard();
    t.dora_norm_backward_A = NULL;
    assert_int_equal(ft_model_to_device(m, &t), -1);
    assert_non_null(strstr(ft_errmsg(), "device guard has no dora_norm_backward_A op"));
    assert_ptr_equal(m->ops, ft_ops_cpu());   // untouched
    lin->lora = NULL;
    assert_int_equal(ft_model_to_device(m, ft_ops_cpu()), 0);
    ft_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untied_bias),
        cmocka_unit_test(test_tied),
        cmocka_unit_test(test_lora),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
