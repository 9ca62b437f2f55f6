// test_ops_bf16.c — the bf16 GEMM (kernels/cpu/cpu_bf16.c) and the --precision bf16 op table.
//
// Truth: a double-precision GEMM over operands rounded to bf16 by an independent rounding
// (frexp/nearbyint: 8 significant bits, ties to even), so what is checked is that every
// operand is rounded to nearest-even bf16 and every product lands in the right place.
// Tolerance: the kernel sums exactly-representable products (8 x 8 bits) in f32, so each
// output may differ from the double sum by f32 rounding of partial sums: we allow
// 2e-5 * sum_k |a_ik b_kj| per element (about 300 f32 ulps of the magnitude sum, far above the
// ~sqrt(K) ulps of random rounding and far below one missing or misplaced product of these
// K >= 7: 1/K of the magnitude sum). oneDNN's GEMM (when built with it), our AVX512_BF16 kernel
// (where the CPU has it) and the portable path (FT_NO_AVX512BF16=1) must all pass. The op table's linear layers follow the same
// truth; its LM head loss must stay within 1e-2 relative of the f32 table's (bf16 rounding
// of h and W: 2^-9 relative per factor, averaging out over C = 64).
#include "ops_check.h"
#include "ops.h"
#include "cpu/cpu_internal.h"

static double bf16_ref(float f) {   // independent rounding to 8 significant bits, ties to even
    if (f == 0.0f || isinf(f) || isnan(f)) return f;
    int e;
    double m = frexp((double)f, &e);          // f = m * 2^e, 0.5 <= |m| < 1
    return ldexp(nearbyint(ldexp(m, 8)), e - 8);
}

static void test_round(void **st) {
    (void)st;
    union { uint32_t u; float f; } v;
    assert_int_equal(ft_cpu_f32_to_bf16(1.0f), 0x3f80);
    v.u = 0x3f808000u;  // 1 + 2^-8: halfway between 1 and 1 + 2^-7, even is 1
    assert_int_equal(ft_cpu_f32_to_bf16(v.f), 0x3f80);
    v.u = 0x3f818000u;  // halfway between 1 + 2^-7 (odd) and 1 + 2^-6: goes up
    assert_int_equal(ft_cpu_f32_to_bf16(v.f), 0x3f82);
    v.u = 0x3f808001u;  // just above halfway: up
    assert_int_equal(ft_cpu_f32_to_bf16(v.f), 0x3f81);
    assert_int_equal(ft_cpu_f32_to_bf16(-2.0f), 0xc000);
    assert_int_equal(ft_cpu_f32_to_bf16(INFINITY), 0x7f80);
    assert_true(isnan(ft_cpu_bf16_round(NAN)));
    oc_seed(3);
    for (int i = 0; i < 100000; i++) {
        float f = oc_unif() * 1000.0f;
        assert_true(ft_cpu_bf16_round(f) == (float)bf16_ref(f));
    }
}

// C = alpha * op(A) @ op(B) + beta * C against the double truth; NaN in C when beta == 0 must vanish.
static void check_gemm(int ta, int tb, int M, int N, int K, float beta, int b_bf16) {
    int pad = 3, lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
    float *A = oc_randf(na, 1), *Bf = oc_randf(nb, 1), *C = oc_randf((size_t)M * ldc, 1);
    uint16_t *Bh = malloc(nb * sizeof *Bh);
    for (size_t i = 0; i < nb; i++) {
        Bh[i] = ft_cpu_f32_to_bf16(Bf[i]);
        if (b_bf16) Bf[i] = ft_cpu_bf16_round(Bf[i]);   // the truth sees the stored bf16 values
    }
    double worst = 0;
    float alpha = 0.5f;
    double *want = malloc(sizeof(double) * M * N), *bound = malloc(sizeof(double) * M * N);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                double p = bf16_ref(ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                           bf16_ref(tb ? Bf[(size_t)j * ldb + k] : Bf[(size_t)k * ldb + j]);
                s += p;
                mag += fabs(p);
            }
            double c = C[(size_t)i * ldc + j];
            want[i * N + j] = alpha * s + (beta != 0.0f ? beta * c : 0.0);
            bound[i * N + j] = 2e-5 * (alpha * mag + fabs(beta * c)) + 1e-30;
            if (beta == 0.0f) C[(size_t)i * ldc + j] = NAN;
        }
    ft_cpu_gemm_bf16(ta, tb, M, N, K, alpha, A, lda, b_bf16 ? (const void *)Bh : (const void *)Bf, b_bf16, ldb,
                     beta, C, ldc);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double e = fabs(C[(size_t)i * ldc + j] - want[i * N + j]) / bound[i * N + j];
            if (!(e <= worst)) worst = e;
        }
    if (!(worst <= 1.0))
        fprintf(stderr, "gemm_bf16 ta=%d tb=%d %dx%dx%d beta=%g b_bf16=%d: error %.3g x the bound\n", ta, tb, M, N,
                K, beta, b_bf16, worst);
    assert_true(worst <= 1.0);
    free(A); free(Bf); free(Bh); free(C); free(want); free(bound);
}

// Shapes around the kernel's blocking: the 12 x 32 tile, KC = 256 along k (odd K: a half pair),
// MC = 384 rows, NC = 2048 columns, and the row split (few columns) vs the column split.
static void run_shapes(void) {
    static const int S[][3] = {{1, 1, 1},   {13, 33, 7},   {12, 32, 256}, {25, 70, 257},
                               {30, 2100, 70}, {400, 40, 520}, {37, 5, 64}};
    oc_seed(11);
    for (size_t s = 0; s < sizeof S / sizeof *S; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                check_gemm(ta, tb, S[s][0], S[s][1], S[s][2], 0.0f, 0);
                check_gemm(ta, tb, S[s][0], S[s][1], S[s][2], 1.0f, ta);   // bf16 B with either layout
                if (s < 4) check_gemm(ta, tb, S[s][0], S[s][1], S[s][2], 0.25f, 0);
            }
}

static void test_gemm_native(void **st) {
    (void)st;
    unsetenv("FT_NO_AVX512BF16");
    if (!ft_cpu_has_bf16()) fprintf(stderr, "test_ops_bf16: no AVX512_BF16 here: the portable path thrice\n");
    run_shapes();   // oneDNN when the build has it, else ours
    setenv("FT_BF16_BACKEND", "own", 1);
    if (ft_cpu_has_bf16()) assert_int_equal(ft_cpu_bf16_backend(), FT_BF16_OWN);
    run_shapes();
    unsetenv("FT_BF16_BACKEND");
}

static void test_gemm_portable(void **st) {
    (void)st;
    setenv("FT_NO_AVX512BF16", "1", 1);
    assert_false(ft_cpu_has_bf16());
    run_shapes();
    unsetenv("FT_NO_AVX512BF16");
}

// The table's matmul / matmul_backward: forward, dx and dw from bf16 operands (accumulating
// into prefilled buffers), bias in f32.
static void test_table_linear(void **st) {
    (void)st;
    const ft_ops *ops = ft_ops_cpu_bf16();
    assert_string_equal(ops->name, "cpu-bf16");
    assert_true(ops->rmsnorm == ft_ops_cpu()->rmsnorm && ops->attention == ft_ops_cpu()->attention);
    oc_seed(5);
    int N = 80, I = 96, O = 70;   // every product big enough for the bf16 path (cpu_bf16.c _auto)
    float *x = oc_randf((size_t)N * I, 1), *w = oc_randf((size_t)O * I, 1), *b = oc_randf(O, 1);
    float *g = oc_randf((size_t)N * O, 1), *out = malloc(sizeof(float) * N * O);
    float *dx = oc_randf((size_t)N * I, 1), *dw = oc_randf((size_t)O * I, 1), *db = oc_randf(O, 1);
    float *dx0 = oc_copyf(dx, (size_t)N * I), *dw0 = oc_copyf(dw, (size_t)O * I), *db0 = oc_copyf(db, O);
    ops->matmul(out, x, w, b, N, I, O);
    ops->matmul_backward(dx, dw, db, g, x, w, N, I, O);
    double e = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double s = 0, mag = 0;
            for (int i = 0; i < I; i++) {
                double p = bf16_ref(x[n * I + i]) * bf16_ref(w[o * I + i]);
                s += p; mag += fabs(p);
            }
            double d = fabs(out[n * O + o] - (s + b[o])) / (2e-5 * (mag + fabs(b[o])));
            if (d > e) e = d;
        }
    for (int n = 0; n < N; n++)
        for (int i = 0; i < I; i++) {
            double s = 0, mag = 0;
            for (int o = 0; o < O; o++) {
                double p = bf16_ref(g[n * O + o]) * bf16_ref(w[o * I + i]);
                s += p; mag += fabs(p);
            }
            double d = fabs((double)dx[n * I + i] - dx0[n * I + i] - s) / (2e-5 * (mag + fabs(dx0[n * I + i])));
            if (d > e) e = d;
        }
    for (int o = 0; o < O; o++) {
        double sb = 0;
        for (int i = 0; i < I; i++) {
            double s = 0, mag = 0;
            for (int n = 0; n < N; n++) {
                double p = bf16_ref(g[n * O + o]) * bf16_ref(x[n * I + i]);
                s += p; mag += fabs(p);
            }
            double d = fabs((double)dw[o * I + i] - dw0[o * I + i] - s) / (2e-5 * (mag + fabs(dw0[o * I + i])));
            if (d > e) e = d;
        }
        for (int n = 0; n < N; n++) sb += g[n * O + o];
        assert_true(fabs((double)db[o] - db0[o] - sb) <= 1e-5 * (1 + fabs(sb)));
    }
    if (!(e <= 1.0)) fprintf(stderr, "bf16 table linear: error %.3g x the bound\n", e);
    assert_true(e <= 1.0);
    free(x); free(w); free(b); free(g); free(out); free(dx); free(dw); free(db); free(dx0); free(dw0); free(db0);
}

// max over out(N,O) of |out - x @ w^T| / bound, with bf16-rounded operands (see the top)
static double lin_err(const float *out, const float *x, const float *w, int N, int I, int O) {
    double e = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double s = 0, mag = 0;
            for (int i = 0; i < I; i++) {
                double p = bf16_ref(x[(size_t)n * I + i]) * bf16_ref(w[(size_t)o * I + i]);
                s += p; mag += fabs(p);
            }
            double d = fabs(out[(size_t)n * O + o] - s) / (2e-5 * mag + 1e-30);
            if (!(d <= e)) e = d;
        }
    return e;
}

// Big weights keep a bf16 image between calls (kernels/cpu/cpu_bf16_ops.c): after the table's
// adamw updates them, or after they are rewritten behind its back, the product must follow.
static void test_table_w16_cache(void **st) {
    (void)st;
    const ft_ops *ops = ft_ops_cpu_bf16();
    oc_seed(7);
    int N = 64, I = 256, O = 300;   // O*I = 76800: above the image threshold
    size_t nw = (size_t)O * I;
    float *x = oc_randf((size_t)N * I, 1), *w = oc_randf(nw, 1), *out = malloc(sizeof(float) * N * O);
    float *g = oc_randf(nw, 1), *m = calloc(nw, sizeof *m), *v = calloc(nw, sizeof *v);
    ops->matmul(out, x, w, NULL, N, I, O);
    assert_true(lin_err(out, x, w, N, I, O) <= 1.0);
    ops->adamw(w, g, m, v, nw, 0.05f, 0.9f, 0.999f, 1e-8f, 0.0f, 1);   // every weight moves by ~0.05
    ops->matmul(out, x, w, NULL, N, I, O);
    assert_true(lin_err(out, x, w, N, I, O) <= 1.0);
    for (size_t i = 0; i < nw; i++) w[i] = -w[i];                          // rewritten directly
    ops->matmul(out, x, w, NULL, N, I, O);
    assert_true(lin_err(out, x, w, N, I, O) <= 1.0);
    free(x); free(w); free(out); free(g); free(m); free(v);
}

// The LM head at bf16: loss and dh close to the f32 table's (bf16 tolerance, see the top).
static void test_table_xent(void **st) {
    (void)st;
    const ft_ops *f = ft_ops_cpu(), *h16 = ft_ops_cpu_bf16();
    oc_seed(6);
    int N = 50, C = 64, V = 300;
    float *h = oc_randf((size_t)N * C, 1), *w = oc_randf((size_t)V * C, 0.3f);
    int32_t *tgt = malloc(N * sizeof *tgt);
    for (int n = 0; n < N; n++) tgt[n] = oc_int(V);
    float *dh = calloc((size_t)N * C, sizeof *dh), *dh16 = calloc((size_t)N * C, sizeof *dh16);
    double l32 = f->lm_head_xent(dh, NULL, h, w, tgt, NULL, N, C, V, 1.0f / N);
    double l16 = h16->lm_head_xent(dh16, NULL, h, w, tgt, NULL, N, C, V, 1.0f / N);
    assert_true(fabs(l16 - l32) <= 1e-2 * fabs(l32));
    assert_true(l16 != l32);   // the bf16 path really ran (rounding changes the sum)
    double *ref = oc_todouble(dh, (size_t)N * C);
    assert_true(oc_relerr("bf16 xent dh", dh16, ref, (size_t)N * C, 2e-2) <= 2e-2);
    free(h); free(w); free(tgt); free(dh); free(dh16); free(ref);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round),        cmocka_unit_test(test_gemm_native),
        cmocka_unit_test(test_gemm_portable), cmocka_unit_test(test_table_linear),
        cmocka_unit_test(test_table_w16_cache), cmocka_unit_test(test_table_xent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
