// cpu_matmul.c — dense linear algebra of the CPU op table: the row-major sgemm wrapper
// (OpenBLAS cblas_sgemm when built with FT_HAVE_BLAS, cache-friendly OpenMP loops otherwise),
// linear layers forward/backward and the inference LM head.
#pragma GCC optimize("no-trapping-math")  // lets GCC vectorise the clamps of ft_cpu_expf
#include "cpu_internal.h"
#include "err.h"

#include <math.h>
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

// One row of C: c(N) = beta*c + alpha * a_row(K) @ op(B)(K,N); a_row has stride sa.
FT_CPU_CLONES
static void gemm_row(int tb, int N, int K, float alpha, const float *a, size_t sa, const float *B,
                     int ldb, float beta, float *c) {
    if (beta == 0.0f) memset(c, 0, (size_t)N * sizeof *c);
    else if (beta != 1.0f) for (int j = 0; j < N; j++) c[j] *= beta;
    if (!tb) {  // B is (K, N): c += a[k] * B[k, :], contiguous and vectorizable
        for (int k = 0; k < K; k++) {
            float ak = alpha * a[(size_t)k * sa];
            const float *b = B + (size_t)k * ldb;
            for (int j = 0; j < N; j++) c[j] += ak * b[j];
        }
    } else {    // B is (N, K): c[j] += alpha * dot(a, B[j, :])
        for (int j = 0; j < N; j++) {
            const float *b = B + (size_t)j * ldb;
            float s = 0.0f;
            if (sa == 1) for (int k = 0; k < K; k++) s += a[k] * b[k];
            else for (int k = 0; k < K; k++) s += a[(size_t)k * sa] * b[k];
            c[j] += alpha * s;
        }
    }
}

void ft_cpu_sgemm_loops(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc) {
    // Row i of op(A): A[i, :] (stride 1) or A[:, i] (stride lda).
    double work = (double)M * N * K;
    #pragma omp parallel for schedule(static) if (work > 1e6)
    for (int i = 0; i < M; i++) {
        const float *a = ta ? A + i : A + (size_t)i * lda;
        gemm_row(tb, N, K, alpha, a, ta ? (size_t)lda : 1, B, ldb, beta, C + (size_t)i * ldc);
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
    if (bias) {
        #pragma omp parallel for schedule(static) if ((double)N * O > 1e5)
        for (int n = 0; n < N; n++) {
            float *o = out + (size_t)n * O;
            for (int j = 0; j < O; j++) o[j] += bias[j];
        }
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
