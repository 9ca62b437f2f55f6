// bootstrap.c — seeded resampling for confidence intervals: a xoshiro256** generator,
// percentiles, and (paired) bootstrap of a corpus metric computed from summed per-record
// statistics (a mean, or BLEU/chrF from their sufficient statistics).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "metrics.h"

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void ft_rng_seed(ft_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ft_rng_next(ft_rng *r) {
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

size_t ft_rng_below(ft_rng *r, size_t n) {
    if (n <= 1) return 0;
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;   // rejection: no modulo bias
    do x = ft_rng_next(r);
    while (x >= lim);
    return (size_t)(x % n);
}

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
            size_t k = ft_rng_below(&rng, n);
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
