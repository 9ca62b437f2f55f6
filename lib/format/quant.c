// quant.c — storage types to f32 and back: IEEE half and bfloat16 conversions, and
// dequantization of the ggml block formats models ship in (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
// Q4_K, Q5_K, Q6_K, Q2_K), plus Q8_0 quantization for GGUF export. Block layouts follow
// ggml (little-endian, packed): see docs/formats.md.
#include "format/quant.h"
#include "format/gguf.h"

#include <math.h>
#include <string.h>

// ---- f16 / bf16 ------------------------------------------------------------------------

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float ft_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    if (exp == 0x1F) return u2f(sign | 0x7F800000u | (man << 13));   // inf / NaN
    if (exp == 0) {
        // zero or subnormal: man * 2^-24, exact in f32
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    return u2f(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t ft_f32_to_f16(float f) {
    uint32_t u = f2u(f), sign = (u >> 16) & 0x8000, abs = u & 0x7FFFFFFFu;
    if (abs >= 0x7F800000u)   // inf or NaN (keep a quiet NaN)
        return (uint16_t)(sign | 0x7C00 | (abs > 0x7F800000u ? 0x200 | ((abs >> 13) & 0x3FF) : 0));
    if (abs >= 0x477FF000u) return (uint16_t)(sign | 0x7C00);   // rounds to >= 65520: inf
    if (abs < 0x38800000u) {                                   // below 2^-14: subnormal or zero
        if (abs < 0x33000000u) return (uint16_t)sign;          // < 2^-25 rounds to 0 (2^-25 ties to 0)
        uint32_t e = abs >> 23, m = (abs & 0x7FFFFF) | 0x800000;
        uint32_t shift = 126 - e;                              // 14 + (127 - e) - 1 ... into 10-bit mantissa
        // value = m * 2^(e-150); f16 subnormal unit = 2^-24 -> q = m * 2^(e-126)
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t e = (abs >> 23) - 112, m = abs & 0x7FFFFF;
    uint32_t h = (e << 10) | (m >> 13), rem = m & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;   // may carry into the exponent: correct
    return (uint16_t)(sign | h);
}

float ft_bf16_to_f32(uint16_t b) { return u2f((uint32_t)b << 16); }

uint16_t ft_f32_to_bf16(float f) {
    uint32_t u = f2u(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40);   // quiet NaN
    u += 0x7FFF + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static float h2f(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return ft_f16_to_f32(h); }

// ---- block formats ---------------------------------------------------------------------

// Q8_0: f16 d | i8 q[32]; x = d*q
static void dq_q8_0(const uint8_t *b, float *y) {
    float d = h2f(b);
    for (int j = 0; j < 32; j++) y[j] = d * (float)(int8_t)b[2 + j];
}

// Q4_0: f16 d | u8 qs[16]; low nibbles are x[0..15], high nibbles x[16..31]; x = d*(q-8)
static void dq_q4_0(const uint8_t *b, float *y) {
    float d = h2f(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)((qs[j] & 0xF) - 8);
        y[j + 16] = d * (float)((qs[j] >> 4) - 8);
    }
}

// Q4_1: f16 d | f16 m | u8 qs[16]; x = d*q + m
static void dq_q4_1(const uint8_t *b, float *y) {
    float d = h2f(b), m = h2f(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)(qs[j] & 0xF) + m;
        y[j + 16] = d * (float)(qs[j] >> 4) + m;
    }
}

// Q5_0: f16 d | u32 qh | u8 qs[16]; bit j of qh is the 5th bit of x[j]; x = d*(q-16)
static void dq_q5_0(const uint8_t *b, float *y) {
    float d = h2f(b);
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        int x0 = (qs[j] & 0xF) | (((qh >> j) & 1) << 4);
        int x1 = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
        y[j] = d * (float)(x0 - 16);
        y[j + 16] = d * (float)(x1 - 16);
    }
}

// Q5_1: f16 d | f16 m | u32 qh | u8 qs[16]; x = d*q + m
static void dq_q5_1(const uint8_t *b, float *y) {
    float d = h2f(b), m = h2f(b + 2);
    uint32_t qh;
    memcpy(&qh, b + 4, 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        int x0 = (qs[j] & 0xF) | (((qh >> j) & 1) << 4);
        int x1 = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
        y[j] = d * (float)x0 + m;
        y[j + 16] = d * (float)x1 + m;
    }
}

// 6-bit scale and min j (0..7) from the 12 packed bytes of Q4_K/Q5_K.
static void scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *mn) {
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Q4_K (256): f16 d | f16 dmin | u8 scales[12] | u8 qs[128]; 8 sub-blocks of 32,
// x = d*sc*q - dmin*mn; each 32 bytes of qs hold two sub-blocks (low then high nibbles).
static void dq_q4_k(const uint8_t *b, float *y) {
    float d = h2f(b), dmin = h2f(b + 2);
    const uint8_t *scales = b + 4, *q = b + 16;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
        uint8_t sc, m;
        scale_min_k4(is, scales, &sc, &m);
        float d1 = d * sc, m1 = dmin * m;
        scale_min_k4(is + 1, scales, &sc, &m);
        float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 0xF) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
    }
}

// Q5_K (256): f16 d | f16 dmin | u8 scales[12] | u8 qh[32] | u8 qs[128]; like Q4_K with a
// 5th bit per element from qh (bit 2i for the low-nibble sub-block i, 2i+1 for the high one).
static void dq_q5_k(const uint8_t *b, float *y) {
    float d = h2f(b), dmin = h2f(b + 2);
    const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
        uint8_t sc, m;
        scale_min_k4(is, scales, &sc, &m);
        float d1 = d * sc, m1 = dmin * m;
        scale_min_k4(is + 1, scales, &sc, &m);
        float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (float)((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (float)((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    }
}

// Q6_K (256): u8 ql[128] | u8 qh[64] | i8 scales[16] | f16 d; x = d*scale*(q-32), q 6 bits
// (4 from ql, 2 from qh); two halves of 128 elements, each 4 groups of 32.
static void dq_q6_k(const uint8_t *b, float *y) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    float d = h2f(b + 208);
    for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[is] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
    }
}

// Q2_K (256): u8 scales[16] (low nibble scale, high nibble min) | u8 qs[64] | f16 d | f16 dmin;
// 16 sub-blocks of 16, 2-bit q; x = d*sc*q - dmin*mn.
static void dq_q2_k(const uint8_t *b, float *y) {
    const uint8_t *scales = b, *q = b + 16;
    float d = h2f(b + 80), dmin = h2f(b + 82);
    int is = 0;
    for (int n = 0; n < 256; n += 128, q += 32)
        for (int shift = 0; shift < 8; shift += 2) {
            uint8_t s = scales[is++];
            float dl = d * (s & 0xF), ml = dmin * (s >> 4);
            for (int l = 0; l < 16; l++) *y++ = dl * (float)((q[l] >> shift) & 3) - ml;
            s = scales[is++];
            dl = d * (s & 0xF);
            ml = dmin * (s >> 4);
            for (int l = 0; l < 16; l++) *y++ = dl * (float)((q[l + 16] >> shift) & 3) - ml;
        }
}

int ft_dequantize(uint32_t type, const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    switch (type) {
    case GGML_F32: memcpy(dst, src, n * 4); return 0;
    case GGML_F16:
        for (size_t i = 0; i < n; i++) dst[i] = h2f(s + 2 * i);
        return 0;
    case GGML_BF16:
        for (size_t i = 0; i < n; i++) { uint16_t b; memcpy(&b, s + 2 * i, 2); dst[i] = ft_bf16_to_f32(b); }
        return 0;
    default: break;
    }
    void (*fn)(const uint8_t *, float *) = NULL;
    switch (type) {
    case GGML_Q8_0: fn = dq_q8_0; break;
    case GGML_Q4_0: fn = dq_q4_0; break;
    case GGML_Q4_1: fn = dq_q4_1; break;
    case GGML_Q5_0: fn = dq_q5_0; break;
    case GGML_Q5_1: fn = dq_q5_1; break;
    case GGML_Q2_K: fn = dq_q2_k; break;
    case GGML_Q4_K: fn = dq_q4_k; break;
    case GGML_Q5_K: fn = dq_q5_k; break;
    case GGML_Q6_K: fn = dq_q6_k; break;
    default: return -1;
    }
    size_t bk = ggml_type_block(type), bs = ggml_type_nbytes(type, bk);
    if (n % bk) return -1;
    size_t nb = n / bk;
    #pragma omp parallel for if (nb > 4096) schedule(static)
    for (size_t i = 0; i < nb; i++) fn(s + i * bs, dst + i * bk);
    return 0;
}

// Q8_0 as ggml quantizes it: d = max|x|/127 (stored as f16), q = round(x/d).
int ft_quantize_q8_0(const float *src, void *dst, size_t n) {
    if (n % 32) return -1;
    uint8_t *o = dst;
    for (size_t b = 0; b < n / 32; b++, src += 32, o += 34) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(src[j]));
        float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
        uint16_t h = ft_f32_to_f16(d);
        memcpy(o, &h, 2);
        for (int j = 0; j < 32; j++) o[2 + j] = (uint8_t)(int8_t)roundf(src[j] * id);
    }
    return 0;
}
