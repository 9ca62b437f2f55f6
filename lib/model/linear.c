// linear.c — one linear layer with every hook a PEFT method puts on it (model.h ft_linear):
//   base      out = x @ W^T + b            (W f32, or the frozen quantized qw: QLoRA)
//   LoRA      out += scale * ((drop(x) @ A^T) @ B^T + bias)   (drop: LoRA dropout while training;
//             bias: PEFT's lora_bias, NULL when absent)
//   DoRA      out = b + mag/||W + scale*B@A||_row * (x @ W^T + scale * x @ A^T @ B^T)   (lib/model/dora.c)
//   adapter   out += up(f(down(out)))      (bottleneck adapter on the output, lib/model/bottleneck.c)
// and the backward of the same composition. The forward and backward of the whole model
// (model_forward.c, model_backward.c) call only these.
#include <string.h>

#include "model/bottleneck.h"
#include "model/dora.h"
#include "core/err.h"
#include "model/model.h"
#include "model/model_backward.h"
#include "format/qtensor.h"

static int has_lora(const ft_linear *lin) {
    const ft_lora *lo = lin->lora;
    return lo && lo->r > 0 && lo->A && lo->B;
}

size_t ft_linear_scratch(const ft_linear *lin, int N, int backward) {
    if (!has_lora(lin)) return 0;
    if (lin->lora->mag) return ft_dora_scratch(lin, N, backward);
    size_t r = (size_t)lin->lora->r, drop = lin->lora->drop_p > 0 ? (size_t)lin->in : 0;
    return (size_t)N * ((backward ? 2 * r : r) + (size_t)lin->out + drop);
}

int ft_model_reserve_scratch(ft_model *m, int N, int backward, float **buf, size_t *cap) {
    size_t need = 0;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; j < FT_LIN_COUNT; j++) {
            size_t n = ft_linear_scratch(ft_model_layer_linear(m, l, j, NULL), N, backward);
            if (n > need) need = n;
        }
    if (need <= *cap) return 0;
    const ft_ops *ops = m->ops ? m->ops : ft_ops_cpu();   // scratch: old contents need not survive
    float *t = ops->alloc(need * sizeof(float));
    if (!t) return -1;
    ops->free(*buf);
    *buf = t;
    *cap = need;
    return 0;
}

static void base_forward(const ft_ops *ops, const ft_linear *lin, float *out, const float *x, int N) {
    if (lin->qt) ops->qtmatmul(out, x, lin->qt, lin->b, N);
    else if (lin->qw) ops->qmatmul(out, x, lin->qw, lin->b, N);
    else ops->matmul(out, x, lin->w, lin->b, N, lin->in, lin->out);
}

void ft_model_head_logits(const ft_model *m, float *logits, const float *h, int n) {
    if (m->lm_head_qt) m->ops->qtmatmul(logits, h, m->lm_head_qt, NULL, n);
    else m->ops->lm_head_logits(logits, h, m->lm_head, n, m->cfg.hidden, m->cfg.vocab_size);
}

void ft_linear_forward(const ft_ops *ops, const ft_linear *lin, float *out, const float *x, int N, float *tmp) {
    base_forward(ops, lin, out, x, N);
    if (has_lora(lin)) {
        const ft_lora *lo = lin->lora;
        if (lo->mag) {
            ft_dora_forward(ops, lin, out, x, N, tmp);
        } else {
            float *u = tmp;                           // (N, r) = drop(x) @ A^T
            float *d = tmp + (size_t)N * lo->r;       // (N, out) = u @ B^T
            const float *xl = x;
            if (lo->drop_p > 0) {                     // (N, in) = drop(x), after u and d
                float *xd = d + (size_t)N * lin->out;
                ops->dropout(xd, x, (size_t)N * lin->in, lo->drop_p, lo->drop_seed);
                xl = xd;
            }
            ops->matmul(u, xl, lo->A, NULL, N, lin->in, lo->r);
            ops->matmul(d, u, lo->B, NULL, N, lo->r, lin->out);
            ops->scale_add(out, d, lo->scale, (size_t)N * lin->out);
            if (lo->bias)
                for (int n = 0; n < N; n++) ops->scale_add(out + (size_t)n * lin->out, lo->bias, lo->scale, (size_t)lin->out);
        }
    }
    if (lin->post) ft_bottleneck_forward(ops, lin->post, out, N);
}

void ft_linear_backward(const ft_ops *ops, const ft_linear *lin, float *dx, float *dw, float *db,
                        const float *dout, const float *x, int N, float *tmp) {
    // the bottleneck adapter sits on the output: first its backward, giving d(linear output)
    if (lin->post) dout = ft_bottleneck_backward(ops, lin->post, dout, N);
    if (has_lora(lin) && lin->lora->mag) {   // DoRA rescales the base path too: it does it all
        ft_dora_backward(ops, lin, dx, dw, db, dout, x, N, tmp);
        return;
    }
    if (lin->qw) {
        ops->qmatmul_backward(dx, dout, lin->qw, N);
        if (db)
            for (int n = 0; n < N; n++) ops->add_inplace(db, dout + (size_t)n * lin->out, (size_t)lin->out);
    } else {
        ops->matmul_backward(dx, dw, db, dout, x, lin->w, N, lin->in, lin->out);
    }
    if (!has_lora(lin)) return;
    const ft_lora *h = lin->lora;
    size_t r = (size_t)h->r;
    float *u = tmp;                       // (N, r) = drop(x) @ A^T (recomputed)
    float *du = u + (size_t)N * r;        // (N, r)
    float *ds = du + (size_t)N * r;       // (N, out) = scale * dout
    float *xd = ds + (size_t)N * lin->out;// (N, in) = drop(x), the same mask as the forward's
    size_t nx = (size_t)N * lin->in;
    if (h->drop_p > 0) {
        ops->dropout(xd, x, nx, h->drop_p, h->drop_seed);
        x = xd;
    }
    ops->matmul(u, x, h->A, NULL, N, lin->in, h->r);
    ops->zero(ds, (size_t)N * lin->out * sizeof(float));
    ops->scale_add(ds, dout, h->scale, (size_t)N * lin->out);
    if (h->dbias)   // d bias = scale * sum over rows of dout
        for (int n = 0; n < N; n++) ops->add_inplace(h->dbias, ds + (size_t)n * lin->out, (size_t)lin->out);
    ops->zero(du, (size_t)N * r * sizeof(float));
    ops->matmul_backward(du, h->dB, NULL, ds, u, h->B, N, h->r, lin->out);
    if (h->drop_p <= 0) {
        ops->matmul_backward(dx, h->dA, NULL, du, x, h->A, N, lin->in, h->r);
        return;
    }
    // dA from drop(x); d(x) through the dropout = the same mask applied to du @ A
    ops->matmul_backward(NULL, h->dA, NULL, du, x, h->A, N, lin->in, h->r);
    ops->zero(xd, nx * sizeof(float));
    ops->matmul_backward(xd, NULL, NULL, du, NULL, h->A, N, lin->in, h->r);
    ops->dropout(xd, xd, nx, h->drop_p, h->drop_seed);
    ops->add_inplace(dx, xd, nx);
}
