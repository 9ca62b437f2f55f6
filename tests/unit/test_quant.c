// test_quant.c — f16/bf16 conversions and block dequantization, checked against values
// worked out by hand from crafted blocks (the ggml layouts written down in docs/formats.md).
#include "testutil.h"
#include "format/gguf.h"
#include "format/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float bits_f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static void test_f16(void **st) {
    (void)st;
    assert_true(ft_f16_to_f32(0x3C00) == 1.0f);
    assert_true(ft_f16_to_f32(0xC000) == -2.0f);
    assert_true(ft_f16_to_f32(0x7BFF) == 65504.0f);
    assert_true(ft_f16_to_f32(0x0001) == ldexpf(1, -24));        // smallest subnormal
    assert_true(ft_f16_to_f32(0x03FF) == ldexpf(1023, -24));     // largest subnormal
    assert_true(ft_f16_to_f32(0x0400) == ldexpf(1, -14));        // smallest normal
    assert_true(ft_f16_to_f32(0x8000) == 0.0f && signbit(ft_f16_to_f32(0x8000)));
    assert_true(isinf(ft_f16_to_f32(0x7C00)) && ft_f16_to_f32(0x7C00) > 0);
    assert_true(isnan(ft_f16_to_f32(0x7E00)));
    assert_int_equal(ft_f32_to_f16(1.0f), 0x3C00);
    assert_int_equal(ft_f32_to_f16(-2.0f), 0xC000);
    assert_int_equal(ft_f32_to_f16(65504.0f), 0x7BFF);
    assert_int_equal(ft_f32_to_f16(65519.0f), 0x7BFF);           // below the halfway point to 65536
    assert_int_equal(ft_f32_to_f16(65520.0f), 0x7C00);           // halfway: ties to even = inf
    assert_int_equal(ft_f32_to_f16(1e10f), 0x7C00);
    assert_int_equal(ft_f32_to_f16(1.0f + ldexpf(1, -11)), 0x3C00);       // tie -> even (down)
    assert_int_equal(ft_f32_to_f16(1.0f + 3 * ldexpf(1, -11)), 0x3C02);   // tie -> even (up)
    assert_int_equal(ft_f32_to_f16(1.0f + ldexpf(1, -11) + ldexpf(1, -20)), 0x3C01);   // above tie
    assert_int_equal(ft_f32_to_f16(ldexpf(1, -25)), 0x0000);     // tie between 0 and 2^-24 -> 0
    assert_int_equal(ft_f32_to_f16(ldexpf(3, -26)), 0x0001);     // 0.75 ulp -> 1
    assert_int_equal(ft_f32_to_f16(ldexpf(3, -25)), 0x0002);     // 1.5 ulp -> tie -> even 2
    assert_int_equal(ft_f32_to_f16(ldexpf(1, -30)), 0x0000);
    assert_int_equal(ft_f32_to_f16(-ldexpf(1, -24)), 0x8001);
    assert_int_equal(ft_f32_to_f16(ldexpf(1023, -24)), 0x03FF);
    assert_int_equal(ft_f32_to_f16(ldexpf(2047, -25)), 0x0400);  // rounds up into the normals
    assert_int_equal(ft_f32_to_f16(-INFINITY), 0xFC00);
    assert_true((ft_f32_to_f16(NAN) & 0x7C00) == 0x7C00 && (ft_f32_to_f16(NAN) & 0x3FF));
    // every finite half survives f16 -> f32 -> f16
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) continue;   // NaN payloads
        assert_int_equal(ft_f32_to_f16(ft_f16_to_f32((uint16_t)h)), h);
    }
}

static void test_bf16(void **st) {
    (void)st;
    assert_true(ft_bf16_to_f32(0x3F80) == 1.0f);
    assert_true(ft_bf16_to_f32(0xC040) == -3.0f);
    assert_int_equal(ft_f32_to_bf16(1.0f), 0x3F80);
    assert_int_equal(ft_f32_to_bf16(1.0f + ldexpf(1, -8)), 0x3F80);       // tie -> even
    assert_int_equal(ft_f32_to_bf16(1.0f + 3 * ldexpf(1, -8)), 0x3F82);   // tie -> even (up)
    assert_int_equal(ft_f32_to_bf16(bits_f(0x3F80FFFF)), 0x3F81);
    assert_int_equal(ft_f32_to_bf16(bits_f(0x7F7FFFFF)), 0x7F80);          // FLT_MAX rounds to inf
    assert_true(isnan(ft_bf16_to_f32(ft_f32_to_bf16(NAN))));
    assert_true(isnan(ft_bf16_to_f32(ft_f32_to_bf16(bits_f(0x7F800001)))));   // low-payload NaN kept NaN
}

static void test_q8_0(void **st) {
    (void)st;
    uint8_t b[34];
    put16(b, 0x3800);   // d = 0.5
    for (int j = 0; j < 32; j++) b[2 + j] = (uint8_t)(int8_t)(j * 8 - 128);
    float y[32];
    assert_int_equal(ft_dequantize(GGML_Q8_0, b, y, 32), 0);
    for (int j = 0; j < 32; j++) assert_true(y[j] == 0.5f * (j * 8 - 128));
    // quantize: d = max|x|/127, q = round(x/d)
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = (j - 16) * 0.25f;   // max |x| = 4 -> d = 4/127
    uint8_t q[34];
    assert_int_equal(ft_quantize_q8_0(x, q, 32), 0);
    uint16_t d16;
    memcpy(&d16, q, 2);
    assert_int_equal(d16, ft_f32_to_f16(4.0f / 127));
    assert_int_equal((int8_t)q[2], -127);                   // -4 / (4/127)
    assert_int_equal((int8_t)q[2 + 16], 0);
    assert_int_equal((int8_t)q[2 + 18], 16);                // 0.5 * 127/4 = 15.875 -> 16
    assert_int_equal((int8_t)q[2 + 31], 119);               // 3.75 * 127/4 = 119.06 -> 119
}

static void test_q4_0_q4_1(void **st) {
    (void)st;
    uint8_t b[20];
    put16(b, 0x4000);   // d = 2
    for (int j = 0; j < 16; j++) b[2 + j] = (uint8_t)(j | (15 - j) << 4);
    float y[32];
    assert_int_equal(ft_dequantize(GGML_Q4_0, b, y, 32), 0);
    for (int j = 0; j < 16; j++) {
        assert_true(y[j] == 2.0f * (j - 8));          // low nibbles: elements 0..15
        assert_true(y[j + 16] == 2.0f * (7 - j));     // high nibbles: elements 16..31
    }
    put16(b, 0x3800);       // d = 0.5
    put16(b + 2, 0xBC00);   // m = -1
    for (int j = 0; j < 16; j++) b[4 + j] = (uint8_t)(j | (15 - j) << 4);
    assert_int_equal(ft_dequantize(GGML_Q4_1, b, y, 32), 0);
    for (int j = 0; j < 16; j++) {
        assert_true(y[j] == 0.5f * j - 1.0f);
        assert_true(y[j + 16] == 0.5f * (15 - j) - 1.0f);
    }
}

static void test_q5_0(void **st) {
    (void)st;
    uint8_t b[22];
    put16(b, 0x3C00);                 // d = 1
    uint32_t qh = 0xF0F0A5A5u;        // bit j = 5th bit of element j
    memcpy(b + 2, &qh, 4);
    for (int j = 0; j < 16; j++) b[6 + j] = (uint8_t)(j | (15 - j) << 4);
    float y[32];
    assert_int_equal(ft_dequantize(GGML_Q5_0, b, y, 32), 0);
    for (int j = 0; j < 16; j++) {
        assert_true(y[j] == (float)((int)(j | ((qh >> j & 1) << 4)) - 16));
        assert_true(y[j + 16] == (float)((int)((15 - j) | ((qh >> (j + 16) & 1) << 4)) - 16));
    }
}

// Pack eight 6-bit (scale, min) pairs the way Q4_K/Q5_K store them in 12 bytes.
static void pack_k4(const uint8_t sc[8], const uint8_t mn[8], uint8_t q[12]) {
    memset(q, 0, 12);
    for (int j = 0; j < 4; j++) {
        q[j] = (uint8_t)((sc[j] & 63) | (sc[j + 4] >> 4) << 6);
        q[j + 4] = (uint8_t)((mn[j] & 63) | (mn[j + 4] >> 4) << 6);
        q[j + 8] = (uint8_t)((sc[j + 4] & 15) | (mn[j + 4] & 15) << 4);
    }
}

static void test_q4_k_q5_k(void **st) {
    (void)st;
    const uint8_t sc[8] = {1, 2, 3, 63, 17, 33, 48, 5}, mn[8] = {0, 4, 9, 1, 60, 21, 2, 35};
    uint8_t b[176];
    put16(b, 0x3800);       // d = 0.5
    put16(b + 2, 0x3400);   // dmin = 0.25
    pack_k4(sc, mn, b + 4);
    for (int l = 0; l < 128; l++) b[16 + l] = (uint8_t)((l % 16) | (15 - l % 13) << 4);
    float y[256];
    assert_int_equal(ft_dequantize(GGML_Q4_K, b, y, 256), 0);
    // element e: group g = e/64 (32 bytes of qs), sub-block s = e/32, low nibble if s even
    for (int e = 0; e < 256; e++) {
        int s = e / 32, l = e % 32, byte = b[16 + (e / 64) * 32 + l];
        int q = s % 2 ? byte >> 4 : byte & 15;
        assert_true(y[e] == 0.5f * sc[s] * q - 0.25f * mn[s]);
    }
    // Q5_K: the same plus a 5th bit from qh[l], bit s of qh[l] for sub-block s
    memmove(b + 48, b + 16, 128);
    for (int l = 0; l < 32; l++) b[16 + l] = (uint8_t)(l * 37 + 11);
    assert_int_equal(ft_dequantize(GGML_Q5_K, b, y, 256), 0);
    for (int e = 0; e < 256; e++) {
        int s = e / 32, l = e % 32, byte = b[48 + (e / 64) * 32 + l];
        int q = (s % 2 ? byte >> 4 : byte & 15) + ((b[16 + l] >> s & 1) << 4);
        assert_true(y[e] == 0.5f * sc[s] * q - 0.25f * mn[s]);
    }
}

static void test_q6_k(void **st) {
    (void)st;
    uint8_t b[210];
    for (int i = 0; i < 128; i++) b[i] = (uint8_t)(i * 29 + 3);        // ql
    for (int i = 0; i < 64; i++) b[128 + i] = (uint8_t)(i * 53 + 7);   // qh
    for (int i = 0; i < 16; i++) b[192 + i] = (uint8_t)(int8_t)(i * 9 - 70);
    put16(b + 208, 0x3400);   // d = 0.25
    float y[256];
    assert_int_equal(ft_dequantize(GGML_Q6_K, b, y, 256), 0);
    // element e: half h = e/128, quarter k = (e%128)/32, l = e%32; low 4 bits from
    // ql[64h + l + 32(k&1)] (nibble k/2), high 2 bits from qh[32h + l] bits 2k..2k+1;
    // scale index 8h + 2k + l/16
    for (int e = 0; e < 256; e++) {
        int h = e / 128, k = (e % 128) / 32, l = e % 32;
        int lo = b[64 * h + l + 32 * (k & 1)];
        lo = k / 2 ? lo >> 4 : lo & 15;
        int hi = (b[128 + 32 * h + l] >> (2 * k)) & 3;
        int q = (lo | hi << 4) - 32;
        int8_t s = (int8_t)b[192 + 8 * h + 2 * k + l / 16];
        assert_true(y[e] == 0.25f * s * q);
    }
}

static void test_plain_and_errors(void **st) {
    (void)st;
    uint16_t h[3] = {0x3C00, 0xC000, 0x0001}, bf[2] = {0x3F80, 0xC040};
    float y[4], x[2] = {1.5f, -0.0f};
    assert_int_equal(ft_dequantize(GGML_F16, h, y, 3), 0);
    assert_true(y[0] == 1 && y[1] == -2 && y[2] == ldexpf(1, -24));
    assert_int_equal(ft_dequantize(GGML_BF16, bf, y, 2), 0);
    assert_true(y[0] == 1 && y[1] == -3);
    assert_int_equal(ft_dequantize(GGML_F32, x, y, 2), 0);
    assert_true(y[0] == 1.5f && signbit(y[1]));
    uint8_t blk[34] = {0};
    assert_int_equal(ft_dequantize(GGML_Q8_0, blk, y, 3), -1);    // not a whole block
    assert_int_equal(ft_dequantize(GGML_Q3_K, blk, y, 256), -1);  // unsupported type
    assert_int_equal(ft_dequantize(77, blk, y, 1), -1);
    assert_int_equal(ft_quantize_q8_0(x, blk, 2), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16),       cmocka_unit_test(test_bf16),  cmocka_unit_test(test_q8_0),
        cmocka_unit_test(test_q4_0_q4_1), cmocka_unit_test(test_q5_0),  cmocka_unit_test(test_q4_k_q5_k),
        cmocka_unit_test(test_q6_k),      cmocka_unit_test(test_plain_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
