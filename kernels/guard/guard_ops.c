// guard_ops.c — the guard op table (see guard.h): every op of kernels/ops.h is the CPU
// kernel called on the shadow addresses of its device-buffer arguments, so results are the
// CPU backend's bit for bit while the buffers themselves stay unreadable from the host.
// Integer inputs (ids, pos, doc, targets, mask) are device buffers too, as on CUDA.
#include "guard.h"
#include "cpu/cpu_internal.h"
#include "core/err.h"
#include "ops.h"
#include "format/nf4.h"

#include <pthread.h>

void ft_guard_fill_mem(ft_ops *o);
int ft_guard_reserve(void);

#define S(p) ft_guard_shadow((p), __func__ + 2, #p)   // "g_matmul" -> "matmul"

static void g_matmul(float *out, const float *x, const float *w, const float *bias, int N, int I, int O) {
    ft_cpu_matmul(S(out), S(x), S(w), S(bias), N, I, O);
}
static void g_matmul_backward(float *dx, float *dw, float *dbias, const float *dout, const float *x, const float *w,
                              int N, int I, int O) {
    ft_cpu_matmul_backward(S(dx), S(dw), S(dbias), S(dout), S(x), S(w), N, I, O);
}
static void g_rmsnorm(float *out, float *rstd, const float *x, const float *weight, int N, int C, float eps) {
    ft_cpu_rmsnorm(S(out), S(rstd), S(x), S(weight), N, C, eps);
}
static void g_rmsnorm_backward(float *dx, float *dweight, const float *dout, const float *x, const float *weight,
                               const float *rstd, int N, int C) {
    ft_cpu_rmsnorm_backward(S(dx), S(dweight), S(dout), S(x), S(weight), S(rstd), N, C);
}
static void g_rope(float *x, const int32_t *pos, const float *inv_freq, int N, int H, int D) {
    ft_cpu_rope(S(x), S(pos), S(inv_freq), N, H, D);
}
static void g_rope_backward(float *dx, const int32_t *pos, const float *inv_freq, int N, int H, int D) {
    ft_cpu_rope_backward(S(dx), S(pos), S(inv_freq), N, H, D);
}
static void g_attention(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *doc,
                        int B, int T, int Hq, int Hkv, int D) {
    ft_cpu_attention(S(out), S(lse), S(q), S(k), S(v), S(doc), B, T, Hq, Hkv, D);
}
static void g_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                                 const float *lse, const float *q, const float *k, const float *v,
                                 const int32_t *doc, int B, int T, int Hq, int Hkv, int D) {
    ft_cpu_attention_backward(S(dq), S(dk), S(dv), S(dout), S(out), S(lse), S(q), S(k), S(v), S(doc), B, T, Hq,
                              Hkv, D);
}
static void g_swiglu(float *out, const float *gate, const float *up, int N, int F) {
    ft_cpu_swiglu(S(out), S(gate), S(up), N, F);
}
static void g_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int N,
                              int F) {
    ft_cpu_swiglu_backward(S(dgate), S(dup), S(dout), S(gate), S(up), N, F);
}
static void g_embedding(float *out, const int32_t *ids, const float *table, int N, int C) {
    ft_cpu_embedding(S(out), S(ids), S(table), N, C);
}
static void g_embedding_backward(float *dtable, const int32_t *ids, const float *dout, int N, int C) {
    ft_cpu_embedding_backward(S(dtable), S(ids), S(dout), N, C);
}
static double g_lm_head_xent(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                             const uint8_t *mask, int N, int C, int V, float grad_scale) {
    return ft_cpu_lm_head_xent(S(dh), S(dw), S(h), S(w), S(target), S(mask), N, C, V, grad_scale);
}
static void g_lm_head_logits(float *logits, const float *h, const float *w, int N, int C, int V) {
    ft_cpu_lm_head_logits(S(logits), S(h), S(w), N, C, V);
}
static void g_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2,
                    float eps, float weight_decay, int step) {
    ft_cpu_adamw(S(p), S(g), S(m), S(v), n, lr, beta1, beta2, eps, weight_decay, step);
}
static void g_add(float *out, const float *a, const float *b, size_t n) { ft_cpu_add(S(out), S(a), S(b), n); }
static void g_add_inplace(float *out, const float *a, size_t n) { ft_cpu_add_inplace(S(out), S(a), n); }
static void g_scale_add(float *out, const float *a, float s, size_t n) { ft_cpu_scale_add(S(out), S(a), s, n); }

// The quantized weight's descriptor is host metadata; its three arrays are device buffers.
static ft_qweight shadow_q(const ft_qweight *w, const char *op) {
    ft_qweight q = *w;
    q.codes = ft_guard_shadow(w->codes, op, "w->codes");
    q.qabsmax = ft_guard_shadow(w->qabsmax, op, "w->qabsmax");
    q.scale2 = ft_guard_shadow(w->scale2, op, "w->scale2");
    q.mem = NULL;
    return q;
}
static void g_qmatmul(float *out, const float *x, const ft_qweight *w, const float *bias, int N) {
    ft_qweight q = shadow_q(w, "qmatmul");
    ft_cpu_qmatmul(S(out), S(x), &q, S(bias), N);
}
static void g_qmatmul_backward(float *dx, const float *dout, const ft_qweight *w, int N) {
    ft_qweight q = shadow_q(w, "qmatmul_backward");
    ft_cpu_qmatmul_backward(S(dx), S(dout), &q, N);
}
static void g_act(float *out, const float *x, size_t n, int kind) { ft_cpu_act(S(out), S(x), n, kind); }
static void g_act_backward(float *dx, const float *dout, const float *x, size_t n, int kind) {
    ft_cpu_act_backward(S(dx), S(dout), S(x), n, kind);
}
static void g_dropout(float *out, const float *x, size_t n, float p, uint64_t seed) {
    ft_cpu_dropout(S(out), S(x), n, p, seed);
}
static void g_attention_cached(float *out, const float *q, const float *kc, const float *vc, int n, int p0, int Hq,
                               int Hkv, int D) {
    ft_cpu_attention_cached(S(out), S(q), S(kc), S(vc), n, p0, Hq, Hkv, D);
}
static void g_attention_decode(float *out, float *kc, float *vc, const float *q, const float *k, const float *v,
                               const int32_t *slot, const int32_t *pos, int n, int max_T, int Hq, int Hkv, int D) {
    ft_cpu_attention_decode(S(out), S(kc), S(vc), S(q), S(k), S(v), S(slot), S(pos), n, max_T, Hq, Hkv, D);
}

static double g_sumsq(const float *x, size_t n) { return ft_cpu_sumsq(S(x), n); }
static void g_scale(float *x, float s, size_t n) { ft_cpu_scale(S(x), s, n); }

static void g_fill(float *x, float v, size_t n) { ft_cpu_fill(S(x), v, n); }
static void g_div(float *out, const float *a, const float *b, size_t n) { ft_cpu_div(S(out), S(a), S(b), n); }
static void g_scale_cols(float *out, const float *g, const float *x, int N, int O) {
    ft_cpu_scale_cols(S(out), S(g), S(x), N, O);
}
static void g_tanh_backward(float *d, const float *y, size_t n) { ft_cpu_tanh_backward(S(d), S(y), n); }
static void g_dora_norm(float *n, float *G, const float *P, const float *W, const float *A, const float *B, float s,
                        int r, int I, int O) {
    ft_cpu_dora_norm(S(n), S(G), S(P), S(W), S(A), S(B), s, r, I, O);
}
static void g_dora_combine(float *out, const float *d, const float *g, const float *bias, float s, int N, int O) {
    ft_cpu_dora_combine(S(out), S(d), S(g), S(bias), s, N, O);
}
static void g_dora_gain_backward(float *dmag, float *c, const float *dout, const float *z, const float *n,
                                 const float *g, int N, int O) {
    ft_cpu_dora_gain_backward(S(dmag), S(c), S(dout), S(z), S(n), S(g), N, O);
}
static void g_dora_norm_backward_B(float *dB, float *Bc, const float *B, const float *P, const float *G,
                                   const float *c, float s, int r, int O) {
    ft_cpu_dora_norm_backward_B(S(dB), S(Bc), S(B), S(P), S(G), S(c), s, r, O);
}
static void g_dora_norm_backward_A(float *dA, const float *Bc, const float *B, const float *A, float s, int r, int I,
                                   int O) {
    ft_cpu_dora_norm_backward_A(S(dA), S(Bc), S(B), S(A), s, r, I, O);
}
static void g_dora_norm_backward_W(float *dW, const float *c, const float *W, const float *A, const float *B, float s,
                                   int r, int I, int O) {
    ft_cpu_dora_norm_backward_W(S(dW), S(c), S(W), S(A), S(B), s, r, I, O);
}

static void g_geglu(float *out, const float *gate, const float *up, int N, int F) {
    ft_cpu_geglu(S(out), S(gate), S(up), N, F);
}
static void g_geglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int N,
                             int F) {
    ft_cpu_geglu_backward(S(dgate), S(dup), S(dout), S(gate), S(up), N, F);
}
static void g_attention_window(float *out, float *lse, const float *q, const float *k, const float *v,
                               const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window, float scale) {
    ft_cpu_attention_window(S(out), S(lse), S(q), S(k), S(v), S(doc), B, T, Hq, Hkv, D, window, scale);
}
static void g_attention_window_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                                        const float *lse, const float *q, const float *k, const float *v,
                                        const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window,
                                        float scale) {
    ft_cpu_attention_window_backward(S(dq), S(dk), S(dv), S(dout), S(out), S(lse), S(q), S(k), S(v), S(doc), B, T, Hq,
                                     Hkv, D, window, scale);
}
static void g_attention_cached_window(float *out, const float *q, const float *kc, const float *vc, int n, int p0,
                                      int Hq, int Hkv, int D, int window, float scale) {
    ft_cpu_attention_cached_window(S(out), S(q), S(kc), S(vc), n, p0, Hq, Hkv, D, window, scale);
}

static ft_ops g_ops = {
    .name = "guard",
    .matmul = g_matmul,
    .matmul_backward = g_matmul_backward,
    .rmsnorm = g_rmsnorm,
    .rmsnorm_backward = g_rmsnorm_backward,
    .rope = g_rope,
    .rope_backward = g_rope_backward,
    .attention = g_attention,
    .attention_backward = g_attention_backward,
    .swiglu = g_swiglu,
    .swiglu_backward = g_swiglu_backward,
    .embedding = g_embedding,
    .embedding_backward = g_embedding_backward,
    .lm_head_xent = g_lm_head_xent,
    .lm_head_logits = g_lm_head_logits,
    .adamw = g_adamw,
    .add = g_add,
    .add_inplace = g_add_inplace,
    .scale_add = g_scale_add,
    .qmatmul = g_qmatmul,
    .qmatmul_backward = g_qmatmul_backward,
    .act = g_act,
    .act_backward = g_act_backward,
    .dropout = g_dropout,
    .attention_cached = g_attention_cached,
    .sumsq = g_sumsq,
    .scale = g_scale,
    .fill = g_fill,
    .div = g_div,
    .scale_cols = g_scale_cols,
    .tanh_backward = g_tanh_backward,
    .dora_norm = g_dora_norm,
    .dora_combine = g_dora_combine,
    .dora_gain_backward = g_dora_gain_backward,
    .dora_norm_backward_B = g_dora_norm_backward_B,
    .dora_norm_backward_A = g_dora_norm_backward_A,
    .dora_norm_backward_W = g_dora_norm_backward_W,
    .geglu = g_geglu,
    .geglu_backward = g_geglu_backward,
    .attention_window = g_attention_window,
    .attention_window_backward = g_attention_window_backward,
    .attention_cached_window = g_attention_cached_window,
    .attention_decode = g_attention_decode,   // qtmatmul: none (native weights stay on the cpu)
};
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init(void) { ft_guard_fill_mem(&g_ops); }

const ft_ops *ft_ops_guard(void) {
    if (ft_guard_reserve() < 0) return NULL;
    pthread_once(&g_once, init);
    return &g_ops;
}
