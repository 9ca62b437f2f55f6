// test_cuda_model.c — whole-model check of the CUDA op table on lib/model itself: the same
// seeded Llama-family model (GQA, packed documents with restarting positions, loss mask,
// tied or untied LM head, q/k/v biases) once on the CPU table and once moved to the GPU
// (ft_model_to_device), activations, workspace, gradients and optimizer state allocated
// through each table. Compares the loss and every gradient of full fine-tuning, three
// clipped AdamW steps (losses must keep agreeing), logits, KV-cache decoding, and the
// forward with a LoRA adapter attached. Exit 0 / 1, or 77 with "skip: ..." when no device.
#include "cuda/ft_cuda.h"
#include "core/err.h"
#include "model/model.h"
#include "model/model_backward.h"
#include "optim/optim.h"
#include "core/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_failed;

typedef struct { int V, C, F, L, Hq, Hkv, tie, bias, B, T; } shape;

static ft_model *make(const shape *s, uint64_t seed) {
    ft_config c;
    memset(&c, 0, sizeof c);
    strcpy(c.arch, s->bias ? "qwen2" : "llama");
    c.vocab_size = s->V; c.hidden = s->C; c.intermediate = s->F; c.n_layers = s->L;
    c.n_heads = s->Hq; c.n_kv_heads = s->Hkv; c.head_dim = s->C / s->Hq;
    c.rms_eps = 1e-5f; c.rope_theta = 10000.0f; c.max_pos = 4096;
    c.tie_embeddings = s->tie; c.attn_bias = s->bias; c.bos_id = -1;
    ft_model *m = ft_model_new(&c);
    if (!m) return NULL;
    ft_rng r;
    ft_rng_seed(&r, seed);
    float amp = 2.0f / sqrtf((float)s->C);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] = (ft_rng_float(&r) - 0.5f) * amp;
    for (int t = 0; t < m->n_tensors; t++)
        if (strstr(m->tensors[t].name, "norm"))
            for (size_t i = 0; i < m->tensors[t].numel; i++) m->params[m->tensors[t].offset + i] += 1.0f;
    return m;
}

// max |a - b| / max |a| over n floats (b read back from the device when dev)
static void cmp(const char *what, const float *a, const float *b, size_t n, int dev, double tol) {
    float *h = (float *)b;
    if (dev) {
        h = malloc(n * sizeof *h);
        if (!h || ft_cuda_download(h, b, n * sizeof *h) < 0) { printf("FAIL %s: download (%s)\n", what, ft_errmsg()); n_failed++; free(h); return; }
    }
    double md = 0, ma = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(h[i])) { bad++; continue; }
        double d = fabs((double)a[i] - h[i]);
        if (d > md) md = d;
        if (fabs(a[i]) > ma) ma = fabs(a[i]);
    }
    double rel = md / (ma > 0 ? ma : 1);
    int ok = !bad && rel <= tol && ma > 0;
    if (!ok) n_failed++;
    printf("%-4s %-40s %zu values  rel %.3e  tol %.0e%s\n", ok ? "ok" : "FAIL", what, n, rel, tol, bad ? "  (non-finite)" : "");
    if (dev) free(h);
}

static void cmp_loss(const char *what, double a, double b, double tol) {
    double rel = fabs(a - b) / fabs(a);
    int ok = isfinite(b) && rel <= tol;
    if (!ok) n_failed++;
    printf("%-4s %-40s cpu %.9f cuda %.9f  rel %.3e  tol %.0e\n", ok ? "ok" : "FAIL", what, a, b, rel, tol);
}

static void run(const char *name, const shape *s) {
    const ft_ops *gpu = ft_ops_cuda();
    int B = s->B, T = s->T, N = B * T;
    ft_model *mc = make(s, 7), *mg = make(s, 7);
    int32_t *ids = malloc(N * sizeof *ids), *tg = malloc(N * sizeof *tg), *doc = malloc(N * sizeof *doc),
            *pos = malloc(N * sizeof *pos);
    uint8_t *mask = malloc(N);
    uint64_t r = 12345;
    for (int i = 0; i < N; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)((r >> 33) % s->V);
        tg[i] = (int32_t)((r >> 17) % s->V);
        mask[i] = (r >> 60) != 0;                       // ~1 in 16 positions not a target
        doc[i] = (i % T) / 11 + (i / T) * 100;          // documents of 11 tokens
        pos[i] = (i % T) % 11;
    }
    ft_acts ac = {0}, ag = {0};
    ft_backward_ws wc = {0}, wg = {0};
    ft_optim oc = {0}, og = {0};
    float *gc = NULL, *gg = NULL;
    char what[128];
    if (!mc || !mg || ft_model_to_device(mg, gpu) < 0 || ft_acts_alloc(&ac, &mc->cfg, B, T, 1) ||
        ft_model_acts_alloc(mg, &ag, B, T, 1) || ft_backward_alloc(&wc, &mc->cfg, B, T) ||
        ft_model_backward_alloc(mg, &wg, B, T) || ft_optim_init(&oc, ft_ops_cpu(), mc->n_params, ft_adamw_default()) ||
        ft_optim_init(&og, gpu, mg->n_params, ft_adamw_default()) || !(gc = malloc(mc->n_params * 4)) ||
        !(gg = gpu->alloc(mg->n_params * 4))) {
        printf("FAIL %s: setup (%s)\n", name, ft_errmsg());
        n_failed++;
        goto done;
    }
    size_t np = mc->n_params;
    for (int step = 1; step <= 3; step++) {
        memset(gc, 0, np * 4);
        gpu->zero(gg, np * 4);
        double lc = NAN, lg = NAN;
        if (!ft_model_forward(mc, &ac, ids, pos, doc, B, T))
            lc = ft_model_backward(mc, &ac, &wc, ids, doc, tg, mask, B, T, gc, 1.0f / N);
        if (!ft_model_forward(mg, &ag, ids, pos, doc, B, T))
            lg = ft_model_backward(mg, &ag, &wg, ids, doc, tg, mask, B, T, gg, 1.0f / N);
        snprintf(what, sizeof what, "%s loss, step %d", name, step);
        cmp_loss(what, lc, lg, 2e-5);
        snprintf(what, sizeof what, "%s gradients, step %d", name, step);
        cmp(what, gc, gg, np, 1, 2e-4);
        double nc = ft_grad_clip(gc, np, 1.0), ng = ft_grad_clip_on(gpu, gg, np, 1.0);
        snprintf(what, sizeof what, "%s grad norm, step %d", name, step);
        cmp_loss(what, nc, ng, 1e-5);
        ft_optim_step(&oc, mc->params, gc, 1e-3f);
        ft_optim_step(&og, mg->params, gg, 1e-3f);
    }
    snprintf(what, sizeof what, "%s parameters after 3 steps", name);
    cmp(what, mc->params, mg->params, np, 1, 1e-4);
    // logits of three rows, then KV-cache decoding: prefill in chunks of 5, then one at a time
    size_t V = (size_t)s->V;
    int rows[3] = {0, N / 2, N - 1}, nd = T < 24 ? T : 24;
    float *lc = malloc(3 * V * 4), *lg = malloc(3 * V * 4);
    ft_model_logits(mc, &ac, rows, 3, lc);
    ft_model_logits(mg, &ag, rows, 3, lg);
    snprintf(what, sizeof what, "%s logits", name);
    cmp(what, lc, lg, 3 * V, 0, 1e-4);
    ft_kvcache kc = {0}, kg = {0};
    if (ft_kvcache_init(&kc, mc, nd, 5) || ft_kvcache_init(&kg, mg, nd, 5) || ft_model_decode(mc, &kc, ids, 12, lc) ||
        ft_model_decode(mg, &kg, ids, 12, lg)) {
        printf("FAIL %s: decode (%s)\n", name, ft_errmsg());
        n_failed++;
    } else {
        for (int i = 12; i < nd; i++) {
            ft_model_decode(mc, &kc, ids + i, 1, lc);
            ft_model_decode(mg, &kg, ids + i, 1, lg);
        }
        snprintf(what, sizeof what, "%s KV-cache decode logits", name);
        cmp(what, lc, lg, V, 0, 1e-4);
    }
    ft_kvcache_free(&kc);
    ft_kvcache_free(&kg);
    free(lc);
    free(lg);
    if (ft_cuda_sync() < 0) { printf("FAIL %s: %s\n", name, ft_errmsg()); n_failed++; }
done:
    free(gc);
    if (gg) gpu->free(gg);
    ft_optim_free(&oc);
    ft_optim_free(&og);
    ft_backward_free(&wc);
    ft_backward_free(&wg);
    ft_acts_free(&ac);
    ft_acts_free(&ag);
    ft_model_free(mc);
    ft_model_free(mg);
    free(ids); free(tg); free(doc); free(pos); free(mask);
}

// Inference with a LoRA hook on every linear: the device copies of A and B give the CPU's logits.
static void run_lora(void) {
    shape s = {.V = 97, .C = 64, .F = 96, .L = 2, .Hq = 4, .Hkv = 2, .B = 1, .T = 33};
    ft_model *mc = make(&s, 9), *mg = make(&s, 9);
    int r = 4, n = mc->cfg.n_layers * 7;
    ft_lora *hooks = calloc((size_t)n, sizeof *hooks);
    float *mem = malloc((size_t)n * r * (96 + 96) * 2 * sizeof(float));
    ft_rng g;
    ft_rng_seed(&g, 3);
    float *p = mem;
    for (int l = 0, k = 0; l < mc->cfg.n_layers; l++) {
        ft_linear *lin;
        for (int j = 0; (lin = ft_model_layer_linear(mc, l, j, NULL)); j++, k++) {
            ft_lora *h = &hooks[k];
            h->r = r; h->scale = 2.0f; h->A = p; p += (size_t)r * lin->in; h->B = p; p += (size_t)lin->out * r;
            for (float *q = h->A; q < p; q++) *q = (ft_rng_float(&g) - 0.5f) * 0.2f;
            lin->lora = h;
            ft_model_layer_linear(mg, l, j, NULL)->lora = h;
        }
    }
    int32_t ids[33];
    for (int i = 0; i < 33; i++) ids[i] = (i * 13 + 5) % 97;
    ft_acts ac, ag;
    float *lc = malloc(33 * 97 * 4), *lg = malloc(33 * 97 * 4);
    if (ft_model_to_device(mg, ft_ops_cuda()) || ft_acts_alloc(&ac, &mc->cfg, 1, 33, 0) ||
        ft_model_acts_alloc(mg, &ag, 1, 33, 0) || ft_model_forward(mc, &ac, ids, NULL, NULL, 1, 33) ||
        ft_model_forward(mg, &ag, ids, NULL, NULL, 1, 33)) {
        printf("FAIL lora: %s\n", ft_errmsg());
        n_failed++;
    } else {
        ft_model_logits(mc, &ac, NULL, 33, lc);
        ft_model_logits(mg, &ag, NULL, 33, lg);
        cmp("lora forward logits", lc, lg, 33 * 97, 0, 1e-4);
        ft_acts_free(&ac);
        ft_acts_free(&ag);
    }
    free(lc); free(lg);
    ft_model_free(mc);
    ft_model_free(mg);
    free(hooks);
    free(mem);
}

int main(void) {
    if (!ft_ops_cuda()) {
        printf("skip: no CUDA device (%s)\n", ft_errmsg());
        return 77;
    }
    printf("device: %s\n", ft_cuda_device_name());
    shape full = {.V = 97, .C = 64, .F = 96, .L = 2, .Hq = 4, .Hkv = 2, .tie = 1, .B = 2, .T = 33};
    run("full tied", &full);
    shape bias = full;
    bias.tie = 0;
    bias.bias = 1;
    run("full untied qwen2-bias", &bias);
    // SmolLM2-135M's shapes (9 query / 3 kv heads of 64, C=576, F=1536, V=49152), 2 layers
    shape smol = {.V = 49152, .C = 576, .F = 1536, .L = 2, .Hq = 9, .Hkv = 3, .tie = 1, .B = 1, .T = 200};
    run("smollm2-shaped full", &smol);
    run_lora();
    printf("%s\n", n_failed ? "whole-model check FAILED" : "whole-model check passed");
    return n_failed ? 1 : 0;
}
