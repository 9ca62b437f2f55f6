// cpu_internal.h — helpers shared by the CPU op implementations (kernels/cpu/*.c), not a
// public interface: the row-major sgemm wrapper (OpenBLAS when FT_HAVE_BLAS, loops otherwise)
// and the per-op functions that cpu_ops.c gathers into the ft_ops table.
#ifndef FT_CPU_INTERNAL_H
#define FT_CPU_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

// Hot loops are compiled twice, for CPUs with AVX2 (Intel Haswell+, AMD Zen+) and for baseline
// x86-64, picked at load time by CPU feature (GCC function multi-versioning), so the default build
// vectorises 8-wide without -march=native. Not under sanitizers (ifunc resolvers run before
// their runtime is up).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define FT_CPU_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FT_CPU_CLONES

#endif

// exp(x) in float32 that GCC can vectorise (no libm call, no branches): x = n*ln2 + r with
// |r| <= ln2/2, e^r by a degree-7 polynomial (cephes expf coefficients, ~1 ulp), 2^n through
// the exponent bits. exp(-inf) and anything below -86.5 give exactly 0 (the float32 normal
// range ends near e^-87.3; softmax terms that small vanish in the rounding of the sum anyway),
// above 88.72 gives +inf, NaN stays NaN. Files using it in loops set
// `#pragma GCC optimize("no-trapping-math")` so GCC may if-convert the clamps and vectorise.
static inline __attribute__((always_inline)) float ft_cpu_expf(float x) {
    union { float f; uint32_t u; } t, scale;  // unsigned: wraps defined for NaN inputs
    float xc = x < -86.5f ? -86.5f : x;
    xc = xc > 88.72283f ? 88.72283f : xc;
    t.f = xc * 1.44269504088896341f + 12582912.0f;  // 1.5*2^23: rounds to integer n
    float n = t.f - 12582912.0f;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    scale.u = (t.u - 0x4B400000u + 126u) << 23;  // 2^(n-1): n = 128 stays finite until the *2
    float y = (p * scale.f) * 2.0f;
    y = x < -86.5f ? 0.0f : y;
    return x > 88.72283f ? __builtin_inff() : y;
}

// sigmoid(y) = 1 / (1 + e^-y): exact limits 0 and 1 (e^-y overflows to inf or underflows to 0)
static inline __attribute__((always_inline)) float ft_cpu_sigmoid(float y) { return 1.0f / (1.0f + ft_cpu_expf(-y)); }

// gelu_tanh(x) = x/2 (1 + tanh u) = x * sigmoid(2u), u = k (x + c x^3), k = sqrt(2/pi), c = 0.044715
// (HF "gelu_pytorch_tanh"), and its derivative s + 2 x s (1 - s) k (1 + 3 c x^2), s = sigmoid(2u),
// 1 - s = sigmoid(-2u) (no cancellation in 1 + tanh u where u << 0). cpu_act.c, cpu_pointwise.c.
#define FT_GELU_K 0.7978845608028654f
#define FT_GELU_C 0.044715f
static inline __attribute__((always_inline)) float ft_cpu_gelu_tanh(float x) {
    return x * ft_cpu_sigmoid(2.0f * FT_GELU_K * (x + FT_GELU_C * x * x * x));
}
static inline __attribute__((always_inline)) float ft_cpu_gelu_tanh_grad(float x) {
    float x2 = x * x, y = 2.0f * FT_GELU_K * (x + FT_GELU_C * x2 * x), s = ft_cpu_sigmoid(y), oms = ft_cpu_sigmoid(-y);
    return s + 2.0f * x * s * oms * FT_GELU_K * (1.0f + 3.0f * FT_GELU_C * x2);
}

// Row-major C(M,N) = alpha * op(A)(M,K) @ op(B)(K,N) + beta * C, op = transpose when ta/tb.
// When beta == 0, C is overwritten (its old contents, even NaN, are ignored).
void ft_cpu_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc);
// The same with plain OpenMP loops: the fallback without BLAS (always built, so it is tested).
// Expects M, N, K > 0.
void ft_cpu_sgemm_loops(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc);
// Fill n floats with NaN: what a void op leaves when it cannot get scratch memory, so the
// caller's non-finite check stops the run (the reason is in ft_errmsg()).
void ft_cpu_fill_nan(float *p, size_t n);

// bf16 GEMM (cpu_bf16.c): as ft_cpu_sgemm, each element of op(A) and op(B) rounded to bf16
// (round to nearest even), products summed in f32. B is f32, or bf16 bits (uint16_t) when
// b_bf16. AVX512_BF16 kernel where ft_cpu_has_bf16(), bf16-rounded f32 copies through the
// sgemm elsewhere. _auto: the same for products big enough to gain, the f32 sgemm otherwise.
void ft_cpu_gemm_bf16(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const void *B,
                      int b_bf16, int ldb, float beta, float *C, int ldc);
void ft_cpu_gemm_bf16_auto(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                           const float *B, const uint16_t *B16, int ldb, float beta, float *C, int ldc);
// The bf16 image of weight w(n) (cpu_bf16_ops.c), or NULL (small, out of memory, or a backend
// that reads f32 directly); valid until the next bf16-table adamw over w.
const uint16_t *ft_cpu_w16(const float *w, size_t n);
int ft_cpu_has_bf16(void);            // the CPU has AVX512_BF16 (and FT_NO_AVX512BF16 is not set)
enum { FT_BF16_PORTABLE = 0, FT_BF16_OWN = 1, FT_BF16_DNNL = 2 };
int ft_cpu_bf16_backend(void);        // which one ft_cpu_gemm_bf16 runs (FT_BF16_BACKEND=own: ours over oneDNN)
uint16_t ft_cpu_f32_to_bf16(float f); // round to nearest even (NaN stays NaN)
float ft_cpu_bf16_round(float f);     // f rounded to the nearest bf16, as f32
void ft_cpu_to_bf16(uint16_t *dst, const float *src, size_t n);   // dst = bf16(src), n elements
void ft_cpu_matmul_bias(float *out, const float *bias, int N, int O);   // out(N,O) += bias per row
double ft_cpu_lm_head_xent_bf16(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                                const uint8_t *mask, int N, int C, int V, float grad_scale);
double ft_cpu_lm_head_xent_rows_bf16(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                                     const uint8_t *mask, int N, int C, int V, float grad_scale,
                                     const float *gweight, const int32_t *row, double *row_logp, int n_rows);

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
double ft_cpu_lm_head_xent_rows(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                                const uint8_t *mask, int N, int C, int V, float grad_scale, const float *gweight,
                                const int32_t *row, double *row_logp, int n_rows);

void ft_cpu_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int step);
void ft_cpu_add(float *out, const float *a, const float *b, size_t n);
void ft_cpu_add_inplace(float *out, const float *a, size_t n);
void ft_cpu_scale_add(float *out, const float *a, float s, size_t n);

struct ft_qweight;
void ft_cpu_qmatmul(float *out, const float *x, const struct ft_qweight *w, const float *bias, int N);
void ft_cpu_qmatmul_backward(float *dx, const float *dout, const struct ft_qweight *w, int N);
void ft_cpu_act(float *out, const float *x, size_t n, int kind);
void ft_cpu_act_backward(float *dx, const float *dout, const float *x, size_t n, int kind);
void ft_cpu_dropout(float *out, const float *x, size_t n, float p, uint64_t seed);

double ft_cpu_sumsq(const float *x, size_t n);
void ft_cpu_scale(float *x, float s, size_t n);
void *ft_cpu_alloc(size_t bytes);
void ft_cpu_free(void *p);
int ft_cpu_copy(void *dst, const void *src, size_t bytes);   // also upload / download on the CPU
int ft_cpu_zero(void *dst, size_t bytes);
void ft_cpu_fill(float *x, float v, size_t n);
void ft_cpu_div(float *out, const float *a, const float *b, size_t n);
void ft_cpu_scale_cols(float *out, const float *g, const float *x, int N, int O);
void ft_cpu_tanh_backward(float *d, const float *y, size_t n);
void ft_cpu_dora_norm(float *n, float *G, const float *P, const float *W, const float *A, const float *B, float s,
                      int r, int I, int O);
void ft_cpu_dora_combine(float *out, const float *d, const float *g, const float *bias, float s, int N, int O);
void ft_cpu_dora_gain_backward(float *dmag, float *c, const float *dout, const float *z, const float *n,
                               const float *g, int N, int O);
void ft_cpu_dora_norm_backward_B(float *dB, float *Bc, const float *B, const float *P, const float *G, const float *c,
                                 float s, int r, int O);
void ft_cpu_dora_norm_backward_A(float *dA, const float *Bc, const float *B, const float *A, float s, int r, int I,
                                 int O);
void ft_cpu_dora_norm_backward_W(float *dW, const float *c, const float *W, const float *A, const float *B, float s,
                                 int r, int I, int O);
void ft_cpu_attention_cached(float *out, const float *q, const float *kc, const float *vc, int n, int p0, int Hq,
                             int Hkv, int D);

// Gemma 3 (cpu_attention.c; the cached one and geglu: cpu_mem.c, cpu_pointwise.c)
void ft_cpu_attention_window(float *out, float *lse, const float *q, const float *k, const float *v,
                             const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window, float scale);
void ft_cpu_attention_window_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                                      const float *lse, const float *q, const float *k, const float *v,
                                      const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window,
                                      float scale);
void ft_cpu_attention_cached_window(float *out, const float *q, const float *kc, const float *vc, int n, int p0,
                                    int Hq, int Hkv, int D, int window, float scale);
void ft_cpu_geglu(float *out, const float *gate, const float *up, int N, int F);
void ft_cpu_geglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int N,
                           int F);

struct ft_qtensor;
void ft_cpu_qtmatmul(float *out, const float *x, const struct ft_qtensor *w, const float *bias, int N);
void ft_cpu_attention_decode(float *out, float *kc, float *vc, const float *q, const float *k, const float *v,
                             const int32_t *slot, const int32_t *pos, int n, int max_T, int Hq, int Hkv, int D);
// Whether qtmatmul's fused path runs its AVX-512 version (cpuid; FT_CPU_PORTABLE=1 in the
// environment or ft_cpu_qdot_force_portable(1) forces the portable one; tests use both).
int ft_cpu_qdot_avx512(void);
void ft_cpu_qdot_force_portable(int on);

#endif
