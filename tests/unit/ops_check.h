// ops_check.h — helpers for the op-table tests (test_ops*.c): a seeded RNG, float/double
// copies, and the comparison used by every gradient check: analytic gradients from the float32
// op against central finite differences of a double-precision naive reference forward.
//
// Why these tolerances: the references run in double and the finite differences use h = 1e-5
// on smooth functions, so their error (~h^2 * f''' + 1e-16/h) is below 1e-9 relative. What is
// left is the float32 rounding of the op itself: each output is a sum of at most a few hundred
// products, giving relative errors around sqrt(K) * 6e-8 <= 2e-6. We require the max abs error
// to be <= 1e-4 of the largest reference magnitude (REL_TOL): an order of magnitude above the
// rounding noise, and orders of magnitude below what any wrong term (a missed mask, a lost
// transpose, a factor of 2, overwriting instead of accumulating) produces.
#ifndef FT_OPS_CHECK_H
#define FT_OPS_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define REL_TOL 1e-4
#define FD_H 1e-5

static uint64_t oc_state = 0x9E3779B97F4A7C15ull;
static inline void oc_seed(uint64_t s) { oc_state = s * 0x9E3779B97F4A7C15ull + 1; }
static inline uint64_t oc_next(void) {  // xorshift64*
    oc_state ^= oc_state >> 12; oc_state ^= oc_state << 25; oc_state ^= oc_state >> 27;
    return oc_state * 0x2545F4914F6CDD1Dull;
}
static inline float oc_unif(void) { return (float)((oc_next() >> 40) / 16777216.0) * 2.0f - 1.0f; } // [-1, 1)
static inline int oc_int(int n) { return (int)(oc_next() % (uint64_t)n); }

static inline float *oc_randf(size_t n, float scale) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = scale * oc_unif();
    return p;
}
static inline double *oc_todouble(const float *p, size_t n) {
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = p[i];
    return d;
}
static inline float *oc_copyf(const float *p, size_t n) {
    float *d = malloc(n * sizeof *d);
    memcpy(d, p, n * sizeof *d);
    return d;
}

// max |got - want| / max(max |want|, floor); prints the worst element when above tol.
static inline double oc_relerr(const char *what, const float *got, const double *want, size_t n,
                               double tol) {
    double amax = 0, emax = 0;
    size_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(want[i]) > amax) amax = fabs(want[i]);
        double e = fabs((double)got[i] - want[i]);
        if (!(e <= emax)) { emax = e; worst = i; }  // NaN counts as worst
    }
    double rel = emax / (amax > 1e-6 ? amax : 1e-6);
    if (!(rel <= tol))
        fprintf(stderr, "%s: rel err %.3g > %.3g (elem %zu: got %.9g want %.9g, max|want| %.3g)\n", what,
                rel, tol, worst, got[worst], want[worst], amax);
    return rel;
}

// Gradient of the analytic float op, accumulated on top of a prefilled buffer: returns
// (after - before) in double so "+=" semantics are checked too.
static inline double *oc_delta(const float *after, const float *before, size_t n) {
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = (double)after[i] - (double)before[i];
    return d;
}

// Compare a float gradient with a double one, both given as doubles (delta from prefill).
static inline double oc_relerr_d(const char *what, const double *got, const double *want, size_t n,
                                 double tol) {
    double amax = 0, emax = 0;
    size_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(want[i]) > amax) amax = fabs(want[i]);
        double e = fabs(got[i] - want[i]);
        if (!(e <= emax)) { emax = e; worst = i; }
    }
    double rel = emax / (amax > 1e-6 ? amax : 1e-6);
    if (!(rel <= tol))
        fprintf(stderr, "%s: rel err %.3g > %.3g (elem %zu: got %.9g want %.9g, max|want| %.3g)\n", what,
                rel, tol, worst, got[worst], want[worst], amax);
    return rel;
}

// Central finite differences of loss() with respect to x[idx[j]] (all of x when idx == NULL),
// written to fd[j] (j < m, or j < n when idx == NULL).
typedef double (*oc_loss_fn)(void *ctx);
static inline void oc_fd(double *x, size_t n, const size_t *idx, size_t m, oc_loss_fn loss, void *ctx,
                         double *fd) {
    size_t cnt = idx ? m : n;
    for (size_t j = 0; j < cnt; j++) {
        size_t i = idx ? idx[j] : j;
        double x0 = x[i];
        x[i] = x0 + FD_H; double lp = loss(ctx);
        x[i] = x0 - FD_H; double lm = loss(ctx);
        x[i] = x0;
        fd[j] = (lp - lm) / (2 * FD_H);
    }
}

// Pick m distinct-ish random indices below n (for sampled checks on larger tensors).
static inline size_t *oc_sample(size_t n, size_t m) {
    size_t *idx = malloc(m * sizeof *idx);
    for (size_t j = 0; j < m; j++) idx[j] = (size_t)(oc_next() % n);
    return idx;
}
static inline double *oc_gather(const double *g, const size_t *idx, size_t m) {
    double *o = malloc(m * sizeof *o);
    for (size_t j = 0; j < m; j++) o[j] = g[idx[j]];
    return o;
}

#endif

// The whole gradient check of one input tensor: the analytic float gradient accumulated into
// `after` on top of `before`, against finite differences of loss() in xd (its double copy),
// on all n elements or on `nsample` random ones. Fails the cmocka test when off.
static inline void oc_grad_check(const char *what, const float *after, const float *before, double *xd,
                                 size_t n, oc_loss_fn loss, void *ctx, size_t nsample) {
    double *got = oc_delta(after, before, n);
    size_t *idx = nsample && nsample < n ? oc_sample(n, nsample) : NULL;
    size_t m = idx ? nsample : n;
    double *fd = malloc(m * sizeof *fd);
    oc_fd(xd, n, idx, m, loss, ctx, fd);
    double *g = idx ? oc_gather(got, idx, m) : got;
    double rel = oc_relerr_d(what, g, fd, m, REL_TOL);
    printf("# %-28s grad rel err %.2e (%zu elems)\n", what, rel, m);
    if (idx) { free(g); free(idx); }
    free(got); free(fd);
    if (!(rel <= REL_TOL)) fail_msg("%s: gradient check failed", what);
}
