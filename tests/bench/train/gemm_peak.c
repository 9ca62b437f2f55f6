// gemm_peak.c — this machine's measured GEMM rates, the yardsticks of tests/bench/train/run.sh:
//   gemm_peak f32|bf16|dnnl N REPS [M K]   best GFLOP/s of C(M,N) = A(M,K) @ B(N,K)^T
// (GEMM_PEAK_CPU=1: per CPU-second of all its threads, the rate a core gives when shared)
// f32: ft's sgemm (OpenBLAS); bf16: ft's bf16 GEMM (kernels/cpu/cpu_bf16.c, f32 operands rounded
// while packed); dnnl: oneDNN's dnnl_gemm_bf16bf16f32 on operands already in bf16 (only when
// built with -DFT_BENCH_DNNL -ldnnl: the measurement behind choosing our own kernel, docs/ft-train.md).
#include "cpu/cpu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef FT_BENCH_DNNL
#include <oneapi/dnnl/dnnl.h>
// exported by libdnnl (row-major like dnnl_sgemm) but left out of Debian's 2.6 headers
dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N, dnnl_dim_t K, float alpha,
                                    const uint16_t *A, dnnl_dim_t lda, const uint16_t *B, dnnl_dim_t ldb, float beta,
                                    float *C, dnnl_dim_t ldc);
#endif

static double clk(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static double now(void) { return clk(CLOCK_MONOTONIC); }

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: gemm_peak f32|bf16|dnnl N REPS [M K]\n"); return 2; }
    const char *kind = argv[1];
    int n = atoi(argv[2]), reps = atoi(argv[3]);
    int m = argc > 4 ? atoi(argv[4]) : n, k = argc > 5 ? atoi(argv[5]) : n;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * n * k), *c = malloc(sizeof(float) * m * n);
    uint16_t *ah = malloc(2ul * m * k), *bh = malloc(2ul * n * k);
    for (long i = 0; i < (long)m * k; i++) { a[i] = (float)(i % 7) * 0.1f; ah[i] = ft_cpu_f32_to_bf16(a[i]); }
    for (long i = 0; i < (long)n * k; i++) { b[i] = (float)(i % 5) * 0.2f; bh[i] = ft_cpu_f32_to_bf16(b[i]); }
    double best = 0, best_cpu = 0;
    for (int r = 0; r <= reps; r++) {   // the first run warms up
        double t0 = now(), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
        if (!strcmp(kind, "f32")) ft_cpu_sgemm(0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
        else if (!strcmp(kind, "bf16")) ft_cpu_gemm_bf16(0, 1, m, n, k, 1.0f, a, k, b, 0, k, 0.0f, c, n);
#ifdef FT_BENCH_DNNL
        else if (!strcmp(kind, "dnnl")) {
            dnnl_status_t st = dnnl_gemm_bf16bf16f32('N', 'T', m, n, k, 1.0f, ah, k, bh, k, 0.0f, c, n);
            if (st != dnnl_success) { fprintf(stderr, "dnnl_gemm_bf16bf16f32: status %d\n", (int)st); return 1; }
        }
#endif
        else { fprintf(stderr, "gemm_peak: unknown kind %s\n", kind); return 2; }
        double g = 2.0 * m * n * k / (now() - t0) / 1e9;
        double gc = 2.0 * m * n * k / (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e9;
        if (r && g > best) best = g;
        if (r && gc > best_cpu) best_cpu = gc;
    }
    double sum = 0;   // a checksum, so the kinds can be compared
    for (long i = 0; i < (long)m * n; i++) sum += c[i];
    if (getenv("GEMM_PEAK_SUM")) fprintf(stderr, "checksum %.6g\n", sum);
    // GEMM_PEAK_CPU: GFLOP per CPU-second of all threads instead (steadier on a loaded machine)
    if (getenv("GEMM_PEAK_CPU")) best = best_cpu;
    printf("%.2f\n", best);
    free(a); free(b); free(c); free(ah); free(bh);
    return 0;
}
