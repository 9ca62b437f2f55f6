// test_ops_act.c — the pointwise activations of the op table (ops->act, ops->act_backward;
// bottleneck adapters): values and derivatives against the closed forms evaluated by hand in
// double precision (relu; silu x*sigmoid(x); GELU's tanh approximation), the backward against
// central differences of the op's own forward, "+=" accumulation, saturation at large |x|
// without NaN, and the parallel path (n > 65536) equal to the serial one; and ops->dropout
// (LoRA dropout).
#include "testutil.h"
#include "ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ft_ops *ops;

enum { NX = 8 };
static const float X[NX] = {-3.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 2.0f, 5.0f};
// silu(x) = x / (1 + e^-x), silu'(x) = s (1 + x (1 - s))
static const double SILU[NX] = {-0.14227761953270035, -0.2689414213699951, -0.1887703343990727, 0.0,
                                0.3112296656009273, 0.7310585786300049, 1.7615941559557646, 4.966535745378576};
static const double DSILU[NX] = {-0.0881041060, 0.0723294881, 0.2600388127, 0.5, 0.7399611873, 0.9276705119,
                                 1.0907842488, 1.0265474324};
// gelu_tanh(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) and its derivative
static const double GELU[NX] = {-0.0036373920817729943, -0.15880800939172324, -0.15428599017485606, 0.0,
                                0.34571400982514394, 0.8411919906082768, 1.954597694087775, 4.999999770820381};
static const double DGELU[NX] = {-0.0115841666, -0.0829640838, 0.1326300965, 0.5, 0.8673699035, 1.0829640838,
                                 1.0860992566, 1.0000015464};

static void check_table(int kind, const double *f, const double *df) {
    float out[NX], dx[NX], dout[NX];
    ops->act(out, X, NX, kind);
    for (int i = 0; i < NX; i++) {
        if (fabs(out[i] - f[i]) > 2e-6 * (1 + fabs(f[i])))
            fail_msg("act %d: f(%g) = %.9g, expected %.9g", kind, X[i], out[i], f[i]);
        dx[i] = 0.25f * i;            // prefilled: the backward accumulates
        dout[i] = 1.0f + 0.5f * i;
    }
    ops->act_backward(dx, dout, X, NX, kind);
    for (int i = 0; i < NX; i++) {
        double want = 0.25 * i + (1.0 + 0.5 * i) * df[i];
        if (fabs(dx[i] - want) > 4e-6 * (1 + fabs(want)))
            fail_msg("act %d: backward at %g = %.9g, expected %.9g", kind, X[i], dx[i], want);
    }
}

static void test_relu_values(void **st) {
    (void)st;
    double f[NX], df[NX];
    for (int i = 0; i < NX; i++) {
        f[i] = X[i] > 0 ? X[i] : 0.0;
        df[i] = X[i] > 0 ? 1.0 : 0.0;   // 0 at x = 0, as PyTorch
    }
    check_table(FT_ACT_RELU, f, df);
}
static void test_silu_values(void **st) { (void)st; check_table(FT_ACT_SILU, SILU, DSILU); }
static void test_gelu_values(void **st) { (void)st; check_table(FT_ACT_GELU_TANH, GELU, DGELU); }

// Backward vs central differences of the op's own forward on random points.
static void fd_check(int kind) {
    enum { N = 200 };
    float x[N], dout[N], dx[N] = {0};
    srand(7 + kind);
    for (int i = 0; i < N; i++) {
        x[i] = 8.0f * ((float)rand() / RAND_MAX - 0.5f);
        if (kind == FT_ACT_RELU && fabsf(x[i]) < 0.05f) x[i] = 0.3f;   // keep away from the kink
        dout[i] = 2.0f * ((float)rand() / RAND_MAX - 0.5f);
    }
    ops->act_backward(dx, dout, x, N, kind);
    const float eps = 4e-3f;
    double worst = 0;
    for (int i = 0; i < N; i++) {
        float xp = x[i] + eps, xm = x[i] - eps, fp, fm;
        ops->act(&fp, &xp, 1, kind);
        ops->act(&fm, &xm, 1, kind);
        double num = dout[i] * ((double)fp - fm) / ((double)xp - xm);
        double err = fabs(num - dx[i]) / (fabs(num) + 1e-2);
        if (err > worst) worst = err;
        if (err > 2e-3) fail_msg("act %d at x=%g: analytic %.7g numeric %.7g", kind, x[i], dx[i], num);
    }
    fprintf(stderr, "  act %d: %d points, worst relative error %.2g\n", kind, N, worst);
}

static void test_backward_fd(void **st) {
    (void)st;
    fd_check(FT_ACT_RELU);
    fd_check(FT_ACT_SILU);
    fd_check(FT_ACT_GELU_TANH);
}

static void test_saturation(void **st) {
    (void)st;
    const float big[4] = {-100.0f, -20.0f, 20.0f, 100.0f};
    for (int kind = 0; kind <= FT_ACT_GELU_TANH; kind++) {
        float out[4], dx[4] = {0}, ones[4] = {1, 1, 1, 1};
        ops->act(out, big, 4, kind);
        ops->act_backward(dx, ones, big, 4, kind);
        for (int i = 0; i < 4; i++) {
            assert_true(isfinite(out[i]) && isfinite(dx[i]));
            double want = big[i] > 0 ? big[i] : 0.0;        // every f -> relu as |x| grows
            double dwant = big[i] > 0 ? 1.0 : 0.0;
            assert_true(fabs(out[i] - want) < 1e-6 * (1 + fabs(want)));
            assert_true(fabs(dx[i] - dwant) < 1e-6);
        }
    }
}

static void test_parallel_path(void **st) {
    (void)st;
    size_t n = 70000;   // above the OpenMP threshold
    float *x = malloc(n * sizeof *x), *o = malloc(n * sizeof *o), *d = calloc(n, sizeof *d), *g = malloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)((double)i / n * 12.0 - 6.0);
        g[i] = 0.5f;
    }
    for (int kind = 0; kind <= FT_ACT_GELU_TANH; kind++) {
        ops->act(o, x, n, kind);
        for (size_t i = 0; i < n; i++) d[i] = 0;
        ops->act_backward(d, g, x, n, kind);
        for (size_t i = 0; i < n; i += 997) {
            float o1, d1 = 0;
            ops->act(&o1, &x[i], 1, kind);
            ops->act_backward(&d1, &g[i], &x[i], 1, kind);
            assert_float_equal(o[i], o1, 0);
            assert_float_equal(d[i], d1, 0);
        }
    }
    free(x); free(o); free(d); free(g);
}

// ops->dropout: kept elements are exactly x / (1 - p), dropped ones exactly 0; the dropped
// fraction is p within 5 standard deviations of a binomial; the mask is a function of (seed, i)
// only (repeatable, the same in place, the same on any values — which makes it its own backward)
// and another seed gives another mask; the threaded path equals the serial one.
static void test_dropout(void **st) {
    (void)st;
    const ft_ops *ops = ft_ops_cpu();
    enum { n = 200000 };
    const float p = 0.25f;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float)), *z = malloc(n * sizeof(float));
    float *w = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++) x[i] = 1.0f + (float)(i % 7);
    ops->dropout(y, x, n, p, 1234);
    size_t dropped = 0, other = 0;
    for (int i = 0; i < n; i++) {
        if (y[i] == 0.0f) dropped++;
        else assert_true(y[i] == x[i] * (1.0f / 0.75f));
    }
    double frac = (double)dropped / n, sd = sqrt(0.25 * 0.75 / n);
    assert_true(fabs(frac - 0.25) < 5 * sd);
    ops->dropout(z, x, n, p, 1234);
    assert_memory_equal(y, z, n * sizeof(float));                 // repeatable
    memcpy(z, x, n * sizeof(float));
    ops->dropout(z, z, n, p, 1234);
    assert_memory_equal(y, z, n * sizeof(float));                 // in place
    for (int i = 0; i < n; i++) w[i] = -3.0f;
    ops->dropout(w, w, n, p, 1234);
    for (int i = 0; i < n; i++) assert_true((w[i] == 0.0f) == (y[i] == 0.0f));   // same mask on other values
    ops->dropout(z, x, n, p, 1235);
    for (int i = 0; i < n; i++) other += (z[i] == 0.0f) != (y[i] == 0.0f);
    assert_true(other > n / 4);                                   // another seed, another mask
    ops->dropout(z, x, 1000, p, 1234);                            // below the threading threshold
    assert_memory_equal(y, z, 1000 * sizeof(float));
    free(x); free(y); free(z); free(w);
}

int main(void) {
    ops = ft_ops_cpu();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_values),
        cmocka_unit_test(test_silu_values),
        cmocka_unit_test(test_gelu_values),
        cmocka_unit_test(test_backward_fd),
        cmocka_unit_test(test_saturation),
        cmocka_unit_test(test_parallel_path),
        cmocka_unit_test(test_dropout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
