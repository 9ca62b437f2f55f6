// cpu_bf16_ops.c — the CPU op table at --precision bf16 (kernels/ops.h ft_ops_cpu_bf16): the CPU
// table with the linear layers and the LM head's products computed from bf16-rounded operands
// with f32 accumulation (cpu_bf16.c), as PyTorch's bf16 autocast does; everything else
// (norms, attention, softmax, the optimizer, the f32 master weights) stays f32.
#include "ops.h"
#include "cpu_internal.h"

#include <stdlib.h>
#include <string.h>

// ---- the bf16 images of the weights ----------------------------------------------------------
// Weights (the `w` of matmul, matmul_backward and the LM head) are rounded to bf16 once and
// kept: frozen ones for the whole run (the f32 copy stays the master), trained ones until this
// table's adamw updates a range that covers them (full fine-tuning: once per step). Four probe
// values catch a buffer rewritten some other way (a checkpoint load, a new model at the same
// address). Only for the oneDNN backend, which takes bf16 operands; ours packs from f32 as fast.
enum { W16_MIN = 1 << 16, W16_MAX = 4096 };
typedef struct {
    const float *src;
    size_t n;
    uint16_t *h;
    int stale;
    float probe[4];
} w16_entry;
static w16_entry w16s[W16_MAX];
static int n_w16;

static void probes(const float *w, size_t n, float p[4]) {
    p[0] = w[0]; p[1] = w[n / 3]; p[2] = w[2 * (n / 3)]; p[3] = w[n - 1];
}

const uint16_t *ft_cpu_w16(const float *w, size_t n) {
    if (!w || n < W16_MIN || ft_cpu_bf16_backend() != FT_BF16_DNNL) return NULL;
    w16_entry *e = NULL;
    for (int i = 0; i < n_w16 && !e; i++)
        if (w16s[i].src == w && w16s[i].n == n) e = &w16s[i];
    if (!e) {
        if (n_w16 == W16_MAX) return NULL;
        uint16_t *h = malloc(n * sizeof *h);
        if (!h) return NULL;
        e = &w16s[n_w16++];
        *e = (w16_entry){w, n, h, 1, {0}};
    }
    float p[4];
    probes(w, n, p);
    if (e->stale || memcmp(p, e->probe, sizeof p)) {
        ft_cpu_to_bf16(e->h, w, n);
        memcpy(e->probe, p, sizeof p);
        e->stale = 0;
    }
    return e->h;
}

// AdamW as the f32 table's, then the images of the updated range are stale
static void adamw_bf16(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2,
                       float eps, float weight_decay, int step) {
    ft_cpu_adamw(p, g, m, v, n, lr, beta1, beta2, eps, weight_decay, step);
    for (int i = 0; i < n_w16; i++)
        if (w16s[i].src < p + n && p < w16s[i].src + w16s[i].n) w16s[i].stale = 1;
}

// out(N,O) = x(N,I) @ w(O,I)^T + bias(O)
static void matmul_bf16(float *out, const float *x, const float *w, const float *bias, int N, int I, int O) {
    ft_cpu_gemm_bf16_auto(0, 1, N, O, I, 1.0f, x, I, w, ft_cpu_w16(w, (size_t)O * I), I, 0.0f, out, O);
    if (bias) ft_cpu_matmul_bias(out, bias, N, O);
}

// dx(N,I) += dout(N,O) @ w(O,I); dw(O,I) += dout^T @ x(N,I); dbias(O) += sum_n dout
static void matmul_backward_bf16(float *dx, float *dw, float *dbias, const float *dout, const float *x,
                                 const float *w, int N, int I, int O) {
    if (dx) ft_cpu_gemm_bf16_auto(0, 0, N, I, O, 1.0f, dout, O, w, ft_cpu_w16(w, (size_t)O * I), I, 1.0f, dx, I);
    if (dw) ft_cpu_gemm_bf16_auto(1, 0, O, I, N, 1.0f, dout, O, x, NULL, I, 1.0f, dw, I);
    if (dbias) ft_cpu_matmul_backward(NULL, NULL, dbias, dout, x, w, N, I, O);
}

static void lm_head_logits_bf16(float *logits, const float *h, const float *w, int N, int C, int V) {
    ft_cpu_gemm_bf16_auto(0, 1, N, V, C, 1.0f, h, C, w, ft_cpu_w16(w, (size_t)V * C), C, 0.0f, logits, V);
}

static ft_ops bf16_ops;
static int bf16_ready;

const ft_ops *ft_ops_cpu_bf16(void) {
    if (!bf16_ready) {   // first call from one thread (tool setup), as every table lookup is
        bf16_ops = *ft_ops_cpu();
        bf16_ops.name = "cpu-bf16";
        bf16_ops.matmul = matmul_bf16;
        bf16_ops.matmul_backward = matmul_backward_bf16;
        bf16_ops.lm_head_xent = ft_cpu_lm_head_xent_bf16;
        bf16_ops.lm_head_xent_rows = ft_cpu_lm_head_xent_rows_bf16;
        bf16_ops.lm_head_logits = lm_head_logits_bf16;
        bf16_ops.adamw = adamw_bf16;
        bf16_ready = 1;
    }
    return &bf16_ops;
}

int ft_ops_cpu_bf16_native(void) { return ft_cpu_has_bf16(); }
