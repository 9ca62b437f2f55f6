// sgemm_peak.c — measures the sgemm peak the benchmarks compare against (see sgemm_peak.h).
#include "sgemm_peak.h"
#include "ops.h"

#include <stdlib.h>
#include <time.h>

#ifdef FT_HAVE_BLAS
void cblas_sgemm(int order, int transa, int transb, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc);
#endif

double ft_bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double ft_bench_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double ft_bench_sgemm_peak(int n, double *per_cpu) {
    size_t nn = (size_t)n * n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    if (!a || !b || !c) { free(a); free(b); free(c); return 0; }
    for (size_t i = 0; i < nn; i++) { a[i] = (float)(i % 7) * 0.1f; b[i] = (float)(i % 5) * 0.1f; }
    double best = 1e30, best_cpu = 1e30;
    for (int rep = 0; rep < 8; rep++) {
        double t0 = ft_bench_now(), c0 = ft_bench_cpu();
#ifdef FT_HAVE_BLAS
        cblas_sgemm(101, 111, 112, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
#else
        ft_ops_cpu()->matmul(c, a, b, NULL, n, n, n);
#endif
        double dt = ft_bench_now() - t0, dc = ft_bench_cpu() - c0;
        if (rep > 0 && dt < best) best = dt;  // the first run warms threads and caches
        if (rep > 0 && dc < best_cpu) best_cpu = dc;
    }
    free(a); free(b); free(c);
    double flop = 2.0 * n * n * (double)n;
    if (per_cpu) *per_cpu = flop / best_cpu * 1e-9;
    return flop / best * 1e-9;
}
