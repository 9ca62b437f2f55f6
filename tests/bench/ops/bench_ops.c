// bench_ops.c — speed of the CPU op table at SmolLM2-135M shapes (C=576, F=1536, V=49152,
// 9 query / 3 kv heads of 64), one row of T tokens by default: achieved GFLOP/s of each op
// against the cblas_sgemm peak measured in the same run (before; re-measured after, to show
// whether the machine was busy).
// Usage: bench_ops [T] [B]
#include "ops.h"
#include "sgemm_peak.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float *randf(size_t n, float s) {
    float *p = malloc(n * sizeof *p);
    unsigned x = 12345;
    for (size_t i = 0; i < n; i++) { x = x * 1664525u + 1013904223u; p[i] = s * ((x >> 8) / 16777216.0f - 0.5f); }
    return p;
}

static double peak, peak_cpu;  // GFLOP/s of sgemm: wall clock, and per CPU-second
static double last_cpu;         // CPU seconds of the run TIME() returned

// Wall-clock rate and share of the wall-clock sgemm peak, then the same per CPU-second (robust
// when other processes share the cores: both the op and the peak are charged only their own time).
static void report(const char *what, double flops, double sec) {
    double g = flops / sec * 1e-9, gc = flops / last_cpu * 1e-9;
    printf("%-30s %9.2f ms %7.1f GFLOP/s %5.1f%% | per CPU-s %6.1f GFLOP %5.1f%%\n", what, sec * 1e3, g,
           100 * g / peak, gc, 100 * gc / peak_cpu);
}

// best of reps runs after one warm-up (the machine may be shared: the minimum is the least disturbed)
#define TIME(reps, stmt) ({ stmt; double _best = 1e30; for (int _r = 0; _r < (reps); _r++) { \
    double _t0 = ft_bench_now(), _c0 = ft_bench_cpu(); stmt; double _dt = ft_bench_now() - _t0; \
    if (_dt < _best) { _best = _dt; last_cpu = ft_bench_cpu() - _c0; } } _best; })

int main(int argc, char **argv) {
    int T = argc > 1 ? atoi(argv[1]) : 512, B = argc > 2 ? atoi(argv[2]) : 1;
    int N = B * T, C = 576, F = 1536, V = 49152, Hq = 9, Hkv = 3, D = 64;
    const ft_ops *ops = ft_ops_cpu();
    peak = ft_bench_sgemm_peak(1024, &peak_cpu);  // measured again at the end
    printf("sgemm peak (1024^3, cblas_sgemm): %.1f GFLOP/s wall, %.1f GFLOP per CPU-second (before)\n", peak, peak_cpu);
    printf("shapes: B=%d T=%d C=%d F=%d V=%d Hq=%d Hkv=%d D=%d\n", B, T, C, F, V, Hq, Hkv, D);

    float *x = randf((size_t)N * C, 1), *w = randf((size_t)F * C, 0.1f), *out = randf((size_t)N * F, 1);
    float *dx = calloc((size_t)N * C, 4), *dw = calloc((size_t)F * C, 4);
    double mm = 2.0 * N * C * F;
    report("matmul (N,576)x(1536,576)^T", mm, TIME(5, ops->matmul(out, x, w, NULL, N, C, F)));
    report("matmul_backward dx+dw", 2 * mm, TIME(5, ops->matmul_backward(dx, dw, NULL, out, x, w, N, C, F)));

    size_t nq = (size_t)N * Hq * D, nk = (size_t)N * Hkv * D;
    float *q = randf(nq, 1), *k = randf(nk, 1), *v = randf(nk, 1), *o = malloc(nq * 4), *lse = malloc((size_t)B * Hq * T * 4);
    float *dq = calloc(nq, 4), *dk = calloc(nk, 4), *dv = calloc(nk, 4);
    // QK^T and PV over the causal half; the backward recomputes S, so it does 5 such products
    double af = 4.0 * B * Hq * (double)T * (T + 1) / 2 * D;
    report("attention causal", af, TIME(3, ops->attention(o, lse, q, k, v, NULL, B, T, Hq, Hkv, D)));
    report("attention_backward", 2.5 * af, TIME(3, ops->attention_backward(dq, dk, dv, o, o, lse, q, k, v, NULL, B, T, Hq, Hkv, D)));

    float *wv = randf((size_t)V * C, 0.05f), *dwv = calloc((size_t)V * C, 4), *dh = calloc((size_t)N * C, 4);
    int32_t *tgt = malloc(N * 4);
    for (int n = 0; n < N; n++) tgt[n] = (n * 7919) % V;
    double xf = 2.0 * N * C * V;
    report("lm_head_xent loss only", xf, TIME(2, ops->lm_head_xent(NULL, NULL, x, wv, tgt, NULL, N, C, V, 1.0f)));
    report("lm_head_xent + dh + dw", 3 * xf, TIME(2, ops->lm_head_xent(dh, dwv, x, wv, tgt, NULL, N, C, V, 1.0f)));

    float *g = calloc(C, 4), *rstd = malloc(N * 4), *y = malloc((size_t)N * C * 4);
    for (int i = 0; i < C; i++) g[i] = 1;
    double t = TIME(20, ops->rmsnorm(y, rstd, x, g, N, C, 1e-5f));
    printf("%-30s %9.3f ms %7.2f GB/s\n", "rmsnorm", t * 1e3, 8.0 * N * C / t * 1e-9);
    float *up = randf((size_t)N * F, 1), *sw = malloc((size_t)N * F * 4);
    t = TIME(20, ops->swiglu(sw, out, up, N, F));
    printf("%-30s %9.3f ms %7.2f GB/s\n", "swiglu", t * 1e3, 12.0 * N * F / t * 1e-9);
    int32_t *pos = malloc(N * 4);
    float inv[32];
    for (int n = 0; n < N; n++) pos[n] = n % T;
    for (int i = 0; i < D / 2; i++) inv[i] = powf(10000.f, -2.0f * i / D);
    t = TIME(20, ops->rope(q, pos, inv, N, Hq, D));
    printf("%-30s %9.3f ms %7.2f GB/s\n", "rope (q)", t * 1e3, 8.0 * nq / t * 1e-9);
    double p2c, p2 = ft_bench_sgemm_peak(1024, &p2c);
    printf("sgemm peak (1024^3, cblas_sgemm): %.1f GFLOP/s wall, %.1f per CPU-second (after)%s\n", p2, p2c,
           p2 > 1.25 * peak || peak > 1.25 * p2 ? "  -- unstable: the machine is busy, ratios are rough" : "");
    return 0;
}
