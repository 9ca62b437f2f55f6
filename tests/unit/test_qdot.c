// test_qdot.c — the op table's qtmatmul (compact GGUF weights, kernels/cpu/cpu_qdot.c) against
// the dequantize-then-matmul reference: quant.h's ft_dequantize (itself checked against the gguf
// package: tests/parity/quant-gguf.sh) and a double-precision dot product, for every native type
// (Q4_0, Q4_1, Q8_0, Q4_K, Q6_K, BF16, F16, F32), on random blocks, in the AVX-512 and the
// portable version of the fused path and in the banded sgemm path.
//
// Tolerances, per type the same (the weights are dequantized to the very same floats, only the
// order of the f32 sum differs):
//   one-hot x (x = e_k): out[o] == deq(w)[o][k] exactly — every single weight is checked;
//   random x: |out - ref| <= 1e-5 * sum_k |x_k w_k|: a K-term f32 sum in another order is off
//   by ~sqrt(K) * 6e-8 of that (K <= 1024 here: <= 2e-6), while one wrong weight, scale or
//   nibble moves it by far more.
// Also: a row's result is bit-identical whether it is computed alone or among others (the
// property batched decoding relies on), and bias is added.
#include "testutil.h"
#include "cpu/cpu_internal.h"
#include "format/gguf.h"
#include "format/qtensor.h"
#include "format/quant.h"
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 88172645463325252ull;
static uint32_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (uint32_t)(rs >> 11); }
static float unif(void) { return (float)(rnd() % 2000001) / 1000000.0f - 1.0f; }
static void put16(uint8_t *p, uint16_t h) { memcpy(p, &h, 2); }

static const uint32_t TYPES[] = {GGML_Q4_0, GGML_Q4_1, GGML_Q8_0, GGML_Q4_K, GGML_Q6_K, GGML_BF16, GGML_F16, GGML_F32};
enum { NTYPES = sizeof TYPES / sizeof TYPES[0] };

// Random valid data of rows x cols of type t (scales finite, about 0.01-0.1).
static uint8_t *rand_weight(uint32_t t, int rows, int cols) {
    size_t rb = ggml_type_nbytes(t, (uint64_t)cols), n = rb * rows;
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rnd();
    size_t bs = ggml_type_nbytes(t, ggml_type_block(t)), nb = n / bs;
    for (size_t b = 0; b < nb; b++) {
        uint8_t *q = p + b * bs;
        float s = 0.01f + 0.09f * (unif() + 1) / 2;
        switch (t) {
        case GGML_Q4_0: case GGML_Q8_0: put16(q, ft_f32_to_f16(s)); break;
        case GGML_Q4_1: put16(q, ft_f32_to_f16(s)); put16(q + 2, ft_f32_to_f16(-8 * s * (unif() + 1))); break;
        case GGML_Q4_K: put16(q, ft_f32_to_f16(s / 8)); put16(q + 2, ft_f32_to_f16(s / 16)); break;
        case GGML_Q6_K: put16(q + 208, ft_f32_to_f16(s / 16)); break;
        case GGML_BF16: put16(q, ft_f32_to_bf16(unif())); break;
        case GGML_F16: put16(q, ft_f32_to_f16(unif())); break;
        case GGML_F32: { float f = unif(); memcpy(q, &f, 4); break; }
        }
    }
    return p;
}

// out(N, O) with the op, against the reference; x NULL: one-hot rows (row n = e_{(n*7) % I}).
static void check(uint32_t t, int N, int O, int I, int portable, int onehot) {
    uint8_t *raw = rand_weight(t, O, I);
    ft_qtensor q;
    assert_int_equal(ft_qtensor_init(&q, t, O, I, raw), 0);
    float *w = malloc(sizeof(float) * O * I), *x = malloc(sizeof(float) * N * I), *out = malloc(sizeof(float) * N * O);
    assert_int_equal(ft_dequantize(t, raw, w, (size_t)O * I), 0);
    for (int n = 0; n < N; n++)
        for (int k = 0; k < I; k++) x[(size_t)n * I + k] = onehot ? (k == (n * 7) % I) : unif();
    ft_cpu_qdot_force_portable(portable);
    ft_ops_cpu()->qtmatmul(out, x, &q, NULL, N);
    ft_cpu_qdot_force_portable(-1);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double ref = 0, mag = 0;
            for (int k = 0; k < I; k++) {
                double p = (double)x[(size_t)n * I + k] * w[(size_t)o * I + k];
                ref += p;
                mag += fabs(p);
            }
            double got = out[(size_t)n * O + o], tol = onehot ? 0 : 1e-5 * mag;
            if (!(fabs(got - ref) <= tol)) {
                fail_msg("%s N=%d O=%d I=%d portable=%d onehot=%d: out[%d][%d] = %.9g, reference %.9g (tol %.3g)",
                         ggml_type_name(t), N, O, I, portable, onehot, n, o, got, ref, tol);
            }
        }
    ft_qtensor_free(&q);
    free(raw); free(w); free(x); free(out);
}

static void test_onehot_exact(void **st) {
    (void)st;
    for (int i = 0; i < NTYPES; i++)
        for (int portable = 0; portable < 2; portable++) check(TYPES[i], 5, 13, 512, portable, 1);
}

static void test_random_fused(void **st) {
    (void)st;
    for (int i = 0; i < NTYPES; i++)
        for (int portable = 0; portable < 2; portable++) {
            check(TYPES[i], 1, 9, 256, portable, 0);
            check(TYPES[i], 6, 30, 768, portable, 0);
        }
    check(GGML_F32, 3, 5, 37, 0, 0);   // F32/F16/BF16 rows need not be multiples of 16
    check(GGML_BF16, 3, 5, 37, 1, 0);
    check(GGML_F16, 2, 6, 21, 0, 0);
}

static void test_random_banded(void **st) {
    (void)st;
    for (int i = 0; i < NTYPES; i++) check(TYPES[i], FT_QT_FUSED_MAX_N + 5, 40, 512, 0, 0);
}

// Row n of a batch of N equals the same row computed alone, bit for bit; bias is added.
static void test_row_independent(void **st) {
    (void)st;
    for (int i = 0; i < NTYPES; i++)
        for (int portable = 0; portable < 2; portable++) {
            int N = 11, O = 18, I = 256;
            uint8_t *raw = rand_weight(TYPES[i], O, I);
            ft_qtensor q;
            assert_int_equal(ft_qtensor_init(&q, TYPES[i], O, I, raw), 0);
            float *x = malloc(sizeof(float) * N * I), *all = malloc(sizeof(float) * N * O), one[18], bias[18];
            for (int k = 0; k < N * I; k++) x[k] = unif();
            for (int o = 0; o < O; o++) bias[o] = unif();
            ft_cpu_qdot_force_portable(portable);
            ft_ops_cpu()->qtmatmul(all, x, &q, bias, N);
            for (int n = 0; n < N; n++) {
                ft_ops_cpu()->qtmatmul(one, x + (size_t)n * I, &q, bias, 1);
                assert_memory_equal(one, all + (size_t)n * O, sizeof one);
            }
            ft_ops_cpu()->qtmatmul(one, x, &q, NULL, 1);
            for (int o = 0; o < O; o++) assert_true(fabsf(all[o] - (one[o] + bias[o])) <= 1e-6f * (1 + fabsf(all[o])));
            ft_cpu_qdot_force_portable(-1);
            ft_qtensor_free(&q);
            free(raw); free(x); free(all);
        }
}

// Unpermuting whole rows equals the f32 loader's row permutation of the dequantized weight.
static void test_unpermute(void **st) {
    (void)st;
    int O = 16, I = 64, nh = 2;
    uint8_t *raw = rand_weight(GGML_Q4_1, O, I);
    ft_qtensor q;
    assert_int_equal(ft_qtensor_init(&q, GGML_Q4_1, O, I, raw), 0);
    assert_int_equal(ft_qtensor_unpermute(&q, nh), 0);
    float w[16 * 64], got[16 * 64];
    ft_dequantize(GGML_Q4_1, raw, w, (size_t)O * I);
    assert_int_equal(ft_qtensor_dequant_rows(&q, 0, O, got), 0);
    int D = O / nh;   // HF row h*D + j*D/2 + i holds GGUF row h*D + 2i + j
    for (int h = 0; h < nh; h++)
        for (int j = 0; j < 2; j++)
            for (int i = 0; i < D / 2; i++)
                assert_memory_equal(got + (h * D + j * D / 2 + i) * I, w + (h * D + 2 * i + j) * I, I * sizeof(float));
    ft_qtensor_free(&q);
    assert_int_equal(ft_qtensor_init(&q, GGML_Q5_0, O, I, raw) < 0, 1);   // not native: refused
    free(raw);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_onehot_exact),
        cmocka_unit_test(test_random_fused),
        cmocka_unit_test(test_random_banded),
        cmocka_unit_test(test_row_independent),
        cmocka_unit_test(test_unpermute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
