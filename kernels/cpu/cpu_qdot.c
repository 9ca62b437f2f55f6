// cpu_qdot.c — matmul with a compact GGUF weight (format/qtensor.h: Q4_0, Q4_1, Q8_0, Q4_K,
// Q6_K, BF16, F16, F32 rows as the file stores them), for inference:
//   out(N, O) = x(N, I) @ deq(w)(O, I)^T + bias
// Few rows (N <= FT_QT_FUSED_MAX_N: decoding, one row per sequence) take the fused path: a
// tile of 4 weight rows is dequantized into an L1-resident f32 buffer and dotted with every
// x row at once (4x4 blocks of dot products sharing their loads), so each weight byte is read
// once per call. Many rows (prefill) dequantize bands of rows and use sgemm, as qmatmul does.
// The fused path has an AVX-512 version (dequantization with AVX-512BW integer unpacking,
// FMA dots) chosen at run time by cpuid, and a portable one (quant.h's ft_dequantize, plain
// loops). Both compute every output element by the same instruction sequence whatever N and
// its place in the batch are, so a row's result does not depend on the rows beside it
// (batched decoding gives what one sequence at a time gives, bit for bit). x stays f32 (no
// activation quantization): the result equals the dequantize-then-matmul reference up to the
// f32 rounding of a sum in another order (tests/unit/test_qdot.c).
#include "cpu_internal.h"
#include "core/err.h"
#include "format/gguf.h"
#include "format/qtensor.h"
#include "format/quant.h"
#include "ops.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QT_X86 1
#endif

enum { RW = 4 };  // weight rows per tile

static int force_portable = -1;  // -1: decide by cpuid (and FT_CPU_PORTABLE) on first use

void ft_cpu_qdot_force_portable(int on) { force_portable = on; }

int ft_cpu_qdot_avx512(void) {
#ifdef QT_X86
    if (force_portable < 0) {
        const char *e = getenv("FT_CPU_PORTABLE");
        force_portable = e && *e && *e != '0';
    }
    if (force_portable) return 0;
    __builtin_cpu_init();
    // every CPU with AVX-512 F/BW/VL also has F16C and FMA (not all compilers name those here)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}

// ---- portable path ------------------------------------------------------------------------
// One dot product in a fixed order (8 partial sums, then their sum).
static float dot_portable(const float *x, const float *w, int I) {
    float s[8] = {0};
    int k = 0;
    for (; k + 8 <= I; k += 8)
        for (int l = 0; l < 8; l++) s[l] += x[k + l] * w[k + l];
    for (; k < I; k++) s[k & 7] += x[k] * w[k];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static void tile_portable(float *out, const float *x, const float *const wr[RW], int nr, int N, int I, int O, int r0) {
    for (int n = 0; n < N; n++)
        for (int j = 0; j < nr; j++) out[(size_t)n * O + r0 + j] = dot_portable(x + (size_t)n * I, wr[j], I);
}

#ifdef QT_X86
// ---- AVX-512 path ---------------------------------------------------------------------------
#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

T512 static inline float f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

// 16 unsigned bytes -> 16 floats
T512 static inline __m512 u8f(__m128i b) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b)); }

// Row dequantization: cols elements of `type` from src into dst (cols a multiple of the block),
// the same roundings as quant.c's reference (no fused multiply-add), so the values are equal.
T512 static void deq_row_512(uint32_t type, const uint8_t *src, float *dst, int cols) {
    const __m128i m4 = _mm_set1_epi8(0x0F);
    switch (type) {
    case GGML_Q4_0:   // f16 d | 16 bytes: x = d * (q - 8), low nibbles first
        for (int b = 0; b < cols / 32; b++, src += 18, dst += 32) {
            __m512 d = _mm512_set1_ps(f16(src)), o = _mm512_set1_ps(-8.0f * f16(src));
            __m128i q = _mm_loadu_si128((const __m128i *)(src + 2));
            _mm512_storeu_ps(dst, _mm512_fmadd_ps(u8f(_mm_and_si128(q, m4)), d, o));
            _mm512_storeu_ps(dst + 16, _mm512_fmadd_ps(u8f(_mm_and_si128(_mm_srli_epi16(q, 4), m4)), d, o));
        }
        return;
    case GGML_Q4_1:   // f16 d | f16 m | 16 bytes: x = d * q + m
        for (int b = 0; b < cols / 32; b++, src += 20, dst += 32) {
            __m512 d = _mm512_set1_ps(f16(src)), m = _mm512_set1_ps(f16(src + 2));
            __m128i q = _mm_loadu_si128((const __m128i *)(src + 4));
            _mm512_storeu_ps(dst, _mm512_add_ps(_mm512_mul_ps(u8f(_mm_and_si128(q, m4)), d), m));
            _mm512_storeu_ps(dst + 16, _mm512_add_ps(_mm512_mul_ps(u8f(_mm_and_si128(_mm_srli_epi16(q, 4), m4)), d), m));
        }
        return;
    case GGML_Q8_0:   // f16 d | 32 int8: x = d * q
        for (int b = 0; b < cols / 32; b++, src += 34, dst += 32) {
            __m512 d = _mm512_set1_ps(f16(src));
            __m128i q0 = _mm_loadu_si128((const __m128i *)(src + 2)), q1 = _mm_loadu_si128((const __m128i *)(src + 18));
            _mm512_storeu_ps(dst, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0)), d));
            _mm512_storeu_ps(dst + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1)), d));
        }
        return;
    case GGML_Q4_K:   // f16 d | f16 dmin | 12 scale bytes | 128 bytes: 8 sub-blocks of 32
        for (int b = 0; b < cols / 256; b++, src += 144) {
            float d = f16(src), dmin = f16(src + 2);
            const uint8_t *sc = src + 4, *q = src + 16;
            for (int j = 0; j < 8; j += 2, q += 32) {
                uint8_t s[2], mn[2];
                for (int u = 0; u < 2; u++) {
                    int i = j + u;
                    if (i < 4) { s[u] = sc[i] & 63; mn[u] = sc[i + 4] & 63; }
                    else { s[u] = (sc[i + 4] & 0xF) | ((sc[i - 4] >> 6) << 4); mn[u] = (sc[i + 4] >> 4) | ((sc[i] >> 6) << 4); }
                }
                __m512 d1 = _mm512_set1_ps(d * s[0]), m1 = _mm512_set1_ps(dmin * mn[0]);
                __m512 d2 = _mm512_set1_ps(d * s[1]), m2 = _mm512_set1_ps(dmin * mn[1]);
                for (int h = 0; h < 32; h += 16) {
                    __m128i v = _mm_loadu_si128((const __m128i *)(q + h));
                    _mm512_storeu_ps(dst + h, _mm512_sub_ps(_mm512_mul_ps(u8f(_mm_and_si128(v, m4)), d1), m1));
                    _mm512_storeu_ps(dst + 32 + h, _mm512_sub_ps(_mm512_mul_ps(u8f(_mm_and_si128(_mm_srli_epi16(v, 4), m4)), d2), m2));
                }
                dst += 64;
            }
        }
        return;
    case GGML_Q6_K:   // 128 ql | 64 qh | 16 int8 scales | f16 d: x = d * sc * (q - 32)
        for (int b = 0; b < cols / 256; b++, src += 210) {
            const uint8_t *ql = src, *qh = src + 128;
            const int8_t *sc = (const int8_t *)(src + 192);
            float d = f16(src + 208);
            const __m512i c3 = _mm512_set1_epi32(3), c15 = _mm512_set1_epi32(15), c32 = _mm512_set1_epi32(32);
            for (int half = 0; half < 2; half++, ql += 64, qh += 32, sc += 8, dst += 128)
                for (int l = 0; l < 32; l += 16) {
                    int is = l / 16;
                    __m512i a = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + l)));
                    __m512i c = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + l + 32)));
                    __m512i h = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qh + l)));
                    __m512i q1 = _mm512_or_si512(_mm512_and_si512(a, c15), _mm512_slli_epi32(_mm512_and_si512(h, c3), 4));
                    __m512i q2 = _mm512_or_si512(_mm512_and_si512(c, c15),
                                                 _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 2), c3), 4));
                    __m512i q3 = _mm512_or_si512(_mm512_srli_epi32(a, 4),
                                                 _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 4), c3), 4));
                    __m512i q4 = _mm512_or_si512(_mm512_srli_epi32(c, 4),
                                                 _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 6), c3), 4));
                    __m512i qq[4] = {q1, q2, q3, q4};
                    for (int g = 0; g < 4; g++) {
                        __m512 f = _mm512_cvtepi32_ps(_mm512_sub_epi32(qq[g], c32));
                        _mm512_storeu_ps(dst + 32 * g + l, _mm512_mul_ps(f, _mm512_set1_ps(d * (float)sc[is + 2 * g])));
                    }
                }
        }
        return;
    case GGML_BF16: {
        int k = 0;
        for (; k + 16 <= cols; k += 16) {
            __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(src + 2 * k)));
            _mm512_storeu_ps(dst + k, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
        }
        for (; k < cols; k++) { uint16_t h; memcpy(&h, src + 2 * k, 2); dst[k] = ft_bf16_to_f32(h); }
        return;
    }
    case GGML_F16: {
        int k = 0;
        for (; k + 16 <= cols; k += 16)
            _mm512_storeu_ps(dst + k, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + 2 * k))));
        for (; k < cols; k++) dst[k] = f16(src + 2 * k);
        return;
    }
    default:
        ft_dequantize(type, src, dst, (size_t)cols);
        return;
    }
}

// s[i][j] = dot(x_i, w_j) for NX (1 or 4) rows of x and 4 rows of w; the tail of a row that is
// not a multiple of 16 is read with a masked load (zeros beyond), so every element takes the
// same steps whatever NX is.
#define DOT_TILE(NX)                                                                                        \
    T512 static void dot_##NX##x4(float s[NX][RW], const float *x, int ldx, const float *const w[RW], int I) { \
        __m512 acc[NX][RW];                                                                                 \
        _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++)                                                \
            _Pragma("GCC unroll 4") for (int j = 0; j < RW; j++) acc[i][j] = _mm512_setzero_ps();           \
        for (int k = 0; k < I; k += 16) {                                                                   \
            __mmask16 mk = I - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (I - k)) - 1);             \
            __m512 wv[RW];                                                                                  \
            _Pragma("GCC unroll 4") for (int j = 0; j < RW; j++) wv[j] = _mm512_maskz_loadu_ps(mk, w[j] + k); \
            _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                                          \
                __m512 xv = _mm512_maskz_loadu_ps(mk, x + (size_t)i * ldx + k);                            \
                _Pragma("GCC unroll 4") for (int j = 0; j < RW; j++) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]); \
            }                                                                                               \
        }                                                                                                   \
        _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++)                                                \
            _Pragma("GCC unroll 4") for (int j = 0; j < RW; j++) s[i][j] = _mm512_reduce_add_ps(acc[i][j]); \
    }
DOT_TILE(1)
DOT_TILE(4)

T512 static void tile_512(float *out, const float *x, const float *const wr[RW], int nr, int N, int I, int O, int r0) {
    int n = 0;
    for (; n + 4 <= N; n += 4) {
        float s[4][RW];
        dot_4x4(s, x + (size_t)n * I, I, wr, I);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < nr; j++) out[(size_t)(n + i) * O + r0 + j] = s[i][j];
    }
    for (; n < N; n++) {
        float s[1][RW];
        dot_1x4(s, x + (size_t)n * I, I, wr, I);
        for (int j = 0; j < nr; j++) out[(size_t)n * O + r0 + j] = s[0][j];
    }
}
#endif

// The fused path over every tile of RW weight rows (OpenMP over tiles).
static int fused(float *out, const float *x, const ft_qtensor *w, int N) {
    int O = w->rows, I = w->cols, ntile = (O + RW - 1) / RW, avx = ft_cpu_qdot_avx512(), failed = 0;
    int direct = w->type == GGML_F32;   // rows are f32 already: no buffer
    double work = (double)N * O * I;
    #pragma omp parallel if (work >= 65536) reduction(| : failed)
    {
        float *buf = direct ? NULL : ft_cpu_alloc((size_t)RW * I * sizeof(float));
        if (!direct && !buf) failed = 1;
        #pragma omp for schedule(static)
        for (int t = 0; t < ntile; t++) {
            if (!direct && !buf) continue;
            int r0 = t * RW, nr = O - r0 < RW ? O - r0 : RW;
            const float *wr[RW];
            for (int j = 0; j < RW; j++) {
                int r = r0 + (j < nr ? j : 0);
                const uint8_t *src = w->data + (size_t)r * w->row_bytes;
                if (direct) { wr[j] = (const float *)src; continue; }
                wr[j] = buf + (size_t)j * I;
                if (j >= nr) { wr[j] = buf; continue; }
#ifdef QT_X86
                if (avx) { deq_row_512(w->type, src, buf + (size_t)j * I, I); continue; }
#endif
                ft_dequantize(w->type, src, buf + (size_t)j * I, (size_t)I);
            }
#ifdef QT_X86
            if (avx) { tile_512(out, x, wr, nr, N, I, O, r0); continue; }
#endif
            tile_portable(out, x, wr, nr, N, I, O, r0);
        }
        ft_cpu_free(buf);
    }
    (void)avx;
    return failed ? -1 : 0;
}

// Many rows: bands of about 256K dequantized floats and sgemm.
static int banded(float *out, const float *x, const ft_qtensor *w, int N) {
    int O = w->rows, I = w->cols, R = (256 * 1024) / I;
    if (R < 16) R = 16;
    if (R > O) R = O;
    float *t = ft_cpu_alloc((size_t)R * I * sizeof(float));
    if (!t) return -1;
    for (int r0 = 0; r0 < O; r0 += R) {
        int nr = O - r0 < R ? O - r0 : R;
        #pragma omp parallel for schedule(static) if ((double)nr * I > 65536)
        for (int r = r0; r < r0 + nr; r++) {
            const uint8_t *src = w->data + (size_t)r * w->row_bytes;
            float *d = t + (size_t)(r - r0) * I;
#ifdef QT_X86
            if (ft_cpu_qdot_avx512()) { deq_row_512(w->type, src, d, I); continue; }
#endif
            ft_dequantize(w->type, src, d, (size_t)I);
        }
        ft_cpu_sgemm(0, 1, N, nr, I, 1.0f, x, I, t, I, 0.0f, out + r0, O);
    }
    ft_cpu_free(t);
    return 0;
}

void ft_cpu_qtmatmul(float *out, const float *x, const struct ft_qtensor *w, const float *bias, int N) {
    int O = w->rows;
    if (N <= 0) return;
    if ((N <= FT_QT_FUSED_MAX_N ? fused(out, x, w, N) : banded(out, x, w, N)) < 0) {
        ft_err("qtmatmul: out of memory for a dequantization buffer (%d columns)", w->cols);
        ft_cpu_fill_nan(out, (size_t)N * O);
        return;
    }
    if (bias) {
        #pragma omp parallel for schedule(static) if ((double)N * O > 1e5)
        for (int n = 0; n < N; n++) {
            float *o = out + (size_t)n * O;
            for (int j = 0; j < O; j++) o[j] += bias[j];
        }
    }
}
