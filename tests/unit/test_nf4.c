// test_nf4.c — NF4 with double quantization (lib/model/qweight.h) against values computed here
// from the NF4 table: a block of exact table entries, every tie between adjacent entries
// (bitsandbytes rounds a midpoint to the lower entry), nibble order, the all-zero block,
// the double-quantized absmax within half an int8 step, codes equal to the brute-force
// nearest entry on gaussian data, partial tail blocks, bad input; and the fused qmatmul /
// qmatmul_backward equal to dequantize-all + matmul to float rounding.
#include "testutil.h"
#include "core/err.h"
#include "ops.h"
#include "model/qweight.h"
#include "core/rng.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float gauss(ft_rng *r) {   // Box-Muller
    double u = (ft_rng_float(r) + 1e-7), v = ft_rng_float(r);
    return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}

// Index of the table entry nearest to x, ties to the lower index (computed in double).
static int nearest(float x) {
    int best = 0;
    for (int k = 1; k < 16; k++)
        if (fabs((double)x - ft_nf4_table[k]) < fabs((double)x - ft_nf4_table[best])) best = k;
    return best;
}

static void test_table_block(void **st) {
    (void)st;
    // the table is symmetric in shape: 7 negatives, 0 at index 7, 8 positives, ends at -1 and 1
    assert_true(ft_nf4_table[0] == -1.0f && ft_nf4_table[7] == 0.0f && ft_nf4_table[15] == 1.0f);
    for (int k = 1; k < 16; k++) assert_true(ft_nf4_table[k] > ft_nf4_table[k - 1]);
    float w[64], d[64];
    for (int i = 0; i < 64; i++) w[i] = ft_nf4_table[i % 16] * 3.0f;   // absmax 3 (entries +-1)
    ft_qweight q;
    assert_int_equal(ft_qweight_init(&q, w, 2, 32), 0);
    assert_int_equal(q.n_blocks, 1);
    assert_int_equal(q.n_groups, 1);
    // one block: the mean of the absmax is the absmax, so double quantization is exact
    assert_true(ft_qweight_absmax(&q, 0) == 3.0f);
    for (int j = 0; j < 32; j++) {   // element 2j in the high nibble, 2j+1 in the low one
        int hi = (2 * j) % 16, lo = (2 * j + 1) % 16;
        assert_int_equal(q.codes[j], hi << 4 | lo);
    }
    ft_qweight_dequant_rows(&q, 0, 2, d);
    for (int i = 0; i < 64; i++) assert_true(d[i] == ft_nf4_table[i % 16] * 3.0f);
    // bytes: 32 of codes + 1 int8 absmax + 1 f32 group scale + the f32 offset
    assert_int_equal(ft_qweight_nbytes(&q), 32 + 1 + 4 + 4);
    ft_qweight_free(&q);
}

// bitsandbytes csrc/kernels.cu dQuantizeNF4: its decision thresholds, as the float literals
// it compares with `x > t` (copied from there as the reference, not from qweight.c).
static const float bnb_threshold[15] = {
    -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
    -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
    0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
    0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f};

static void test_ties_and_zero(void **st) {
    (void)st;
    float w[64] = {1.0f};   // absmax 1, so w * (1/absmax) == w exactly
    int expect[64] = {15};
    int n = 1, exact = 0, quirk = 0;
    for (int k = 0; k < 15; k++) {
        double md = ((double)ft_nf4_table[k] + ft_nf4_table[k + 1]) / 2.0;   // exact in double
        float t = bnb_threshold[k];
        // the threshold is the midpoint to within one float step
        assert_true((double)nextafterf(t, -2.0f) < md && md < (double)nextafterf(t, 2.0f));
        // floats on either side of the midpoint: nearest entry
        float f = (float)md, dn = (double)f < md ? f : nextafterf(f, -2.0f), up = (double)f > md ? f : nextafterf(f, 2.0f);
        assert_int_equal(ft_nf4_code(dn), k);
        assert_int_equal(ft_nf4_code(nextafterf(up, 2.0f)), k + 1);
        // bitsandbytes: x == t gives the lower entry, the next float the upper one
        assert_int_equal(ft_nf4_code(t), k);
        assert_int_equal(ft_nf4_code(nextafterf(t, 2.0f)), k + 1);
        if ((double)(float)md == md) {   // an exact tie in f32: the lower entry
            exact++;
            assert_true((float)md == t);
            w[n] = t; expect[n++] = k;
            w[n] = nextafterf(t, 2.0f); expect[n++] = k + 1;
        } else {
            assert_int_equal(ft_nf4_code(up), (double)t > md ? k : k + 1);
            quirk += (double)t > md;   // the literal rounded above the midpoint (see docs)
            w[n] = dn; expect[n++] = k;
        }
    }
    assert_int_equal(exact, 6);
    assert_int_equal(quirk, 4);
    for (; n < 64; n++) { w[n] = 0.0f; expect[n] = 7; }           // 0 is entry 7
    ft_qweight q;
    assert_int_equal(ft_qweight_init(&q, w, 1, 64), 0);
    for (int i = 0; i < 64; i++) {
        if (ft_qweight_code(&q, i) != expect[i])
            fprintf(stderr, "  element %d (%.9g): code %d, expected %d\n", i, w[i], ft_qweight_code(&q, i), expect[i]);
        assert_int_equal(ft_qweight_code(&q, i), expect[i]);
    }
    ft_qweight_free(&q);
    // an all-zero block (absmax 0): bitsandbytes computes 0 * (1/0) = NaN and its tree gives
    // code 0; the value is -1 * 0 = 0 either way
    float z[64] = {0}, d[64];
    assert_int_equal(ft_qweight_init(&q, z, 4, 16), 0);
    assert_int_equal(ft_qweight_code(&q, 5), 0);
    ft_qweight_dequant_rows(&q, 0, 4, d);
    for (int i = 0; i < 64; i++) assert_true(d[i] == 0.0f);
    ft_qweight_free(&q);
}

// Gaussian weights with a row-dependent scale (so the absmax constants vary), n not a
// multiple of 64 or of 64*256: several groups, a partial group and a partial last block.
static void test_double_quant_and_roundtrip(void **st) {
    (void)st;
    int rows = 37, cols = 64 * 37 + 5;   // 87,801 weights: 1372 blocks (last of 57), 6 groups
    size_t n = (size_t)rows * cols;
    float *w = malloc(n * sizeof(float)), *d = malloc(n * sizeof(float));
    ft_rng r;
    ft_rng_seed(&r, 42);
    for (size_t e = 0; e < n; e++) w[e] = gauss(&r) * (0.02f + 0.01f * (float)((e / cols) % 7));
    ft_qweight q;
    assert_int_equal(ft_qweight_init(&q, w, rows, cols), 0);
    size_t nb = (n + 63) / 64, ng = (nb + 255) / 256;
    assert_int_equal(q.n_blocks, nb);
    assert_int_equal(q.n_groups, ng);
    assert_int_equal(ft_qweight_nbytes(&q), (n + 1) / 2 + nb + 4 * ng + 4);
    // true absmax per block and their mean (the offset), in double
    double *amax = calloc(nb, sizeof(double)), mean = 0;
    for (size_t e = 0; e < n; e++) amax[e / 64] = fmax(amax[e / 64], fabs(w[e]));
    for (size_t b = 0; b < nb; b++) mean += amax[b];
    mean /= (double)nb;
    assert_true(fabs(q.offset - mean) <= 1e-7 * mean);
    // |absmax' - absmax| <= s_g / 254: half of the int8 step s_g/127 with s_g the group's
    // largest |absmax - offset|; plus f32 rounding of q*(s/127) + offset (a few ulps)
    double worst_ratio = 0;
    for (size_t g = 0; g < ng; g++) {
        double s = 0;
        for (size_t b = g * 256; b < nb && b < (g + 1) * 256; b++) s = fmax(s, fabs(amax[b] - q.offset));
        assert_true(fabs(q.scale2[g] - s) <= 1e-7 * s);
        for (size_t b = g * 256; b < nb && b < (g + 1) * 256; b++) {
            double err = fabs(ft_qweight_absmax(&q, b) - amax[b]);
            double bound = s / 254.0 + 2.0 * FLT_EPSILON * (amax[b] + q.offset);
            if (err > bound) fprintf(stderr, "  block %zu: absmax %.9g dq %.9g err %.3g > %.3g\n", b, amax[b], ft_qweight_absmax(&q, b), err, bound);
            assert_true(err <= bound);
            worst_ratio = fmax(worst_ratio, err / (s / 254.0));
        }
    }
    assert_true(worst_ratio > 0.5);   // the constants really went through 8 bits
    // codes: the nearest entry to w * (1/absmax) (f32 as bitsandbytes), element by element;
    // values: NF4[code] * absmax', so |w - w'| <= absmax * (half the gap around w/absmax)
    // + |NF4[code]| * |absmax' - absmax|
    ft_qweight_dequant_rows(&q, 0, rows, d);
    double se = 0, sw = 0;
    for (size_t e = 0; e < n; e++) {
        float a = (float)amax[e / 64], x = w[e] * (1.0f / a);
        int c = nearest(x);
        assert_int_equal(ft_qweight_code(&q, e), c);
        float ad = ft_qweight_absmax(&q, e / 64);
        assert_true(d[e] == ft_nf4_table[c] * ad);
        double half_gap = 0.5 * (x >= ft_nf4_table[c] ? (c < 15 ? ft_nf4_table[c + 1] - ft_nf4_table[c] : 0)
                                                        : ft_nf4_table[c] - ft_nf4_table[c - 1]);
        double bound = a * half_gap + fabs(ft_nf4_table[c]) * fabs(ad - a) + 4 * FLT_EPSILON * a;
        assert_true(fabs((double)w[e] - d[e]) <= bound);
        se += ((double)w[e] - d[e]) * ((double)w[e] - d[e]);
        sw += (double)w[e] * w[e];
    }
    // NF4 on N(0,1) blocks of 64: relative RMS error ~0.1 (a 4-bit code of a normal, ~16 levels)
    fprintf(stderr, "  NF4-DQ: %zu weights, relative RMS error %.4f, %.4f bytes/param\n", n, sqrt(se / sw),
            (double)ft_qweight_nbytes(&q) / (double)n);
    assert_true(sqrt(se / sw) < 0.12);
    // rows from the middle of a block (row 3 starts at element 3*cols, not a multiple of 64)
    float *part = malloc((size_t)2 * cols * sizeof(float));
    ft_qweight_dequant_rows(&q, 3, 5, part);
    assert_memory_equal(part, d + (size_t)3 * cols, (size_t)2 * cols * sizeof(float));
    free(part);
    ft_qweight_free(&q);
    free(amax); free(w); free(d);
}

static void test_tail_and_errors(void **st) {
    (void)st;
    float w[37], d[37];
    ft_rng r;
    ft_rng_seed(&r, 7);
    for (int i = 0; i < 37; i++) w[i] = gauss(&r);
    ft_qweight q;
    assert_int_equal(ft_qweight_init(&q, w, 1, 37), 0);   // one partial block, odd count
    float a = 0;
    for (int i = 0; i < 37; i++) a = fmaxf(a, fabsf(w[i]));
    assert_true(ft_qweight_absmax(&q, 0) == a);
    for (int i = 0; i < 37; i++) assert_int_equal(ft_qweight_code(&q, i), nearest(w[i] * (1.0f / a)));
    assert_int_equal(q.codes[18] & 15, 0);               // the unused low nibble of the last byte
    ft_qweight_dequant_rows(&q, 0, 1, d);
    for (int i = 0; i < 37; i++) assert_true(d[i] == ft_nf4_table[nearest(w[i] * (1.0f / a))] * a);
    ft_qweight_free(&q);
    assert_int_equal(ft_qweight_init(&q, w, 0, 37), -1);
    assert_non_null(strstr(ft_errmsg(), "shape [0, 37]"));
    w[20] = NAN;
    assert_int_equal(ft_qweight_init(&q, w, 4, 9), -1);
    assert_non_null(strstr(ft_errmsg(), "non-finite weight at row 2, column 2"));
    assert_null(q.mem);
}

// |a - b| within the float error of two dot products of length K in different orders.
static void close_dot(const float *a, const float *b, const double *mag, size_t n, int K) {
    for (size_t i = 0; i < n; i++) {
        double tol = 2.0 * K * FLT_EPSILON * mag[i];
        if (fabs((double)a[i] - b[i]) > tol) fprintf(stderr, "  [%zu] %.9g vs %.9g (tol %.3g)\n", i, a[i], b[i], tol);
        assert_true(fabs((double)a[i] - b[i]) <= tol);
    }
}

static void test_qmatmul(void **st) {
    (void)st;
    const ft_ops *ops = ft_ops_cpu();
    int O = 700, I = 1000, N = 7;   // several bands of rows, bands starting mid-block
    ft_rng r;
    ft_rng_seed(&r, 3);
    float *w = malloc((size_t)O * I * sizeof(float)), *x = malloc((size_t)N * I * sizeof(float));
    float *bias = malloc(O * sizeof(float)), *dout = malloc((size_t)N * O * sizeof(float));
    for (size_t i = 0; i < (size_t)O * I; i++) w[i] = gauss(&r) * 0.05f;
    for (int i = 0; i < N * I; i++) x[i] = gauss(&r);
    for (int i = 0; i < O; i++) bias[i] = gauss(&r);
    for (int i = 0; i < N * O; i++) dout[i] = gauss(&r);
    ft_qweight q;
    assert_int_equal(ft_qweight_init(&q, w, O, I), 0);
    ft_qweight_dequant_rows(&q, 0, O, w);   // w := deq(q) (O, I)
    float *y1 = malloc((size_t)N * O * sizeof(float)), *y2 = malloc((size_t)N * O * sizeof(float));
    ops->qmatmul(y1, x, &q, bias, N);
    ops->matmul(y2, x, w, bias, N, I, O);
    double *mag = calloc((size_t)N * (O > I ? O : I), sizeof(double));
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double s = fabs(bias[o]);
            for (int i = 0; i < I; i++) s += fabs((double)x[(size_t)n * I + i] * w[(size_t)o * I + i]);
            mag[(size_t)n * O + o] = s;
        }
    close_dot(y1, y2, mag, (size_t)N * O, I + 1);
    // backward: dx accumulates (+=) onto what is there
    float *dx1 = malloc((size_t)N * I * sizeof(float)), *dx2 = malloc((size_t)N * I * sizeof(float));
    for (int i = 0; i < N * I; i++) dx1[i] = dx2[i] = gauss(&r);
    for (int n = 0; n < N; n++)
        for (int i = 0; i < I; i++) {
            double s = fabs(dx1[(size_t)n * I + i]);
            for (int o = 0; o < O; o++) s += fabs((double)dout[(size_t)n * O + o] * w[(size_t)o * I + i]);
            mag[(size_t)n * I + i] = s;
        }
    ops->qmatmul_backward(dx1, dout, &q, N);
    ops->matmul_backward(dx2, NULL, NULL, dout, x, w, N, I, O);
    close_dot(dx1, dx2, mag, (size_t)N * I, O + 1);
    ft_qweight_free(&q);
    free(w); free(x); free(bias); free(dout); free(y1); free(y2); free(dx1); free(dx2); free(mag);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_block),
        cmocka_unit_test(test_ties_and_zero),
        cmocka_unit_test(test_double_quant_and_roundtrip),
        cmocka_unit_test(test_tail_and_errors),
        cmocka_unit_test(test_qmatmul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
