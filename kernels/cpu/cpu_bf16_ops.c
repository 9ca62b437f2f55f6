// cpu_bf16_ops.c — the CPU op table at --precision bf16 (kernels/ops.h ft_ops_cpu_bf16): the CPU
// table with the linear layers and the LM head's products computed from bf16-rounded operands
// with f32 accumulation (cpu_bf16.c), as PyTorch's bf16 autocast does; everything else
// (norms, attention, softmax, the optimizer, the f32 master weights) stays f32.
#include "ops.h"
#include "cpu_internal.h"

// out(N,O) = x(N,I) @ w(O,I)^T + bias(O)
static void matmul_bf16(float *out, const float *x, const float *w, const float *bias, int N, int I, int O) {
    ft_cpu_gemm_bf16_auto(0, 1, N, O, I, 1.0f, x, I, w, I, 0.0f, out, O);
    if (bias) ft_cpu_matmul_bias(out, bias, N, O);
}

// dx(N,I) += dout(N,O) @ w(O,I); dw(O,I) += dout^T @ x(N,I); dbias(O) += sum_n dout
static void matmul_backward_bf16(float *dx, float *dw, float *dbias, const float *dout, const float *x,
                                 const float *w, int N, int I, int O) {
    if (dx) ft_cpu_gemm_bf16_auto(0, 0, N, I, O, 1.0f, dout, O, w, I, 1.0f, dx, I);
    if (dw) ft_cpu_gemm_bf16_auto(1, 0, O, I, N, 1.0f, dout, O, x, I, 1.0f, dw, I);
    if (dbias) ft_cpu_matmul_backward(NULL, NULL, dbias, dout, x, w, N, I, O);
}

static void lm_head_logits_bf16(float *logits, const float *h, const float *w, int N, int C, int V) {
    ft_cpu_gemm_bf16_auto(0, 1, N, V, C, 1.0f, h, C, w, C, 0.0f, logits, V);
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
        bf16_ready = 1;
    }
    return &bf16_ops;
}

int ft_ops_cpu_bf16_native(void) { return ft_cpu_has_bf16(); }
