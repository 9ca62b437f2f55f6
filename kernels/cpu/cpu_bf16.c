// cpu_bf16.c — GEMM with bfloat16 operands and float32 accumulation (the CPU op table's
// --precision bf16 path): C(M,N) = alpha * op(A) @ op(B) + beta * C, A and B given as f32 (or
// B as bf16 bits), each element rounded to bf16 (round to nearest even) while it is packed.
//
// Where the CPU has AVX512_BF16 (Intel Cooper Lake / Sapphire Rapids, AMD Zen 4+), our own
// BLIS-style kernel: op(A) packed in micro-panels of MR rows and op(B) in panels of NR columns,
// both as (k, k+1) pairs of bf16 (one 32-bit word), which VDPBF16PS multiplies and adds into
// 16 f32 lanes; a 12 x 32 register tile (24 accumulators). Blocks of KC along k keep a B
// micro-panel in L1 and an A block in L2. Threads split the columns (or the rows when there
// are few columns), each packing its own operands: no barriers, no shared scratch.
// Built with oneDNN (Debian libdnnl-dev), its bf16 GEMM is used instead where the CPU has
// AMX or AVX512_BF16 (measured faster: docs/ft-train.md; FT_BF16_BACKEND=own picks ours).
// Elsewhere the portable path: operands rounded to bf16 in f32 copies, then the f32 sgemm
// (the same products; only the summation order differs).
#include "cpu_internal.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

uint16_t ft_cpu_f32_to_bf16(float f) {
    union { float f; uint32_t u; } v = {f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40);   // NaN stays (quiet) NaN
    v.u += 0x7fffu + ((v.u >> 16) & 1u);                                             // round to nearest even
    return (uint16_t)(v.u >> 16);
}

float ft_cpu_bf16_round(float f) {
    union { uint32_t u; float f; } v = {(uint32_t)ft_cpu_f32_to_bf16(f) << 16};
    return v.f;
}

int ft_cpu_has_bf16(void) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    static int have = -1;
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl");
    }
    const char *e = getenv("FT_NO_AVX512BF16");   // tests and benches: force the portable path
    return have && !(e && *e && *e != '0');
#else
    return 0;
#endif
}

// ---- portable path: bf16-rounded f32 copies, f32 sgemm ------------------------------------
static int gemm_rounded(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const void *B, int b_bf16, int ldb, float beta, float *C, int ldc) {
    size_t na = ta ? (size_t)K * lda : (size_t)M * lda, nb = tb ? (size_t)N * ldb : (size_t)K * ldb;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    if (!a || !b) { free(a); free(b); return -1; }
    for (size_t i = 0; i < na; i++) a[i] = ft_cpu_bf16_round(A[i]);
    for (size_t i = 0; i < nb; i++) {
        union { uint32_t u; float f; } v;
        if (b_bf16) v.u = (uint32_t)((const uint16_t *)B)[i] << 16;
        else v.f = ft_cpu_bf16_round(((const float *)B)[i]);
        b[i] = v.f;
    }
    ft_cpu_sgemm(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, C, ldc);
    free(a);
    free(b);
    return 0;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define FT_BF16_KERNEL 1
#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

enum { MR = 12, NR = 32, KC = 256, MC = 384, NC = 2048 };

// An operand as a matrix of elements (k, l): element at base + k*sk + l*sl (in elements), f32
// or bf16 bits. Exactly one of sk, sl is 1 for the vector paths.
typedef struct {
    const void *base;
    long sk, sl;
    int bf16;
} src_t;

TGT static inline float src_at(const src_t *s, long k, long l) {
    if (s->bf16) {
        union { uint32_t u; float f; } v = {(uint32_t)((const uint16_t *)s->base)[k * s->sk + l * s->sl] << 16};
        return v.f;
    }
    return ((const float *)s->base)[k * s->sk + l * s->sl];
}

// 16 elements (k, l0..l0+15) as f32, lanes >= nl zero. Contiguous in l, or gathered.
TGT static inline __m512 load16(const src_t *s, long k, long l0, int nl) {
    __mmask16 m = nl >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nl) - 1);
    if (s->sl == 1) {
        if (s->bf16) {
            __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)s->base + k * s->sk + l0);
            return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
        }
        return _mm512_maskz_loadu_ps(m, (const float *)s->base + k * s->sk + l0);
    }
    if (s->bf16) {   // (a gather of 32-bit words could read past the last element)
        float v[16] = {0};
        for (int l = 0; l < nl && l < 16; l++) v[l] = src_at(s, k, l0 + l);
        return _mm512_loadu_ps(v);
    }
    const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                           _mm512_set1_epi32((int)s->sl));
    const float *p = (const float *)s->base + k * s->sk + l0 * s->sl;
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, p, 4);
}

// Pack rows k0..k0+kc of 16 lanes l0.. as (k, k+1) bf16 pairs: dst[p * stride + j], p < ceil(kc/2).
TGT static void pack16(uint32_t *dst, int stride, const src_t *s, long k0, int kc, long l0, int nl) {
    const __m512i ilv = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                                         6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    int np = (kc + 1) / 2;
    for (int p = 0; p < np; p++) {
        long k = k0 + 2 * p;
        __m512 e = load16(s, k, l0, nl);
        __m512 o = 2 * p + 1 < kc ? load16(s, k + 1, l0, nl) : _mm512_setzero_ps();
        __m512i bh = (__m512i)_mm512_cvtne2ps_pbh(o, e);              // low 16: even k, high 16: odd k
        __m512i pr = _mm512_permutexvar_epi16(ilv, bh);                // (even, odd) pairs per lane
        _mm512_storeu_si512((void *)(dst + (size_t)p * stride), pr);
    }
}

// A micro-panel: MR lanes (rows of op(A)), stride MR; B panel: NR lanes, stride NR. The 16-lane
// packer writes whole 16-word groups, so MR = 12 goes through a 16-wide staging row.
TGT static void pack_a(uint32_t *dst, const src_t *s, long k0, int kc, long i0, int mi) {
    int np = (kc + 1) / 2;
    uint32_t tmp[16 * (KC / 2)];
    pack16(tmp, 16, s, k0, kc, i0, mi);
    for (int p = 0; p < np; p++) memcpy(dst + (size_t)p * MR, tmp + (size_t)p * 16, MR * sizeof *dst);
}

TGT static void pack_b(uint32_t *dst, const src_t *s, long k0, int kc, long j0, int nj) {
    pack16(dst, NR, s, k0, kc, j0, nj < 16 ? nj : 16);
    if (nj > 16) pack16(dst + 16, NR, s, k0, kc, j0 + 16, nj - 16);
    else {
        int np = (kc + 1) / 2;
        for (int p = 0; p < np; p++) memset(dst + (size_t)p * NR + 16, 0, 16 * sizeof *dst);
    }
}

// C tile (mi <= MR, nj <= NR) = (first ? beta*C : C) + alpha * sum_p a[p] (x) b[p].
TGT static void ukernel(int np, const uint32_t *a, const uint32_t *b, float *C, long ldc, int mi, int nj,
                        float alpha, float beta, int first) {
    __m512 c[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < np; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(b + (size_t)p * NR));
        __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(b + (size_t)p * NR + 16));
        const uint32_t *ap = a + (size_t)p * MR;
#pragma GCC unroll 12
        for (int i = 0; i < MR; i++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[i]);
            c[i][0] = _mm512_dpbf16_ps(c[i][0], av, b0);
            c[i][1] = _mm512_dpbf16_ps(c[i][1], av, b1);
        }
    }
    __mmask16 m0 = nj >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nj) - 1);
    __mmask16 m1 = nj >= 32 ? (__mmask16)0xffff : nj > 16 ? (__mmask16)((1u << (nj - 16)) - 1) : 0;
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int i = 0; i < MR && i < mi; i++) {
        float *r = C + (size_t)i * ldc;
        __m512 x0 = _mm512_mul_ps(va, c[i][0]), x1 = _mm512_mul_ps(va, c[i][1]);
        if (!first || beta != 0.0f) {
            __m512 o0 = _mm512_maskz_loadu_ps(m0, r), o1 = _mm512_maskz_loadu_ps(m1, r + 16);
            if (first && beta != 1.0f) { o0 = _mm512_mul_ps(o0, vb); o1 = _mm512_mul_ps(o1, vb); }
            x0 = _mm512_add_ps(x0, o0);
            x1 = _mm512_add_ps(x1, o1);
        }
        _mm512_mask_storeu_ps(r, m0, x0);
        if (m1) _mm512_mask_storeu_ps(r + 16, m1, x1);
    }
}

// One thread's part: rows [i0, i1) and columns [j0, j1) of C.
TGT static int gemm_part(const src_t *a, const src_t *b, long i0, long i1, long j0, long j1, int K, float alpha,
                         float beta, float *C, long ldc, uint32_t *pa, uint32_t *pb) {
    for (long jc = j0; jc < j1; jc += NC) {
        long nc = j1 - jc < NC ? j1 - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC, np = (kc + 1) / 2;
            for (long jr = 0; jr < nc; jr += NR)
                pack_b(pb + (size_t)(jr / NR) * np * NR, b, pc, kc, jc + jr, (int)(nc - jr < NR ? nc - jr : NR));
            for (long ic = i0; ic < i1; ic += MC) {
                long mc = i1 - ic < MC ? i1 - ic : MC;
                for (long ir = 0; ir < mc; ir += MR)
                    pack_a(pa + (size_t)(ir / MR) * np * MR, a, pc, kc, ic + ir, (int)(mc - ir < MR ? mc - ir : MR));
                for (long jr = 0; jr < nc; jr += NR)
                    for (long ir = 0; ir < mc; ir += MR)
                        ukernel(np, pa + (size_t)(ir / MR) * np * MR, pb + (size_t)(jr / NR) * np * NR,
                                C + (size_t)(ic + ir) * ldc + jc + jr, ldc, (int)(mc - ir < MR ? mc - ir : MR),
                                (int)(nc - jr < NR ? nc - jr : NR), alpha, beta, pc == 0);
            }
        }
    }
    return 0;
}

// Per-thread packing buffers, kept between calls (the op's threads live as long as the process).
static _Thread_local uint32_t *tl_pa, *tl_pb;

static int gemm_avx512(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const void *B,
                       int b_bf16, int ldb, float beta, float *C, int ldc) {
    // op(A)(i, k): A[i*lda + k] or A[k*lda + i]; op(B)(k, j): B[k*ldb + j] or B[j*ldb + k]
    src_t a = {A, ta ? lda : 1, ta ? 1 : lda, 0}, b = {B, tb ? 1 : ldb, tb ? ldb : 1, b_bf16};
    double work = (double)M * N * K;
    int nt = 1;
#ifdef _OPENMP
    if (work > 4e6) nt = omp_get_max_threads();
#endif
    // split the columns in whole NR panels while each thread gets at least two; else the rows
    int by_cols = (N + NR - 1) / NR >= 2 * nt || M < 2 * MR * nt;
    int failed = 0;
#pragma omp parallel num_threads(nt) if (nt > 1) reduction(| : failed)
    {
        int t = 0, n = 1;
#ifdef _OPENMP
        t = omp_get_thread_num();
        n = omp_get_num_threads();
#endif
        if (!tl_pa) tl_pa = aligned_alloc(64, (size_t)MC * (KC / 2) * sizeof *tl_pa);
        if (!tl_pb) tl_pb = aligned_alloc(64, (size_t)NC * (KC / 2) * sizeof *tl_pb);
        if (!tl_pa || !tl_pb) {
            failed = 1;
        } else {
            long i0 = 0, i1 = M, j0 = 0, j1 = N;
            if (by_cols) {
                long panels = (N + NR - 1) / NR;
                j0 = panels * t / n * NR;
                j1 = panels * (t + 1) / n * NR;
                if (j1 > N) j1 = N;
            } else {
                long blocks = (M + MR - 1) / MR;
                i0 = blocks * t / n * MR;
                i1 = blocks * (t + 1) / n * MR;
                if (i1 > M) i1 = M;
            }
            if (i0 < i1 && j0 < j1) gemm_part(&a, &b, i0, i1, j0, j1, K, alpha, beta, C, ldc, tl_pa, tl_pb);
        }
    }
    return failed ? -1 : 0;
}
#endif

#ifdef FT_BF16_KERNEL
TGT static void to_bf16_avx512(uint16_t *d, const float *s, long n) {
    long i = 0;
    for (; i + 32 <= n; i += 32)
        _mm512_storeu_si512((void *)(d + i), (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(s + i + 16), _mm512_loadu_ps(s + i)));
    for (; i < n; i++) d[i] = ft_cpu_f32_to_bf16(s[i]);
}
#endif

static void row_to_bf16(uint16_t *d, const float *s, long n, int vec) {
#ifdef FT_BF16_KERNEL
    if (vec) { to_bf16_avx512(d, s, n); return; }
#endif
    (void)vec;
    for (long c = 0; c < n; c++) d[c] = ft_cpu_f32_to_bf16(s[c]);
}

// rows x cols of src (leading dimension ld) into compact bf16 dst
static void rows_to_bf16(uint16_t *dst, const float *src, long rows, long cols, long ld) {
    int vec = ft_cpu_has_bf16();
    #pragma omp parallel for schedule(static) if (rows * cols > 200000)
    for (long r = 0; r < rows; r++) row_to_bf16(dst + r * cols, src + r * ld, cols, vec);
}

void ft_cpu_to_bf16(uint16_t *dst, const float *src, size_t n) {
    int vec = ft_cpu_has_bf16();
    long nb = (long)((n + 4095) / 4096);
    #pragma omp parallel for schedule(static) if (n > 200000)
    for (long b = 0; b < nb; b++) {
        size_t i0 = (size_t)b * 4096, m = n - i0 < 4096 ? n - i0 : 4096;
        row_to_bf16(dst + i0, src + i0, (long)m, vec);
    }
}

// ---- oneDNN (Debian's libdnnl, when the build found it): dnnl_gemm_bf16bf16f32 ------------
// It picks its own kernels by CPU (AMX tiles on Sapphire Rapids, AVX512_BF16 on Zen 4 / Cooper
// Lake) and threads with the same OpenMP runtime. It takes bf16 operands: f32 ones are rounded
// into compact scratch first (main thread's buffers, kept between calls).
#ifdef FT_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
// exported by libdnnl (row-major, as dnnl_sgemm) but missing from Debian's 2.6 headers
dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N, dnnl_dim_t K, float alpha,
                                    const uint16_t *A, dnnl_dim_t lda, const uint16_t *B, dnnl_dim_t ldb, float beta,
                                    float *C, dnnl_dim_t ldc);

static uint16_t *scratch_get(uint16_t **buf, size_t *cap, size_t n) {
    if (n <= *cap) return *buf;
    uint16_t *t = aligned_alloc(64, (n * sizeof *t + 63) / 64 * 64);
    if (!t) return NULL;
    free(*buf);
    *buf = t;
    *cap = n;
    return t;
}

static int gemm_dnnl(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const void *B,
                     int b_bf16, int ldb, float beta, float *C, int ldc) {
    static uint16_t *abuf, *bbuf;
    static size_t acap, bcap;
    long ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    uint16_t *ah = scratch_get(&abuf, &acap, (size_t)ar * ac);
    if (!ah) return -1;
    rows_to_bf16(ah, A, ar, ac, lda);
    const uint16_t *bh = B;
    long ldbh = ldb;
    if (!b_bf16) {
        uint16_t *t = scratch_get(&bbuf, &bcap, (size_t)br * bc);
        if (!t) return -1;
        rows_to_bf16(t, B, br, bc, ldb);
        bh = t;
        ldbh = bc;
    }
    dnnl_status_t st = dnnl_gemm_bf16bf16f32(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, ah, ac, bh, ldbh, beta,
                                             C, ldc);
    return st == dnnl_success ? 0 : -2;
}
#endif

int ft_cpu_bf16_backend(void) {
    if (!ft_cpu_has_bf16()) return FT_BF16_PORTABLE;
    const char *e = getenv("FT_BF16_BACKEND");   // benches: "own" compares our kernel with oneDNN's
#ifdef FT_HAVE_DNNL
    if (!(e && !strcmp(e, "own"))) return FT_BF16_DNNL;
#endif
    (void)e;
#ifdef FT_BF16_KERNEL
    return FT_BF16_OWN;
#else
    return FT_BF16_PORTABLE;
#endif
}

void ft_cpu_gemm_bf16(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const void *B,
                      int b_bf16, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    int rc, be = ft_cpu_bf16_backend();
#ifdef FT_HAVE_DNNL
    if (be == FT_BF16_DNNL) rc = gemm_dnnl(ta, tb, M, N, K, alpha, A, lda, B, b_bf16, ldb, beta, C, ldc);
    else
#endif
#ifdef FT_BF16_KERNEL
    if (be == FT_BF16_OWN) rc = gemm_avx512(ta, tb, M, N, K, alpha, A, lda, B, b_bf16, ldb, beta, C, ldc);
    else
#endif
        rc = gemm_rounded(ta, tb, M, N, K, alpha, A, lda, B, b_bf16, ldb, beta, C, ldc);
    if (rc) {
        if (rc == -2) ft_err("bf16 gemm: oneDNN refused a %d x %d x %d product", M, N, K);
        else ft_err("bf16 gemm: out of memory for its packing buffers (%d x %d x %d)", M, N, K);
        for (int i = 0; i < M; i++) ft_cpu_fill_nan(C + (size_t)i * ldc, (size_t)N);
    }
}

// Products too thin to fill the 12 x 32 tile or too short along k (LoRA's rank-r factors, one
// decoding row) stay f32: there the packing would cost more than the bf16 dot products save.
// B16, when non-NULL, is B already in bf16 (a cached weight image, cpu_bf16_ops.c).
void ft_cpu_gemm_bf16_auto(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                           const float *B, const uint16_t *B16, int ldb, float beta, float *C, int ldc) {
    if (M >= 8 && N >= 32 && K >= 64) {
        if (B16) ft_cpu_gemm_bf16(ta, tb, M, N, K, alpha, A, lda, B16, 1, ldb, beta, C, ldc);
        else ft_cpu_gemm_bf16(ta, tb, M, N, K, alpha, A, lda, B, 0, ldb, beta, C, ldc);
    } else {
        ft_cpu_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
}
