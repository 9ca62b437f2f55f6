// sgemm_peak.h — the machine's measured single-precision GEMM peak, for benchmarks that report
// achieved GFLOP/s as a fraction of it (tests/bench/*/). Link sgemm_peak.c with -lopenblas.
#ifndef FT_SGEMM_PEAK_H
#define FT_SGEMM_PEAK_H

// Best GFLOP/s of cblas_sgemm on n x n x n (all threads) over a few repetitions; with no BLAS
// (built without FT_HAVE_BLAS) it times the op table's matmul instead.
double ft_bench_sgemm_peak(int n);
// Monotonic wall clock in seconds.
double ft_bench_now(void);

#endif
