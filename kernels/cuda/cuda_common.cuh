// cuda_common.cuh — internals shared by the CUDA op implementations (kernels/cuda/*.cu), not a
// public interface: error recording, the cuBLAS handle, grow-only scratch buffers, the
// row-major sgemm wrapper and the per-op functions that cuda_ops.cu gathers into ft_ops.
// All tensor pointers are DEVICE pointers (see ft_cuda.h for the contract).
#ifndef FT_CUDA_COMMON_CUH
#define FT_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "core/err.h"
#include "ops.h"
#include "ft_cuda.h"
}

// Records "cuda: OP: CALL: reason" (first error wins until ft_cuda_sync clears it); returns -1
// on error, 0 otherwise. CUDA_OK / CUBLAS_OK wrap a call and name it.
int ft_cuda_check(cudaError_t e, const char *op, const char *call);
int ft_cublas_check(cublasStatus_t s, const char *op, const char *call);
#define CUDA_OK(op, call) (ft_cuda_check((call), (op), #call) == 0)
#define CUBLAS_OK(op, call) (ft_cublas_check((call), (op), #call) == 0)
// After a kernel launch: records a launch error (bad configuration etc.).
#define CUDA_LAUNCHED(op) ft_cuda_check(cudaGetLastError(), (op), "kernel launch")

cublasHandle_t ft_cuda_blas(void);

// Grow-only scratch buffers, one per kind, so a training loop allocates only in its first
// steps. Returns NULL (message recorded, naming op and size) when the device is out of memory.
enum { FT_SCR_ATT_LO, FT_SCR_ATT_DI, FT_SCR_XENT_LOGITS, FT_SCR_XENT_H, FT_SCR_XENT_DH,
       FT_SCR_XENT_IDX, FT_SCR_XENT_LOSS, FT_SCR_ATT_KV, FT_SCR_COUNT };
void *ft_cuda_scratch(int kind, size_t bytes, const char *op);
// Device allocation with the out-of-memory message ("asked for X MiB, Y MiB free ...").
void *ft_cuda_alloc_for(size_t bytes, const char *op);
// Fill n floats of device memory with NaN (what an op leaves when it fails).
void ft_cuda_fill_nan(float *p, size_t n);

// Row-major C(M,N) = alpha * op(A)(M,K) @ op(B)(K,N) + beta * C (cuBLAS sgemm, f32; TF32 only with FT_CUDA_TF32=1).
int ft_cuda_sgemm(const char *op, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                  int lda, const float *B, int ldb, float beta, float *C, int ldc);

static inline unsigned ft_cuda_blocks(size_t n, unsigned threads) {
    size_t b = (n + threads - 1) / threads;
    return (unsigned)(b > 1u << 30 ? 1u << 30 : b);  // grid-stride loops cover the rest
}

void ft_cuda_matmul(float *out, const float *x, const float *w, const float *bias, int N, int I, int O);
void ft_cuda_matmul_backward(float *dx, float *dw, float *dbias, const float *dout, const float *x,
                             const float *w, int N, int I, int O);
void ft_cuda_lm_head_logits(float *logits, const float *h, const float *w, int N, int C, int V);
void ft_cuda_rmsnorm(float *out, float *rstd, const float *x, const float *weight, int N, int C, float eps);
void ft_cuda_rmsnorm_backward(float *dx, float *dweight, const float *dout, const float *x,
                              const float *weight, const float *rstd, int N, int C);
void ft_cuda_rope(float *x, const int32_t *pos, const float *inv_freq, int N, int H, int D);
void ft_cuda_rope_backward(float *dx, const int32_t *pos, const float *inv_freq, int N, int H, int D);
void ft_cuda_attention(float *out, float *lse, const float *q, const float *k, const float *v,
                       const int32_t *doc, int B, int T, int Hq, int Hkv, int D);
void ft_cuda_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                                const float *lse, const float *q, const float *k, const float *v,
                                const int32_t *doc, int B, int T, int Hq, int Hkv, int D);
void ft_cuda_swiglu(float *out, const float *gate, const float *up, int N, int F);
void ft_cuda_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                             const float *up, int N, int F);
// Gemma 3 (cuda_pointwise.cu, cuda_attention.cu)
void ft_cuda_geglu(float *out, const float *gate, const float *up, int N, int F);
void ft_cuda_geglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int N,
                            int F);
void ft_cuda_attention_window(float *out, float *lse, const float *q, const float *k, const float *v,
                              const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window, float scale);
void ft_cuda_attention_window_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                                       const float *lse, const float *q, const float *k, const float *v,
                                       const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window,
                                       float scale);
void ft_cuda_embedding(float *out, const int32_t *ids, const float *table, int N, int C);
void ft_cuda_embedding_backward(float *dtable, const int32_t *ids, const float *dout, int N, int C);
double ft_cuda_lm_head_xent(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                            const uint8_t *mask, int N, int C, int V, float grad_scale);
double ft_cuda_lm_head_xent_rows(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                                 const uint8_t *mask, int N, int C, int V, float grad_scale, const float *gweight,
                                 const int32_t *row, double *row_logp, int n_rows);
void ft_cuda_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                   float beta2, float eps, float weight_decay, int step);
void ft_cuda_add(float *out, const float *a, const float *b, size_t n);
void ft_cuda_add_inplace(float *out, const float *a, size_t n);
void ft_cuda_scale_add(float *out, const float *a, float s, size_t n);
double ft_cuda_sumsq(const float *x, size_t n);
void ft_cuda_scale(float *x, float s, size_t n);
void ft_cuda_attention_cached(float *out, const float *q, const float *kc, const float *vc, int n,
                              int p0, int Hq, int Hkv, int D);

#endif
