// bench_train_cuda.c — training throughput of the CUDA op table: full and LoRA training steps
// (forward, backward, AdamW) of a Llama-shaped model with random weights, lib/model itself
// moved onto the GPU (ft_model_to_device: the code ft-train runs), timed on the GPU. Prints tokens/s, achieved TFLOP/s,
// MFU against 989 TFLOP/s (dense bf16 peak of H100/H200 SXM, the yardstick) and the
// share of this device's f32 GEMM rate measured in the same run (the peer: this backend is f32).
//   bench_train_cuda [--layers L] [--seq T] [--batch B] [--steps S] [--small]
// Default shape: Llama-3.2-1B (V=128256, C=2048, F=8192, L=16, 32/8 heads of 64), seq 2048.
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
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// f32 GEMM rate of ops->matmul at 4096^3 (TFLOP/s)
static double gemm_rate(const ft_ops *o) {
    int n = 4096;
    float *a = ft_cuda_malloc((size_t)n * n * 4), *b = ft_cuda_malloc((size_t)n * n * 4), *c = ft_cuda_malloc((size_t)n * n * 4);
    if (!a || !b || !c) return 0;
    ft_cuda_memset(a, 0, (size_t)n * n * 4);
    ft_cuda_memset(b, 0, (size_t)n * n * 4);
    o->matmul(c, a, b, NULL, n, n, n);
    ft_cuda_sync();
    double t0 = now();
    for (int i = 0; i < 5; i++) o->matmul(c, a, b, NULL, n, n, n);
    ft_cuda_sync();
    double dt = now() - t0;
    ft_cuda_free(a); ft_cuda_free(b); ft_cuda_free(c);
    return 5 * 2.0 * n * n * (double)n / dt / 1e12;
}

// bf16-operand GEMM rate of ft_cuda_matmul_bf16 at 4096^3 (TFLOP/s): what the tensor cores give
static double gemm_rate_bf16(void) {
    int n = 4096;
    uint16_t *a = ft_cuda_malloc((size_t)n * n * 2), *b = ft_cuda_malloc((size_t)n * n * 2);
    float *c = ft_cuda_malloc((size_t)n * n * 4);
    double r = 0;
    if (a && b && c && ft_cuda_memset(a, 0, (size_t)n * n * 2) == 0 && ft_cuda_memset(b, 0, (size_t)n * n * 2) == 0 &&
        ft_cuda_matmul_bf16(c, a, b, NULL, n, n, n) == 0 && ft_cuda_sync() == 0) {
        double t0 = now();
        for (int i = 0; i < 10; i++) ft_cuda_matmul_bf16(c, a, b, NULL, n, n, n);
        ft_cuda_sync();
        r = 10 * 2.0 * n * n * (double)n / (now() - t0) / 1e12;
    }
    ft_cuda_free(a); ft_cuda_free(b); ft_cuda_free(c);
    return r;
}

typedef struct { int V, C, F, L, Hq, Hkv, D, B, T; } shape;

// The model with seeded random weights, LoRA (r > 0: rank r on every linear, host hooks with
// gradients, copied to the device) or full, on the GPU. NULL + message on failure.
static ft_model *make(const shape *s, int r, ft_lora **hooks, float **mem) {
    ft_config c;
    memset(&c, 0, sizeof c);
    strcpy(c.arch, "llama");
    c.vocab_size = s->V; c.hidden = s->C; c.intermediate = s->F; c.n_layers = s->L;
    c.n_heads = s->Hq; c.n_kv_heads = s->Hkv; c.head_dim = s->D;
    c.rms_eps = 1e-5f; c.rope_theta = 500000.0f; c.max_pos = s->T; c.tie_embeddings = 1; c.bos_id = -1;
    ft_model *m = ft_model_new(&c);
    if (!m) return NULL;
    ft_rng g;
    ft_rng_seed(&g, 1);
    float amp = 2.0f / sqrtf((float)s->C);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] = (ft_rng_float(&g) - 0.5f) * amp;
    for (int t = 0; t < m->n_tensors; t++)
        if (strstr(m->tensors[t].name, "norm"))
            for (size_t i = 0; i < m->tensors[t].numel; i++) m->params[m->tensors[t].offset + i] = 1.0f;
    *hooks = NULL;
    *mem = NULL;
    if (r > 0) {
        size_t nf = 0;
        int n = 0;
        ft_linear *lin;
        for (int l = 0; l < s->L; l++)
            for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++, n++) nf += (size_t)r * (lin->in + lin->out);
        *hooks = calloc((size_t)n, sizeof **hooks);
        *mem = calloc(2 * nf, sizeof **mem);   // A/B then dA/dB (host side only until the copy)
        if (!*hooks || !*mem) { ft_model_free(m); return NULL; }
        float *p = *mem;
        n = 0;
        for (int l = 0; l < s->L; l++)
            for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++, n++) {
                ft_lora *h = &(*hooks)[n];
                h->r = r; h->scale = 2.0f;
                h->A = p; h->dA = p + nf; p += (size_t)r * lin->in;
                h->B = p; h->dB = p + nf; p += (size_t)r * lin->out;
                for (float *q = h->A; q < h->B; q++) *q = (ft_rng_float(&g) - 0.5f) / sqrtf((float)lin->in);
                lin->lora = h;   // B = 0, as a fresh adapter
            }
    }
    if (ft_model_to_device(m, ft_ops_cuda()) < 0) { ft_model_free(m); return NULL; }
    return m;
}

int main(int argc, char **argv) {
    shape c = {.V = 128256, .C = 2048, .F = 8192, .L = 16, .Hq = 32, .Hkv = 8, .D = 64, .B = 1, .T = 2048};
    int steps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small")) { c.V = 8000; c.C = 512; c.F = 1536; c.L = 4; c.Hq = 8; c.Hkv = 4; c.D = 64; c.T = 512; }
        else if (i + 1 < argc && !strcmp(argv[i], "--layers")) c.L = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--seq")) c.T = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--batch")) c.B = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--steps")) steps = atoi(argv[++i]);
        else { fprintf(stderr, "usage: %s [--layers L] [--seq T] [--batch B] [--steps S] [--small]\n", argv[0]); return 2; }
    }
    const ft_ops *o = ft_ops_cuda();
    if (!o) { fprintf(stderr, "skip: no CUDA device (%s)\n", ft_errmsg()); return 77; }
    double peak = 989.0, g32 = gemm_rate(o), g16 = gemm_rate_bf16();
    int N = c.B * c.T;
    double QD = (double)c.Hq * c.D, KD = (double)c.Hkv * c.D;
    double nmm = c.L * (c.C * QD * 2 + c.C * KD * 2 + 3.0 * c.C * c.F) + (double)c.V * c.C;
    double att = 6.0 * c.B * c.L * c.Hq * c.D * (double)c.T * c.T;
    printf("device: %s\n", ft_cuda_device_name());
    printf("model: V=%d C=%d F=%d L=%d heads %d/%d D=%d (%.2fB params in matmuls), batch %d x seq %d, f32\n", c.V,
           c.C, c.F, c.L, c.Hq, c.Hkv, c.D, nmm / 1e9, c.B, c.T);
    printf("measured GEMM 4096^3: f32 (ops->matmul) %.1f TFLOP/s, bf16 operands (ft_cuda_matmul_bf16) %.1f TFLOP/s;"
           " MFU against %.0f TFLOP/s (bf16 dense)\n", g32, g16, peak);
    printf("%-6s %10s %9s %10s %7s %11s\n", "method", "tokens/s", "s/step", "TFLOP/s", "MFU", "% f32 GEMM");
    int32_t *ids = malloc(N * 4ul), *tg = malloc(N * 4ul), *doc = malloc(N * 4ul), *pos = malloc(N * 4ul);
    for (int i = 0; i < N; i++) {
        ids[i] = (int32_t)((i * 2654435761u) % c.V);
        tg[i] = (int32_t)((i * 40503u + 7) % c.V);
        doc[i] = (i % c.T) / 512;  // packed documents of 512 tokens
        pos[i] = (i % c.T) % 512;
    }
    int rc = 0;
    for (int lora = 1; lora >= 0; lora--) {
        int r = lora ? 16 : 0;
        ft_lora *hooks = NULL;
        float *mem = NULL;
        ft_model *m = make(&c, r, &hooks, &mem);
        ft_acts a = {0};
        ft_backward_ws ws = {0};
        ft_optim opt = {0};
        float *p = NULL, *g = NULL;
        size_t n = 0;
        if (m && lora) n = ft_model_device_lora(m, &p, &g);
        else if (m) { p = m->params; n = m->n_params; g = o->alloc(n * sizeof(float)); }
        if (!m || !g || ft_model_acts_alloc(m, &a, c.B, c.T, 1) || ft_model_backward_alloc(m, &ws, c.B, c.T) ||
            ft_optim_init(&opt, o, n, ft_adamw_default())) {
            fprintf(stderr, "%s: %s\n", lora ? "lora" : "full", ft_errmsg());
            rc = 1;
        } else {
            double flops;
            if (lora) {  // frozen base: forward 2N + dx 2N; adapters 6r(I+O) per token per linear
                double io = c.L * (2 * (c.C + QD) + 2 * (c.C + KD) + 3 * (c.C + (double)c.F));
                flops = (4 * nmm + 6.0 * r * io) * N + att;
            } else {
                flops = 6 * nmm * N + att;
            }
            double t0 = 0, loss = 0;
            for (int s = 0; s <= steps; s++) {  // step 0 warms up (scratch buffers, cuBLAS plans)
                if (s == 1) { ft_cuda_sync(); t0 = now(); }
                o->zero(g, n * sizeof(float));
                if (ft_model_forward(m, &a, ids, pos, doc, c.B, c.T)) { loss = NAN; break; }
                loss = ft_model_backward(m, &a, &ws, ids, doc, tg, NULL, c.B, c.T, lora ? NULL : g, 1.0f / N) / N;
                ft_grad_clip_on(o, g, n, 1.0);
                ft_optim_step(&opt, p, g, 1e-4f);
            }
            if (ft_cuda_sync() < 0 || !isfinite(loss)) { fprintf(stderr, "%s\n", ft_errmsg()); rc = 1; }
            double dt = (now() - t0) / steps, tf = flops / dt / 1e12;
            printf("%-6s %10.0f %9.3f %10.1f %6.1f%% %10.1f%%   (loss %.4f)\n", lora ? "lora" : "full", N / dt, dt, tf,
                   100 * tf / peak, 100 * tf / g32, loss);
        }
        if (!lora && g) o->free(g);
        ft_optim_free(&opt);
        ft_backward_free(&ws);
        ft_acts_free(&a);
        ft_model_free(m);
        free(hooks);
        free(mem);
    }
    free(ids); free(tg); free(doc); free(pos);
    return rc;
}
