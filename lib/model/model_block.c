// model_block.c — the decoder block, written once (model.h ft_block_forward): the training
// forward (model_forward.c) and KV-cache decoding (model_kv.c) run every layer through it;
// they differ only in where keys and values go and what the queries attend over, which
// ft_block_io says. The backward (model_backward.c) walks the same steps in reverse.
// The row's optional parts (lib/model/arch.h): per-head q/k RMSNorm before rope (Qwen3, Gemma 3),
// post-norms on the attention and MLP outputs (Gemma 3), GeGLU in place of SwiGLU, and
// sliding-window / query-scaled attention (Gemma 3: the op table's attention_window ops).
#include "model/model.h"
#include "core/err.h"
#include "model/model_backward.h"
#include "model/virtual.h"

#include <math.h>

// Layer l's attention window (0: none) and score scale, and whether they differ from the
// plain ops' (causal, 1/sqrt(D)).
static int attn_params(const ft_config *c, int l, int *window, float *scale) {
    *window = ft_config_layer_swa(c, l) ? c->sliding_window : 0;
    float qs = c->query_scalar > 0 ? c->query_scalar : (float)c->head_dim;
    *scale = 1.0f / sqrtf(qs);
    return *window > 0 || qs != (float)c->head_dim;
}

static const float *layer_inv_freq(const ft_model *m, int l) {
    return m->inv_freq_local && ft_config_layer_swa(&m->cfg, l) ? m->inv_freq_local : m->inv_freq;
}

void ft_block_forward(ft_model *m, int l, ft_layer_acts *la, const ft_acts *a, const ft_block_io *io) {
    const ft_config *c = &m->cfg;
    const ft_ops *ops = m->ops;
    const ft_layer *ly = &m->layers[l];
    int N = io->B * io->T, C = c->hidden, F = c->intermediate, Hq = c->n_heads, Hkv = c->n_kv_heads, D = c->head_dim;
    float *lt = a->lora_tmp;
    const float *invf = layer_inv_freq(m, l);
    int window;
    float scale;
    int ex = attn_params(c, l, &window, &scale);
    // attention: x_mid = x + [post](o(attention(rope([qn](q(ln1))), rope([kn](k(ln1))), v(ln1))))
    ops->rmsnorm(la->ln1, la->ln1_rstd, la->x, ly->attn_norm, N, C, c->rms_eps);
    if (ly->q_norm) {   // per-head RMSNorm: rows of D over N*H heads
        ft_linear_forward(ops, &ly->q, la->q_pre, la->ln1, N, lt);
        ft_linear_forward(ops, &ly->k, la->k_pre, la->ln1, N, lt);
        ops->rmsnorm(la->q, la->q_rstd, la->q_pre, ly->q_norm, N * Hq, D, c->rms_eps);
        ops->rmsnorm(io->k, la->k_rstd, la->k_pre, ly->k_norm, N * Hkv, D, c->rms_eps);
    } else {
        ft_linear_forward(ops, &ly->q, la->q, la->ln1, N, lt);
        ft_linear_forward(ops, &ly->k, io->k, la->ln1, N, lt);
    }
    ft_linear_forward(ops, &ly->v, io->v, la->ln1, N, lt);
    ops->rope(la->q, a->pos, invf, N, Hq, D);
    ops->rope(io->k, a->pos, invf, N, Hkv, D);
    if (io->prefix) ft_virtual_forward_kv(m->virt, ops, l, io->k, io->v, io->B, io->T);   // prefix: keys without rope
    if (io->slot)      // batched decoding: each row over its own sequence's slot of the cache (plain
                       // attention only: ft_kvbatch_init refuses a window or a query scale)
        ops->attention_decode(la->att, io->kslots, io->vslots, la->q, io->k, io->v, io->slot, a->pos, N, io->max_T,
                              Hq, Hkv, D);
    else if (io->p0 == 0 && ex)   // the rows' own keys: causal attention (with document masks)
        ops->attention_window(la->att, la->lse, la->q, io->k, io->v, io->doc, io->B, io->T, Hq, Hkv, D, window, scale);
    else if (io->p0 == 0)
        ops->attention(la->att, la->lse, la->q, io->k, io->v, io->doc, io->B, io->T, Hq, Hkv, D);
    else if (ex)             // new queries over the cache: positions 0 .. p0 + i (within the window)
        ops->attention_cached_window(la->att, la->q, io->kc, io->vc, N, io->p0, Hq, Hkv, D, window, scale);
    else
        ops->attention_cached(la->att, la->q, io->kc, io->vc, N, io->p0, Hq, Hkv, D);
    if (ly->attn_post_norm) {
        ft_linear_forward(ops, &ly->o, la->ao, la->att, N, lt);
        ops->rmsnorm(a->tmp, la->ao_rstd, la->ao, ly->attn_post_norm, N, C, c->rms_eps);
    } else {
        ft_linear_forward(ops, &ly->o, a->tmp, la->att, N, lt);
    }
    ops->add(la->x_mid, la->x, a->tmp, (size_t)N * C);
    // MLP: out = x_mid + [post](down(act(gate(ln2)) * up(ln2))), act silu or gelu-tanh
    ops->rmsnorm(la->ln2, la->ln2_rstd, la->x_mid, ly->mlp_norm, N, C, c->rms_eps);
    ft_linear_forward(ops, &ly->gate, la->gate, la->ln2, N, lt);
    ft_linear_forward(ops, &ly->up, la->up, la->ln2, N, lt);
    if (c->arch_row->act == FT_ACT_GELU_TANH) ops->geglu(la->act, la->gate, la->up, N, F);
    else ops->swiglu(la->act, la->gate, la->up, N, F);
    if (ly->mlp_post_norm) {
        ft_linear_forward(ops, &ly->down, la->mo, la->act, N, lt);
        ops->rmsnorm(a->tmp, la->mo_rstd, la->mo, ly->mlp_post_norm, N, C, c->rms_eps);
    } else {
        ft_linear_forward(ops, &ly->down, a->tmp, la->act, N, lt);
    }
    ops->add(io->out, la->x_mid, a->tmp, (size_t)N * C);
}

// The backward of ft_block_forward (training: p0 == 0), its steps in reverse: ws->dres holds
// d(out) on entry and d(la->x) on return (accumulated: the residual passes straight through).
void ft_block_backward(ft_model *m, int l, const ft_layer_acts *la, const ft_acts *a, ft_backward_ws *ws,
                       float *grads, const int32_t *doc, int B, int T, int prefix) {
    const ft_config *c = &m->cfg;
    const ft_ops *ops = m->ops;
    const ft_layer *ly = &m->layers[l];
    int N = B * T, C = c->hidden, F = c->intermediate, Hq = c->n_heads, Hkv = c->n_kv_heads, D = c->head_dim;
    size_t NC = (size_t)N * C, NQ = (size_t)N * Hq * D, NK = (size_t)N * Hkv * D, NF = (size_t)N * F;
    float *tmp = ws->lora_buf;
    const float *invf = layer_inv_freq(m, l);
    int window;
    float scale;
    int ex = attn_params(c, l, &window, &scale);
#define G(p) ft_grad_slot(m, grads, (p))
    // MLP: out = x_mid + [post](down(act(gate(ln2)) * up(ln2)))
    const float *dmo = ws->dres;   // gradient of down's output
    if (ly->mlp_post_norm) {
        ops->zero(ws->dln, NC * sizeof(float));
        ops->rmsnorm_backward(ws->dln, G(ly->mlp_post_norm), ws->dres, la->mo, ly->mlp_post_norm, la->mo_rstd, N, C);
        dmo = ws->dln;
    }
    ops->zero(ws->dact, NF * sizeof(float));
    ft_linear_backward(ops, &ly->down, ws->dact, G(ly->down.w), G(ly->down.b), dmo, la->act, N, tmp);
    ops->zero(ws->dgate, NF * sizeof(float));
    ops->zero(ws->dup, NF * sizeof(float));
    if (c->arch_row->act == FT_ACT_GELU_TANH) ops->geglu_backward(ws->dgate, ws->dup, ws->dact, la->gate, la->up, N, F);
    else ops->swiglu_backward(ws->dgate, ws->dup, ws->dact, la->gate, la->up, N, F);
    ops->zero(ws->dln, NC * sizeof(float));
    ft_linear_backward(ops, &ly->gate, ws->dln, G(ly->gate.w), G(ly->gate.b), ws->dgate, la->ln2, N, tmp);
    ft_linear_backward(ops, &ly->up, ws->dln, G(ly->up.w), G(ly->up.b), ws->dup, la->ln2, N, tmp);
    ops->rmsnorm_backward(ws->dres, G(ly->mlp_norm), ws->dln, la->x_mid, ly->mlp_norm, la->ln2_rstd, N, C);
    // attention: x_mid = x + [post](o(attention(rope([qn](q(ln1))), rope([kn](k(ln1))), v(ln1))))
    const float *dao = ws->dres;   // gradient of o's output
    if (ly->attn_post_norm) {
        ops->zero(ws->dln, NC * sizeof(float));
        ops->rmsnorm_backward(ws->dln, G(ly->attn_post_norm), ws->dres, la->ao, ly->attn_post_norm, la->ao_rstd, N, C);
        dao = ws->dln;
    }
    ops->zero(ws->datt, NQ * sizeof(float));
    ft_linear_backward(ops, &ly->o, ws->datt, G(ly->o.w), G(ly->o.b), dao, la->att, N, tmp);
    ops->zero(ws->dq, NQ * sizeof(float));
    ops->zero(ws->dk, NK * sizeof(float));
    ops->zero(ws->dv, NK * sizeof(float));
    if (ex)
        ops->attention_window_backward(ws->dq, ws->dk, ws->dv, ws->datt, la->att, la->lse, la->q, la->k, la->v, doc, B,
                                       T, Hq, Hkv, D, window, scale);
    else
        ops->attention_backward(ws->dq, ws->dk, ws->dv, ws->datt, la->att, la->lse, la->q, la->k, la->v, doc, B, T, Hq,
                                Hkv, D);
    if (prefix) ft_virtual_backward_kv(m->virt, ops, l, ws->dk, ws->dv, B, T);   // prefix grads (keys had no rope)
    ops->rope_backward(ws->dq, a->pos, invf, N, Hq, D);
    ops->rope_backward(ws->dk, a->pos, invf, N, Hkv, D);
    const float *dqp = ws->dq, *dkp = ws->dk;   // gradients of the q/k projections' outputs
    if (ly->q_norm) {   // datt is free again: it takes q's, dkn k's
        ops->zero(ws->datt, NQ * sizeof(float));
        ops->zero(ws->dkn, NK * sizeof(float));
        ops->rmsnorm_backward(ws->datt, G(ly->q_norm), ws->dq, la->q_pre, ly->q_norm, la->q_rstd, N * Hq, D);
        ops->rmsnorm_backward(ws->dkn, G(ly->k_norm), ws->dk, la->k_pre, ly->k_norm, la->k_rstd, N * Hkv, D);
        dqp = ws->datt;
        dkp = ws->dkn;
    }
    ops->zero(ws->dln, NC * sizeof(float));
    ft_linear_backward(ops, &ly->q, ws->dln, G(ly->q.w), G(ly->q.b), dqp, la->ln1, N, tmp);
    ft_linear_backward(ops, &ly->k, ws->dln, G(ly->k.w), G(ly->k.b), dkp, la->ln1, N, tmp);
    ft_linear_backward(ops, &ly->v, ws->dln, G(ly->v.w), G(ly->v.b), ws->dv, la->ln1, N, tmp);
    ops->rmsnorm_backward(ws->dres, G(ly->attn_norm), ws->dln, la->x, ly->attn_norm, la->ln1_rstd, N, C);
#undef G
}
