// model_block.c — the decoder block, written once (model.h ft_block_forward): the training
// forward (model_forward.c) and KV-cache decoding (model_kv.c) run every layer through it;
// they differ only in where keys and values go and what the queries attend over, which
// ft_block_io says. The backward (model_backward.c) walks the same steps in reverse.
#include "model/model.h"
#include "model/model_backward.h"
#include "model/virtual.h"

void ft_block_forward(ft_model *m, int l, ft_layer_acts *la, const ft_acts *a, const ft_block_io *io) {
    const ft_config *c = &m->cfg;
    const ft_ops *ops = m->ops;
    const ft_layer *ly = &m->layers[l];
    int N = io->B * io->T, C = c->hidden, F = c->intermediate, Hq = c->n_heads, Hkv = c->n_kv_heads, D = c->head_dim;
    float *lt = a->lora_tmp;
    // attention: x_mid = x + o(attention(rope(q(ln1)), rope(k(ln1)), v(ln1)))
    ops->rmsnorm(la->ln1, la->ln1_rstd, la->x, ly->attn_norm, N, C, c->rms_eps);
    ft_linear_forward(ops, &ly->q, la->q, la->ln1, N, lt);
    ft_linear_forward(ops, &ly->k, io->k, la->ln1, N, lt);
    ft_linear_forward(ops, &ly->v, io->v, la->ln1, N, lt);
    ops->rope(la->q, a->pos, m->inv_freq, N, Hq, D);
    ops->rope(io->k, a->pos, m->inv_freq, N, Hkv, D);
    if (io->prefix) ft_virtual_forward_kv(m->virt, ops, l, io->k, io->v, io->B, io->T);   // prefix: keys without rope
    if (io->slot)      // batched decoding: each row over its own sequence's slot of the cache
        ops->attention_decode(la->att, io->kslots, io->vslots, la->q, io->k, io->v, io->slot, a->pos, N, io->max_T,
                              Hq, Hkv, D);
    else if (io->p0 == 0)   // the rows' own keys: causal attention (with document masks)
        ops->attention(la->att, la->lse, la->q, io->k, io->v, io->doc, io->B, io->T, Hq, Hkv, D);
    else               // new queries over the cache: positions 0 .. p0 + i
        ops->attention_cached(la->att, la->q, io->kc, io->vc, N, io->p0, Hq, Hkv, D);
    ft_linear_forward(ops, &ly->o, a->tmp, la->att, N, lt);
    ops->add(la->x_mid, la->x, a->tmp, (size_t)N * C);
    // MLP: out = x_mid + down(silu(gate(ln2)) * up(ln2))
    ops->rmsnorm(la->ln2, la->ln2_rstd, la->x_mid, ly->mlp_norm, N, C, c->rms_eps);
    ft_linear_forward(ops, &ly->gate, la->gate, la->ln2, N, lt);
    ft_linear_forward(ops, &ly->up, la->up, la->ln2, N, lt);
    ops->swiglu(la->act, la->gate, la->up, N, F);
    ft_linear_forward(ops, &ly->down, a->tmp, la->act, N, lt);
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
#define G(p) ft_grad_slot(m, grads, (p))
    // MLP: out = x_mid + down(silu(gate(ln2)) * up(ln2))
    ops->zero(ws->dact, NF * sizeof(float));
    ft_linear_backward(ops, &ly->down, ws->dact, G(ly->down.w), G(ly->down.b), ws->dres, la->act, N, tmp);
    ops->zero(ws->dgate, NF * sizeof(float));
    ops->zero(ws->dup, NF * sizeof(float));
    ops->swiglu_backward(ws->dgate, ws->dup, ws->dact, la->gate, la->up, N, F);
    ops->zero(ws->dln, NC * sizeof(float));
    ft_linear_backward(ops, &ly->gate, ws->dln, G(ly->gate.w), G(ly->gate.b), ws->dgate, la->ln2, N, tmp);
    ft_linear_backward(ops, &ly->up, ws->dln, G(ly->up.w), G(ly->up.b), ws->dup, la->ln2, N, tmp);
    ops->rmsnorm_backward(ws->dres, G(ly->mlp_norm), ws->dln, la->x_mid, ly->mlp_norm, la->ln2_rstd, N, C);
    // attention: x_mid = x + o(attention(rope(q(ln1)), rope(k(ln1)), v(ln1)))
    ops->zero(ws->datt, NQ * sizeof(float));
    ft_linear_backward(ops, &ly->o, ws->datt, G(ly->o.w), G(ly->o.b), ws->dres, la->att, N, tmp);
    ops->zero(ws->dq, NQ * sizeof(float));
    ops->zero(ws->dk, NK * sizeof(float));
    ops->zero(ws->dv, NK * sizeof(float));
    ops->attention_backward(ws->dq, ws->dk, ws->dv, ws->datt, la->att, la->lse, la->q, la->k, la->v, doc, B, T, Hq,
                            Hkv, D);
    if (prefix) ft_virtual_backward_kv(m->virt, ops, l, ws->dk, ws->dv, B, T);   // prefix grads (keys had no rope)
    ops->rope_backward(ws->dq, a->pos, m->inv_freq, N, Hq, D);
    ops->rope_backward(ws->dk, a->pos, m->inv_freq, N, Hkv, D);
    ops->zero(ws->dln, NC * sizeof(float));
    ft_linear_backward(ops, &ly->q, ws->dln, G(ly->q.w), G(ly->q.b), ws->dq, la->ln1, N, tmp);
    ft_linear_backward(ops, &ly->k, ws->dln, G(ly->k.w), G(ly->k.b), ws->dk, la->ln1, N, tmp);
    ft_linear_backward(ops, &ly->v, ws->dln, G(ly->v.w), G(ly->v.b), ws->dv, la->ln1, N, tmp);
    ops->rmsnorm_backward(ws->dres, G(ly->attn_norm), ws->dln, la->x, ly->attn_norm, la->ln1_rstd, N, C);
#undef G
}
