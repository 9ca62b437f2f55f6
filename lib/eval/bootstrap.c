// bootstrap.c — seeded resampling for confidence intervals (rng.h): percentiles, and (paired) bootstrap of a corpus metric computed from summed per-record
// statistics (a mean, or BLEU/chrF from their sufficient statistics).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "eval/metrics.h"

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ft_percentile(double *x, size_t n, double q) {
    if (n == 0) return NAN;
    qsort(x, n, sizeof *x, cmp_d);
    double pos = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    return x[lo] + (x[hi] - x[lo]) * frac;
}

double ft_stat_mean(const double *sum, size_t n, void *ctx) {
    (void)ctx;
    return n ? sum[0] / (double)n : 0.0;
}

static int boot(const double *a, const double *b, size_t n, size_t dim, ft_stat_metric f, void *ctx, int samples,
                uint64_t seed, double *lo, double *hi) {
    if (n == 0 || samples < 1) { *lo = *hi = NAN; return 0; }
    double *vals = ft_malloc((size_t)samples * sizeof *vals);
    double *sa = ft_malloc(2 * dim * sizeof *sa);
    if (!vals || !sa) { free(vals); free(sa); return -1; }
    double *sb = sa + dim;
    ft_rng rng;
    ft_rng_seed(&rng, seed);
    for (int s = 0; s < samples; s++) {
        memset(sa, 0, 2 * dim * sizeof *sa);
        for (size_t i = 0; i < n; i++) {
            size_t k = (size_t)ft_rng_below(&rng, n);
            for (size_t d = 0; d < dim; d++) sa[d] += a[k * dim + d];
            if (b)
                for (size_t d = 0; d < dim; d++) sb[d] += b[k * dim + d];
        }
        vals[s] = b ? f(sb, n, ctx) - f(sa, n, ctx) : f(sa, n, ctx);
    }
    *lo = ft_percentile(vals, (size_t)samples, 2.5);
    *hi = ft_percentile(vals, (size_t)samples, 97.5);
    free(vals);
    free(sa);
    return 0;
}

int ft_bootstrap_ci(const double *stats, size_t n, size_t dim, ft_stat_metric f, void *ctx, int samples,
                    uint64_t seed, double *lo, double *hi) {
    return boot(stats, NULL, n, dim, f, ctx, samples, seed, lo, hi);
}

int ft_bootstrap_paired(const double *a, const double *b, size_t n, size_t dim, ft_stat_metric f, void *ctx,
                        int samples, uint64_t seed, double *lo, double *hi) {
    return boot(a, b, n, dim, f, ctx, samples, seed, lo, hi);
}
