// model_backward.c — whole-model backward (see model_backward.h).
#include "model_backward.h"
#include "err.h"
#include "virtual.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int ws_alloc(ft_backward_ws *ws, const ft_ops *ops, const ft_config *c, int B, int T) {
    memset(ws, 0, sizeof *ws);
    ws->ops = ops;
    size_t N = (size_t)B * T, C = c->hidden, F = c->intermediate;
    size_t QD = (size_t)c->n_heads * c->head_dim, KD = (size_t)c->n_kv_heads * c->head_dim;
    size_t total = N * (2 * C + 2 * QD + 2 * KD + 3 * F);
    ws->buf = ops->alloc(total * sizeof(float));
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

int ft_backward_alloc(ft_backward_ws *ws, const ft_config *c, int B, int T) {
    return ws_alloc(ws, ft_ops_cpu(), c, B, T);
}

int ft_model_backward_alloc(const ft_model *m, ft_backward_ws *ws, int B, int T) {
    return ws_alloc(ws, m->ops ? m->ops : ft_ops_cpu(), &m->cfg, B, T);
}

void ft_backward_free(ft_backward_ws *ws) {
    const ft_ops *ops = ws->ops ? ws->ops : ft_ops_cpu();
    ops->free(ws->buf);
    ops->free(ws->lora_buf);
    memset(ws, 0, sizeof *ws);
}

// Gradient slot of a parameter pointer inside model->params.
static float *gslot(const ft_model *m, float *grads, const float *p) {
    return grads && p ? grads + (p - m->params) : NULL;
}


double ft_model_backward(ft_model *m, ft_acts *a, ft_backward_ws *ws, const int32_t *tokens,
                         const int32_t *doc, const int32_t *targets, const uint8_t *mask, int B, int T, float *grads,
                         float grad_scale) {
    const ft_config *c = &m->cfg;
    const ft_ops *ops = m->ops;
    // prompt/prefix tuning (lib/virtual.h): the layers ran on rows of Te = T + nv positions,
    // lnf holds the B*T real rows (compact); the loss sees only those.
    ft_virtual *virt = m->virt;
    int nv = ft_model_n_virtual(m), Te = T + nv;
    int N = B * Te, C = c->hidden, F = c->intermediate, D = c->head_dim;
    int Hq = c->n_heads, Hkv = c->n_kv_heads;
    size_t NC = (size_t)N * C, NQ = (size_t)N * Hq * D, NK = (size_t)N * Hkv * D, NF = (size_t)N * F;
    if (N > ws->N) { ft_err("backward: %d positions exceed the workspace (%d)", N, ws->N); return NAN; }
    if (ws->ops != ops || a->ops != ops) {
        ft_err("backward: workspace or activations made for another op table than the model's (%s)", ops->name);
        return NAN;
    }
    if (nv && doc) { ft_err("backward: prompt/prefix tuning runs one document per row (doc must be NULL)"); return NAN; }
    if (ft_model_reserve_scratch(m, N, 1, &ws->lora_buf, &ws->lora_cap)) return NAN;
    float *tmp = ws->lora_buf;

    // LM head + cross-entropy, then the final norm.
    int Nc = B * T;   // real positions
    // the integer inputs as the device reads them (the caller's arrays on the CPU); doc: the
    // forward's copy (the same document ids by contract)
    const int32_t *tg = ft_acts_ids(a, a->tgt, targets, (size_t)Nc), *tk = ft_acts_ids(a, a->tok, tokens, (size_t)Nc);
    const uint8_t *mk = mask;
    if (mask && !ops->host_access) mk = ops->upload(a->msk, mask, (size_t)Nc) ? NULL : a->msk;
    if (!tg || (tokens && !tk) || (mask && !mk)) return NAN;
    const int32_t *dc = doc ? a->doc : NULL;
    ops->zero(ws->dln, (size_t)Nc * C * sizeof(float));
    double loss = ops->lm_head_xent(ws->dln, gslot(m, grads, m->lm_head), a->lnf, m->lm_head, tg, mk,
                                    Nc, C, c->vocab_size, grad_scale);
    ops->zero(ws->dres, NC * sizeof(float));
    // scattered back to the real rows (one span of B*T without virtual tokens, else T after
    // each row's nv); the virtual rows get no gradient from the loss
    int spans = nv ? B : 1, span = nv ? T : B * T;
    for (int b = 0; b < spans; b++) {
        size_t r = ((size_t)b * Te + nv) * C;
        ops->rmsnorm_backward(ws->dres + r, gslot(m, grads, m->norm), ws->dln + (size_t)b * T * C, a->x_out + r,
                              m->norm, a->lnf_rstd + (size_t)b * T, span, C);
    }
    if (nv) ft_virtual_backward_begin(virt);

    for (int l = c->n_layers - 1; l >= 0; l--) {
        ft_layer *L = &m->layers[l];
        ft_layer_acts *s = &a->layer[l];
        // MLP: out = x_mid + down(silu(gate(ln2)) * up(ln2))
        ops->zero(ws->dact, NF * sizeof(float));
        ft_linear_backward(ops, &L->down, ws->dact, gslot(m, grads, L->down.w), gslot(m, grads, L->down.b),
                           ws->dres, s->act, N, tmp);
        ops->zero(ws->dgate, NF * sizeof(float));
        ops->zero(ws->dup, NF * sizeof(float));
        ops->swiglu_backward(ws->dgate, ws->dup, ws->dact, s->gate, s->up, N, F);
        ops->zero(ws->dln, NC * sizeof(float));
        ft_linear_backward(ops, &L->gate, ws->dln, gslot(m, grads, L->gate.w), gslot(m, grads, L->gate.b),
                           ws->dgate, s->ln2, N, tmp);
        ft_linear_backward(ops, &L->up, ws->dln, gslot(m, grads, L->up.w), gslot(m, grads, L->up.b),
                           ws->dup, s->ln2, N, tmp);
        ops->rmsnorm_backward(ws->dres, gslot(m, grads, L->mlp_norm), ws->dln, s->x_mid, L->mlp_norm,
                              s->ln2_rstd, N, C);
        // Attention: x_mid = x + o(attention(rope(q(ln1)), rope(k(ln1)), v(ln1)))
        ops->zero(ws->datt, NQ * sizeof(float));
        ft_linear_backward(ops, &L->o, ws->datt, gslot(m, grads, L->o.w), gslot(m, grads, L->o.b), ws->dres,
                           s->att, N, tmp);
        ops->zero(ws->dq, NQ * sizeof(float));
        ops->zero(ws->dk, NK * sizeof(float));
        ops->zero(ws->dv, NK * sizeof(float));
        ops->attention_backward(ws->dq, ws->dk, ws->dv, ws->datt, s->att, s->lse, s->q, s->k, s->v, dc, B, Te,
                                Hq, Hkv, D);
        if (nv) ft_virtual_backward_kv(virt, l, ws->dk, ws->dv, B, Te);   // prefix grads (keys had no rope)
        ops->rope_backward(ws->dq, a->pos, m->inv_freq, N, Hq, D);
        ops->rope_backward(ws->dk, a->pos, m->inv_freq, N, Hkv, D);
        ops->zero(ws->dln, NC * sizeof(float));
        ft_linear_backward(ops, &L->q, ws->dln, gslot(m, grads, L->q.w), gslot(m, grads, L->q.b), ws->dq, s->ln1,
                           N, tmp);
        ft_linear_backward(ops, &L->k, ws->dln, gslot(m, grads, L->k.w), gslot(m, grads, L->k.b), ws->dk, s->ln1,
                           N, tmp);
        ft_linear_backward(ops, &L->v, ws->dln, gslot(m, grads, L->v.w), gslot(m, grads, L->v.b), ws->dv, s->ln1,
                           N, tmp);
        ops->rmsnorm_backward(ws->dres, gslot(m, grads, L->attn_norm), ws->dln, s->x, L->attn_norm, s->ln1_rstd,
                              N, C);
    }
    for (int b = 0; grads && tk && b < spans; b++)
        ops->embedding_backward(gslot(m, grads, m->embed), tk + (size_t)b * T,
                                ws->dres + ((size_t)b * Te + nv) * C, span, C);
    if (nv) {
        ft_virtual_backward_input(virt, ws->dres, B, Te);
        ft_virtual_backward_end(virt, ops);
    }
    return loss;
}
