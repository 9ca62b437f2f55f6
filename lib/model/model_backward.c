// model_backward.c — whole-model backward (see model_backward.h): LM head and final norm, the
// decoder blocks in reverse (ft_block_backward, lib/model/model_block.c), the embedding.
#include "model/model_backward.h"
#include "core/err.h"
#include "model/virtual.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int ws_alloc(ft_backward_ws *ws, const ft_ops *ops, const ft_config *c, int B, int T) {
    memset(ws, 0, sizeof *ws);
    ws->ops = ops;
    size_t N = (size_t)B * T, C = c->hidden, F = c->intermediate;
    size_t QD = (size_t)c->n_heads * c->head_dim, KD = (size_t)c->n_kv_heads * c->head_dim;
    size_t total = N * (2 * C + 2 * QD + 3 * KD + 3 * F);
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
    ws->dact = p; p += N * F;
    ws->dkn = p;
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



double ft_model_backward(ft_model *m, ft_acts *a, ft_backward_ws *ws, const int32_t *tokens,
                         const int32_t *doc, const int32_t *targets, const uint8_t *mask, int B, int T, float *grads,
                         float grad_scale) {
    return ft_model_backward_rows(m, a, ws, tokens, doc, targets, mask, B, T, grads, grad_scale, NULL);
}

double ft_model_backward_rows(ft_model *m, ft_acts *a, ft_backward_ws *ws, const int32_t *tokens,
                              const int32_t *doc, const int32_t *targets, const uint8_t *mask, int B, int T,
                              float *grads, float grad_scale, const ft_loss_rows *rows) {
    const ft_config *c = &m->cfg;
    const ft_ops *ops = m->ops;
    // prompt/prefix tuning (lib/model/virtual.h): the layers ran on rows of Te = T + nv positions,
    // lnf holds the B*T real rows (compact); the loss sees only those.
    ft_virtual *virt = m->virt;
    int nv = ft_model_n_virtual(m), Te = T + nv;
    int N = B * Te, C = c->hidden;
    size_t NC = (size_t)N * C;
    if (N > ws->N) { ft_err("backward: %d positions exceed the workspace (%d)", N, ws->N); return NAN; }
    if (ws->ops != ops || a->ops != ops) {
        ft_err("backward: workspace or activations made for another op table than the model's (%s)", ops->name);
        return NAN;
    }
    if (nv && doc) { ft_err("backward: prompt/prefix tuning runs one document per row (doc must be NULL)"); return NAN; }
    if (ft_model_reserve_scratch(m, N, 1, &ws->lora_buf, &ws->lora_cap)) return NAN;

    // LM head + cross-entropy, then the final norm.
    int Nc = B * T;   // real positions
    // the integer inputs as the device reads them (the caller's arrays on the CPU); doc: the
    // forward's copy (the same document ids by contract)
    const int32_t *tg = ft_acts_ids(a, a->tgt, targets, (size_t)Nc), *tk = ft_acts_ids(a, a->tok, tokens, (size_t)Nc);
    const uint8_t *mk = mask;
    if (mask && !ops->host_access) mk = ops->upload(a->msk, mask, (size_t)Nc) ? NULL : a->msk;
    if (!tg || (tokens && !tk) || (mask && !mk)) return NAN;
    if (rows && !ops->host_access) {   // gweight/row/row_logp are host arrays
        ft_err("per-row losses (sequence-level objectives) run on the CPU only in this version");
        return NAN;
    }
    const int32_t *dc = doc ? a->doc : NULL;
    ops->zero(ws->dln, (size_t)Nc * C * sizeof(float));
    double loss = rows ? ops->lm_head_xent_rows(ws->dln, ft_grad_slot(m, grads, m->lm_head), a->lnf, m->lm_head, tg, mk,
                                                Nc, C, c->vocab_size, grad_scale, rows->gweight, rows->row,
                                                rows->row_logp, rows->n_rows)
                       : ops->lm_head_xent(ws->dln, ft_grad_slot(m, grads, m->lm_head), a->lnf, m->lm_head, tg, mk,
                                           Nc, C, c->vocab_size, grad_scale);
    ops->zero(ws->dres, NC * sizeof(float));
    // scattered back to the real rows (one span of B*T without virtual tokens, else T after
    // each row's nv); the virtual rows get no gradient from the loss
    int spans = nv ? B : 1, span = nv ? T : B * T;
    for (int b = 0; b < spans; b++) {
        size_t r = ((size_t)b * Te + nv) * C;
        ops->rmsnorm_backward(ws->dres + r, ft_grad_slot(m, grads, m->norm), ws->dln + (size_t)b * T * C, a->x_out + r,
                              m->norm, a->lnf_rstd + (size_t)b * T, span, C);
    }
    if (nv) ft_virtual_backward_begin(virt, ops);

    for (int l = c->n_layers - 1; l >= 0; l--) ft_block_backward(m, l, &a->layer[l], a, ws, grads, dc, B, Te, nv > 0);
    for (int b = 0; grads && tk && b < spans; b++) {
        if (c->arch_row->embed_scale)   // the forward's x0 = sqrt(C) * embed[tok]
            ops->scale(ws->dres + ((size_t)b * Te + nv) * C, ft_model_embed_scale(c), (size_t)span * C);
        ops->embedding_backward(ft_grad_slot(m, grads, m->embed), tk + (size_t)b * T,
                                ws->dres + ((size_t)b * Te + nv) * C, span, C);
    }
    if (nv) {
        ft_virtual_backward_input(virt, ops, ws->dres, B, Te);
        ft_virtual_backward_end(virt, ops);
    }
    return loss;
}
