// bench_forward.c — forward-pass throughput against the machine's measured sgemm peak.
// Usage: bench_forward MODEL [B T]...   (prints one line per shape, and the peak first)
// The peak is the op table's own matmul on a large square problem (the best the forward's
// GEMMs can hope for); the forward counts 2 FLOPs per multiply-add (ft_model_flops_per_token).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/err.h"
#include "model/model.h"

static double sgemm_peak(const ft_ops *ops, int n) {
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++) { a[i] = (float)(i % 7) * 0.1f; b[i] = (float)(i % 5) * 0.1f; }
    ops->matmul(c, a, b, NULL, n, n, n);   // warm-up
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t = ft_now();
        ops->matmul(c, a, b, NULL, n, n, n);
        double g = 2.0 * n * n * (double)n / (ft_now() - t) / 1e9;
        if (g > best) best = g;
    }
    free(a); free(b); free(c);
    return best;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: bench_forward MODEL [B T]...\n"); return 2; }
    double t0 = ft_now();
    ft_model *m = ft_model_load(argv[1]);
    if (!m) { fprintf(stderr, "bench_forward: %s\n", ft_errmsg()); return 1; }
    printf("model %s: %d layers, hidden %d, vocab %d, %.1fM params; load %.2f s\n", argv[1], m->cfg.n_layers,
           m->cfg.hidden, m->cfg.vocab_size, m->n_params / 1e6, ft_now() - t0);
    double peak = sgemm_peak(m->ops, 1024);
    printf("sgemm peak (ops->matmul 1024^3): %.1f GFLOP/s\n", peak);
    int shapes[16][2] = {{1, 128}, {1, 512}, {4, 256}}, ns = 3;
    if (argc > 3) {
        ns = 0;
        for (int i = 2; i + 1 < argc && ns < 16; i += 2, ns++) { shapes[ns][0] = atoi(argv[i]); shapes[ns][1] = atoi(argv[i + 1]); }
    }
    for (int s = 0; s < ns; s++) {
        int B = shapes[s][0], T = shapes[s][1], N = B * T;
        ft_acts a;
        if (ft_acts_alloc(&a, &m->cfg, B, T, 0) < 0) { fprintf(stderr, "%s\n", ft_errmsg()); return 1; }
        int32_t *tok = malloc(sizeof(int32_t) * N), *tgt = malloc(sizeof(int32_t) * N);
        for (int i = 0; i < N; i++) { tok[i] = (i * 7919) % m->cfg.vocab_size; tgt[i] = tok[(i + 1) % N]; }
        ft_model_forward(m, &a, tok, NULL, NULL, B, T);   // warm-up
        double best = 1e30;
        for (int r = 0; r < 3; r++) {
            double t = ft_now();
            ft_model_forward(m, &a, tok, NULL, NULL, B, T);
            ft_model_loss(m, &a, tgt, NULL, N);   // lm_head on every position (as ppl does)
            double dt = ft_now() - t;
            if (dt < best) best = dt;
        }
        double gf = ft_model_flops_per_token(&m->cfg, T) * N / best / 1e9;
        printf("forward B=%d T=%-4d: %8.0f tokens/s  %7.1f GFLOP/s  %.2f of sgemm peak\n", B, T, N / best, gf,
               gf / peak);
        free(tok); free(tgt);
        ft_acts_free(&a);
    }
    // decoding with the KV cache: one token at a time after a 64-token prompt
    ft_kvcache kv;
    if (ft_kvcache_init(&kv, m, 256, 64) == 0) {
        int32_t p[64];
        for (int i = 0; i < 64; i++) p[i] = (i * 31) % m->cfg.vocab_size;
        float *lg = malloc(sizeof(float) * m->cfg.vocab_size);
        ft_model_decode(m, &kv, p, 64, lg);
        double t = ft_now();
        int n = 32;
        for (int i = 0; i < n; i++) { int32_t x = p[i]; ft_model_decode(m, &kv, &x, 1, lg); }
        printf("decode (KV cache, batch 1): %.1f tokens/s\n", n / (ft_now() - t));
        free(lg);
        ft_kvcache_free(&kv);
    }
    ft_model_free(m);
    return 0;
}
