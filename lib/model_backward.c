// model_backward.c — whole-model backward (see model_backward.h).
#include "model_backward.h"
#include "err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ft_backward_alloc(ft_backward_ws *ws, const ft_config *c, int B, int T) {
    memset(ws, 0, sizeof *ws);
    size_t N = (size_t)B * T, C = c->hidden, F = c->intermediate;
    size_t QD = (size_t)c->n_heads * c->head_dim, KD = (size_t)c->n_kv_heads * c->head_dim;
    size_t total = N * (2 * C + 2 * QD + 2 * KD + 3 * F);
    ws->buf = ft_malloc(total * sizeof(float));
    if (!ws->buf) return ft_err_ctx("backward buffers (%zu floats)", total);
    float *p = ws->buf;
    ws->dres = p; p += N * C;
    ws->dln = p; p += N * C;
    ws->dq = p; p += N * QD;
    ws->datt = p; p += N * QD;
    ws->dk = p; p += N * KD;
    ws->dv = p; p += N * KD;
    ws->dgate = p; p += N * F;
    ws->dup = p; p += N * F;
    ws->dact = p;
    ws->N = (int)N;
    return 0;
}

void ft_backward_free(ft_backward_ws *ws) {
    free(ws->buf);
    free(ws->lora_buf);
    memset(ws, 0, sizeof *ws);
}

void ft_linear_backward(const ft_ops *ops, const ft_linear *lin, float *dx, float *dw, float *db,
                        const float *dout, const float *x, int N, float *tmp) {
    ops->matmul_backward(dx, dw, db, dout, x, lin->w, N, lin->in, lin->out);
    const ft_lora *h = lin->lora;
    if (!h || !h->r) return;
    size_t r = (size_t)h->r;
    float *u = tmp;                       // (N, r) = x @ A^T (recomputed)
    float *du = u + (size_t)N * r;        // (N, r)
    float *ds = du + (size_t)N * r;       // (N, out) = scale * dout
    ops->matmul(u, x, h->A, NULL, N, lin->in, h->r);
    memset(ds, 0, (size_t)N * lin->out * sizeof(float));
    ops->scale_add(ds, dout, h->scale, (size_t)N * lin->out);
    memset(du, 0, (size_t)N * r * sizeof(float));
    ops->matmul_backward(du, h->dB, NULL, ds, u, h->B, N, h->r, lin->out);
    ops->matmul_backward(dx, h->dA, NULL, du, x, h->A, N, lin->in, h->r);
}

// Gradient slot of a parameter pointer inside model->params.
static float *gslot(const ft_model *m, float *grads, const float *p) {
    return grads && p ? grads + (p - m->params) : NULL;
}

static int lora_reserve(ft_backward_ws *ws, const ft_model *m, int N) {
    size_t need = 0;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; j < 7; j++) {
            ft_linear *lin = ft_model_layer_linear((ft_model *)m, l, j, NULL);
            if (!lin->lora || !lin->lora->r) continue;
            size_t n = (size_t)N * (2 * (size_t)lin->lora->r + lin->out);
            if (n > need) need = n;
        }
    if (need <= ws->lora_cap) return 0;
    float *p = ft_realloc(ws->lora_buf, need * sizeof(float));
    if (!p) return -1;
    ws->lora_buf = p;
    ws->lora_cap = need;
    return 0;
}

double ft_model_backward(ft_model *m, ft_acts *a, ft_backward_ws *ws, const int32_t *tokens,
                         const int32_t *doc, const int32_t *targets, const uint8_t *mask, int B, int T, float *grads,
                         float grad_scale) {
    const ft_config *c = &m->cfg;
    const ft_ops *ops = m->ops;
    int N = B * T, C = c->hidden, F = c->intermediate, D = c->head_dim;
    int Hq = c->n_heads, Hkv = c->n_kv_heads;
    size_t NC = (size_t)N * C, NQ = (size_t)N * Hq * D, NK = (size_t)N * Hkv * D, NF = (size_t)N * F;
    if (N > ws->N) { ft_err("backward: %d positions exceed the workspace (%d)", N, ws->N); return NAN; }
    if (lora_reserve(ws, m, N)) return NAN;
    float *tmp = ws->lora_buf;

    // LM head + cross-entropy, then the final norm.
    memset(ws->dln, 0, NC * sizeof(float));
    double loss = ops->lm_head_xent(ws->dln, gslot(m, grads, m->lm_head), a->lnf, m->lm_head, targets, mask,
                                    N, C, c->vocab_size, grad_scale);
    memset(ws->dres, 0, NC * sizeof(float));
    ops->rmsnorm_backward(ws->dres, gslot(m, grads, m->norm), ws->dln, a->x_out, m->norm, a->lnf_rstd, N, C);

    for (int l = c->n_layers - 1; l >= 0; l--) {
        ft_layer *L = &m->layers[l];
        ft_layer_acts *s = &a->layer[l];
        // MLP: out = x_mid + down(silu(gate(ln2)) * up(ln2))
        memset(ws->dact, 0, NF * sizeof(float));
        ft_linear_backward(ops, &L->down, ws->dact, gslot(m, grads, L->down.w), gslot(m, grads, L->down.b),
                           ws->dres, s->act, N, tmp);
        memset(ws->dgate, 0, NF * sizeof(float));
        memset(ws->dup, 0, NF * sizeof(float));
        ops->swiglu_backward(ws->dgate, ws->dup, ws->dact, s->gate, s->up, N, F);
        memset(ws->dln, 0, NC * sizeof(float));
        ft_linear_backward(ops, &L->gate, ws->dln, gslot(m, grads, L->gate.w), gslot(m, grads, L->gate.b),
                           ws->dgate, s->ln2, N, tmp);
        ft_linear_backward(ops, &L->up, ws->dln, gslot(m, grads, L->up.w), gslot(m, grads, L->up.b),
                           ws->dup, s->ln2, N, tmp);
        ops->rmsnorm_backward(ws->dres, gslot(m, grads, L->mlp_norm), ws->dln, s->x_mid, L->mlp_norm,
                              s->ln2_rstd, N, C);
        // Attention: x_mid = x + o(attention(rope(q(ln1)), rope(k(ln1)), v(ln1)))
        memset(ws->datt, 0, NQ * sizeof(float));
        ft_linear_backward(ops, &L->o, ws->datt, gslot(m, grads, L->o.w), gslot(m, grads, L->o.b), ws->dres,
                           s->att, N, tmp);
        memset(ws->dq, 0, NQ * sizeof(float));
        memset(ws->dk, 0, NK * sizeof(float));
        memset(ws->dv, 0, NK * sizeof(float));
        ops->attention_backward(ws->dq, ws->dk, ws->dv, ws->datt, s->att, s->lse, s->q, s->k, s->v, doc, B, T,
                                Hq, Hkv, D);
        ops->rope_backward(ws->dq, a->pos, m->inv_freq, N, Hq, D);
        ops->rope_backward(ws->dk, a->pos, m->inv_freq, N, Hkv, D);
        memset(ws->dln, 0, NC * sizeof(float));
        ft_linear_backward(ops, &L->q, ws->dln, gslot(m, grads, L->q.w), gslot(m, grads, L->q.b), ws->dq, s->ln1,
                           N, tmp);
        ft_linear_backward(ops, &L->k, ws->dln, gslot(m, grads, L->k.w), gslot(m, grads, L->k.b), ws->dk, s->ln1,
                           N, tmp);
        ft_linear_backward(ops, &L->v, ws->dln, gslot(m, grads, L->v.w), gslot(m, grads, L->v.b), ws->dv, s->ln1,
                           N, tmp);
        ops->rmsnorm_backward(ws->dres, gslot(m, grads, L->attn_norm), ws->dln, s->x, L->attn_norm, s->ln1_rstd,
                              N, C);
    }
    if (grads && tokens) ops->embedding_backward(gslot(m, grads, m->embed), tokens, ws->dres, N, C);
    return loss;
}
