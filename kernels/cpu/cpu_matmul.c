// cpu_matmul.c — dense linear algebra of the CPU op table: the row-major sgemm wrapper
// (OpenBLAS cblas_sgemm when built with FT_HAVE_BLAS, cache-friendly OpenMP loops otherwise),
// linear layers forward/backward and the inference LM head.
#pragma GCC optimize("no-trapping-math")  // lets GCC vectorise the clamps of ft_cpu_expf
#include "cpu_internal.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef FT_HAVE_BLAS
// Declared here rather than via <cblas.h>: Debian puts that header in a per-variant directory
// (openblas-openmp/) that is not on the default include path. The enums are plain ints in the ABI.
enum { FT_CBLAS_ROW_MAJOR = 101, FT_CBLAS_NO_TRANS = 111, FT_CBLAS_TRANS = 112 };
void cblas_sgemm(int order, int transa, int transb, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc);
#endif

void ft_cpu_fill_nan(float *p, size_t n) {
    if (!p) return;
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

// Rows [i0, i1) (at most 4) of C = beta*C + alpha * op(A) @ B, B not transposed: for column
// panels of NB, every loaded row B[k, j0:j1] updates all the C rows, which stay in L1.
enum { NB = 256 };
FT_CPU_CLONES
static void gemm_rows_nn(int i0, int i1, int ta, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc) {
    int m = i1 - i0;
    for (int i = 0; i < m; i++) {
        float *c = C + (size_t)(i0 + i) * ldc;
        if (beta == 0.0f) memset(c, 0, (size_t)N * sizeof *c);
        else if (beta != 1.0f) for (int j = 0; j < N; j++) c[j] *= beta;
    }
    for (int j0 = 0; j0 < N; j0 += NB) {
        int nj = N - j0 < NB ? N - j0 : NB;
        float *c[4];
        for (int i = 0; i < 4; i++) c[i] = C + (size_t)(i0 + (i < m ? i : 0)) * ldc + j0;
        for (int k = 0; k < K; k++) {
            const float *bk = B + (size_t)k * ldb + j0;
            float x[4];
            for (int i = 0; i < 4; i++) {
                int r = i0 + (i < m ? i : 0);
                x[i] = i < m ? alpha * (ta ? A[(size_t)k * lda + r] : A[(size_t)r * lda + k]) : 0.0f;
            }
            if (m == 4) {
                float *c0 = c[0], *c1 = c[1], *c2 = c[2], *c3 = c[3];
                #pragma omp simd
                for (int j = 0; j < nj; j++) {
                    float y = bk[j];
                    c0[j] += x[0] * y; c1[j] += x[1] * y; c2[j] += x[2] * y; c3[j] += x[3] * y;
                }
            } else {
                for (int i = 0; i < m; i++) {
                    float *ci = c[i], xi = x[i];
                    #pragma omp simd
                    for (int j = 0; j < nj; j++) ci[j] += xi * bk[j];
                }
            }
        }
    }
}

// s[i][j] = dot(a_i, b_j) over K for four rows of A and four of B: 16 accumulators of 8 lanes
// (GCC vector extension; 2 x 4 lanes on baseline x86-64, one AVX register in the AVX2 clone).
#ifdef __GNUC__
typedef float ft_v8f __attribute__((vector_size(32)));
#define V8LOAD(v, p) memcpy(&(v), (p), sizeof(ft_v8f))
#endif
static inline __attribute__((always_inline)) void dot4x4(float s[4][4], const float *a0, const float *a1,
                                                         const float *a2, const float *a3,
                                                         const float *const b[4], int K) {
    const float *a[4] = {a0, a1, a2, a3};
    int k = 0;
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) s[i][j] = 0.0f;
#ifdef __GNUC__
    int k8 = K / 8 * 8;
    for (int i = 0; i < 4; i += 2) {  // two rows of A at a time: 8 accumulators + 6 operands fit 16 registers
        ft_v8f c00 = {0}, c01 = {0}, c02 = {0}, c03 = {0}, c10 = {0}, c11 = {0}, c12 = {0}, c13 = {0};
        for (int kk = 0; kk < k8; kk += 8) {
            ft_v8f x0, x1, y0, y1, y2, y3;
            V8LOAD(x0, a[i] + kk); V8LOAD(x1, a[i + 1] + kk);
            V8LOAD(y0, b[0] + kk); V8LOAD(y1, b[1] + kk); V8LOAD(y2, b[2] + kk); V8LOAD(y3, b[3] + kk);
            c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
            c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        }
        for (int l = 0; l < 8; l++) {
            s[i][0] += c00[l]; s[i][1] += c01[l]; s[i][2] += c02[l]; s[i][3] += c03[l];
            s[i + 1][0] += c10[l]; s[i + 1][1] += c11[l]; s[i + 1][2] += c12[l]; s[i + 1][3] += c13[l];
        }
    }
    k = k8;
#endif
    for (; k < K; k++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) s[i][j] += a[i][k] * b[j][k];
}

// C rows [i0, i1) for B transposed, i.e. C[i,j] = beta*C + alpha * dot(op(A)[i,:], B[j,:]):
// 4x4 blocks of dot products share their loads, and a block of MB rows of A is reused from
// cache against every row of B. Rows of op(A) are copied contiguous first when A is transposed.
enum { MB = 16 };
FT_CPU_CLONES
static void gemm_rows_nt(int i0, int i1, int ta, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc, float *abuf /* (MB, K) */) {
    int m = i1 - i0;
    const float *a[MB];
    for (int i = 0; i < m; i++) {
        if (ta) {
            for (int k = 0; k < K; k++) abuf[(size_t)i * K + k] = A[(size_t)k * lda + i0 + i];
            a[i] = abuf + (size_t)i * K;
        } else {
            a[i] = A + (size_t)(i0 + i) * lda;
        }
    }
    for (int j0 = 0; j0 < N; j0 += 4) {
        int nj = N - j0 < 4 ? N - j0 : 4;
        const float *b[4];
        for (int j = 0; j < 4; j++) b[j] = B + (size_t)(j0 + (j < nj ? j : 0)) * ldb;
        for (int ib = 0; ib < m; ib += 4) {
            int ni = m - ib < 4 ? m - ib : 4;
            const float *a0 = a[ib], *a1 = a[ib + (ni > 1)], *a2 = a[ib + (ni > 2) * 2], *a3 = a[ib + (ni > 3) * 3];
            float s[4][4];
            dot4x4(s, a0, a1, a2, a3, b, K);
            for (int i = 0; i < ni; i++) {
                float *c = C + (size_t)(i0 + ib + i) * ldc + j0;
                for (int j = 0; j < nj; j++) c[j] = (beta == 0.0f ? 0.0f : beta * c[j]) + alpha * s[i][j];
            }
        }
    }
}

void ft_cpu_sgemm_loops(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc) {
    double work = (double)M * N * K;
    float *Bt = NULL;  // (N, K) transposed copy of B: lets many rows of A use the dot-product kernel
    if (!tb && M >= 16) Bt = malloc((size_t)N * K * sizeof *Bt);
    if (!tb && !Bt) {
        #pragma omp parallel for schedule(static) if (work > 1e6)
        for (int i0 = 0; i0 < M; i0 += 4)
            gemm_rows_nn(i0, i0 + 4 < M ? i0 + 4 : M, ta, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (Bt) {
        #pragma omp parallel for schedule(static) if (work > 1e6)
        for (int j = 0; j < N; j++)
            for (int k = 0; k < K; k++) Bt[(size_t)j * K + k] = B[(size_t)k * ldb + j];
        B = Bt;
        ldb = K;
    }
    int nblk = (M + MB - 1) / MB, failed = 0;
    #pragma omp parallel if (work > 1e6) reduction(| : failed)
    {
        float *abuf = ta ? malloc((size_t)MB * K * sizeof *abuf) : NULL;
        if (ta && !abuf) failed = 1;
        #pragma omp for schedule(dynamic, 1)
        for (int blk = 0; blk < nblk; blk++) {
            if (ta && !abuf) continue;
            int i0 = blk * MB, i1 = i0 + MB < M ? i0 + MB : M;
            gemm_rows_nt(i0, i1, ta, N, K, alpha, A, lda, B, ldb, beta, C, ldc, abuf);
        }
        free(abuf);
    }
    free(Bt);
    if (failed) {
        ft_err("sgemm: out of memory for a %d x %d panel", MB, K);
        for (int i = 0; i < M; i++) ft_cpu_fill_nan(C + (size_t)i * ldc, (size_t)N);
    }
}

void ft_cpu_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {  // op(A)@op(B) is zero: C = beta*C
        for (int i = 0; i < M; i++) {
            float *c = C + (size_t)i * ldc;
            for (int j = 0; j < N; j++) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
        }
        return;
    }
#ifdef FT_HAVE_BLAS
    cblas_sgemm(FT_CBLAS_ROW_MAJOR, ta ? FT_CBLAS_TRANS : FT_CBLAS_NO_TRANS,
                tb ? FT_CBLAS_TRANS : FT_CBLAS_NO_TRANS, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    ft_cpu_sgemm_loops(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

// out(N,O) = x(N,I) @ w(O,I)^T + bias(O)
void ft_cpu_matmul(float *out, const float *x, const float *w, const float *bias, int N, int I, int O) {
    ft_cpu_sgemm(0, 1, N, O, I, 1.0f, x, I, w, I, 0.0f, out, O);
    if (bias) ft_cpu_matmul_bias(out, bias, N, O);
}

// out(N,O) += bias(O) on every row
void ft_cpu_matmul_bias(float *out, const float *bias, int N, int O) {
    #pragma omp parallel for schedule(static) if ((double)N * O > 1e5)
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * O;
        for (int j = 0; j < O; j++) o[j] += bias[j];
    }
}

// dx(N,I) += dout(N,O) @ w(O,I); dw(O,I) += dout^T @ x(N,I); dbias(O) += sum_n dout
void ft_cpu_matmul_backward(float *dx, float *dw, float *dbias, const float *dout, const float *x,
                            const float *w, int N, int I, int O) {
    if (dx) ft_cpu_sgemm(0, 0, N, I, O, 1.0f, dout, O, w, I, 1.0f, dx, I);
    if (dw) ft_cpu_sgemm(1, 0, O, I, N, 1.0f, dout, O, x, I, 1.0f, dw, I);
    if (dbias) {
        #pragma omp parallel for schedule(static) if ((double)N * O > 1e5)
        for (int j = 0; j < O; j++) {
            float s = 0.0f;
            for (int n = 0; n < N; n++) s += dout[(size_t)n * O + j];
            dbias[j] += s;
        }
    }
}

// logits(N,V) = h(N,C) @ w(V,C)^T
void ft_cpu_lm_head_logits(float *logits, const float *h, const float *w, int N, int C, int V) {
    ft_cpu_sgemm(0, 1, N, V, C, 1.0f, h, C, w, C, 0.0f, logits, V);
}
