// cpu_internal.h — helpers shared by the CPU op implementations (kernels/cpu/*.c), not a
// public interface: the row-major sgemm wrapper (OpenBLAS when FT_HAVE_BLAS, loops otherwise)
// and the per-op functions that cpu_ops.c gathers into the ft_ops table.
#ifndef FT_CPU_INTERNAL_H
#define FT_CPU_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

// Row-major C(M,N) = alpha * op(A)(M,K) @ op(B)(K,N) + beta * C, op = transpose when ta/tb.
// When beta == 0, C is overwritten (its old contents, even NaN, are ignored).
void ft_cpu_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc);
// Fill n floats with NaN: what a void op leaves when it cannot get scratch memory, so the
// caller's non-finite check stops the run (the reason is in ft_errmsg()).
void ft_cpu_fill_nan(float *p, size_t n);

void ft_cpu_matmul(float *out, const float *x, const float *w, const float *bias, int N, int I, int O);
void ft_cpu_matmul_backward(float *dx, float *dw, float *dbias, const float *dout, const float *x,
                            const float *w, int N, int I, int O);
void ft_cpu_lm_head_logits(float *logits, const float *h, const float *w, int N, int C, int V);

void ft_cpu_rmsnorm(float *out, float *rstd, const float *x, const float *weight, int N, int C, float eps);
void ft_cpu_rmsnorm_backward(float *dx, float *dweight, const float *dout, const float *x,
                             const float *weight, const float *rstd, int N, int C);
void ft_cpu_rope(float *x, const int32_t *pos, const float *inv_freq, int N, int H, int D);
void ft_cpu_rope_backward(float *dx, const int32_t *pos, const float *inv_freq, int N, int H, int D);

void ft_cpu_attention(float *out, float *lse, const float *q, const float *k, const float *v,
                      const int32_t *doc, int B, int T, int Hq, int Hkv, int D);
void ft_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                               const float *lse, const float *q, const float *k, const float *v,
                               const int32_t *doc, int B, int T, int Hq, int Hkv, int D);

void ft_cpu_swiglu(float *out, const float *gate, const float *up, int N, int F);
void ft_cpu_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                            const float *up, int N, int F);
void ft_cpu_embedding(float *out, const int32_t *ids, const float *table, int N, int C);
void ft_cpu_embedding_backward(float *dtable, const int32_t *ids, const float *dout, int N, int C);

double ft_cpu_lm_head_xent(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                           const uint8_t *mask, int N, int C, int V, float grad_scale);

void ft_cpu_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int step);
void ft_cpu_add(float *out, const float *a, const float *b, size_t n);
void ft_cpu_add_inplace(float *out, const float *a, size_t n);
void ft_cpu_scale_add(float *out, const float *a, float s, size_t n);

#endif
