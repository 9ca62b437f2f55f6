// sgemm_peak.h — the machine's measured single-precision GEMM peak, for benchmarks that report
// achieved GFLOP/s as a fraction of it (tests/bench/*/). Link sgemm_peak.c with -lopenblas.
#ifndef FT_SGEMM_PEAK_H
#define FT_SGEMM_PEAK_H

// Best GFLOP/s of cblas_sgemm on n x n x n (all threads) over a few repetitions; with no BLAS
// (built without FT_HAVE_BLAS) it times the op table's matmul instead. *per_cpu (may be NULL)
// receives the best GFLOP per CPU-second of the process (all threads' time summed): on a
// shared, busy machine that rate stays meaningful when wall-clock rates do not.
double ft_bench_sgemm_peak(int n, double *per_cpu);
// Monotonic wall clock, and CPU time of the whole process, in seconds.
double ft_bench_now(void);
double ft_bench_cpu(void);

#endif
