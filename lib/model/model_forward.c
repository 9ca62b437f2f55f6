// model_forward.c — the decoder forward pass on packed batches, written once against the op
// table: embedding -> L x the decoder block (lib/model/model_block.c: rmsnorm, q/k/v (+bias,
// +LoRA), rope, attention with document masking, o_proj, residual, rmsnorm, gate/up, swiglu,
// down, residual) -> rmsnorm.
// Activations live in one buffer (ft_acts); in training mode every layer's are kept for the
// backward pass, in inference mode one set is reused so memory does not grow with depth.
// With prompt/prefix tuning (m->virt, lib/model/virtual.h) each row runs with the virtual positions
// in front; lnf keeps the callers' own rows only.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "model/model.h"
#include "model/virtual.h"

static size_t rup(size_t n) { return (n + 15) & ~(size_t)15; }

int ft_acts_alloc(ft_acts *a, const ft_config *c, int B, int T, int train) {
    return ft_acts_alloc_ops(a, ft_ops_cpu(), c, B, T, train);
}

int ft_model_acts_alloc(const ft_model *m, ft_acts *a, int B, int T, int train) {
    return ft_acts_alloc_ops(a, m->ops ? m->ops : ft_ops_cpu(), &m->cfg, B, T, train);
}

int ft_acts_alloc_ops(ft_acts *a, const ft_ops *ops, const ft_config *c, int B, int T, int train) {
    memset(a, 0, sizeof *a);
    a->ops = ops;
    if (B <= 0 || T <= 0) return ft_err("activations: bad batch shape (%d, %d)", B, T);
    size_t N = (size_t)B * T, C = c->hidden, F = c->intermediate, qd = (size_t)c->n_heads * c->head_dim,
           kd = (size_t)c->n_kv_heads * c->head_dim, H = c->n_heads;
    size_t per_layer = rup(N * C) * 4 + rup(N) * 2 + rup(N * qd) * 2 + rup(N * kd) * 2 + rup(N * H) + rup(N * F) * 3;
    // the row's optional norms keep their inputs and rstd (lib/model/model_block.c)
    const ft_arch *ar = ft_config_arch(c);
    if (!ar) return -1;
    int qkn = ft_arch_has_norm(ar, FT_NORM_Q), post = ft_arch_has_norm(ar, FT_NORM_ATTN_POST);
    size_t Hkv = c->n_kv_heads;
    if (qkn) per_layer += rup(N * qd) + rup(N * kd) + rup(N * H) + rup(N * Hkv);
    if (post) per_layer += rup(N * C) * 2 + rup(N) * 2;
    size_t mx = C > F ? C : F;
    if (qd > mx) mx = qd;
    int L = c->n_layers, sets = train ? L : 1;
    // x of every layer, plus x_out: in inference mode x and x_out share one buffer
    size_t total = per_layer * sets + rup(N * C) * 2 + rup(N) + rup(N * mx);
    size_t bytes;
    if (!ft_mul_ok(total, sizeof(float), &bytes)) return ft_err("activations too large");
    a->buf = ops->alloc(bytes);
    if (!a->buf) {
        return ft_err("out of memory allocating %zu bytes of activations (B=%d, T=%d)", bytes, B, T);
    }
    a->layer = ft_calloc((size_t)L, sizeof *a->layer);
    a->pos = ops->alloc(N * sizeof(int32_t));
    a->doc = ops->alloc(N * sizeof(int32_t));
    int ok = a->layer && a->pos && a->doc;
    if (ok && ops->host_access) {
        a->pos_h = a->pos;
        a->doc_h = a->doc;
    } else if (ok) {
        a->pos_h = ft_malloc(N * sizeof(int32_t));
        a->doc_h = ft_malloc(N * sizeof(int32_t));
        a->tok = ops->alloc(N * sizeof(int32_t));
        a->tgt = ops->alloc(N * sizeof(int32_t));
        a->msk = ops->alloc(N);
        ok = a->pos_h && a->doc_h && a->tok && a->tgt && a->msk;
    }
    if (!ok) { ft_acts_free(a); return -1; }
    a->B = B; a->T = T; a->train = train; a->L = L; a->n_floats = total;
    float *p = a->buf;
#define TAKE(n) (p += rup(n), p - rup(n))
    for (int l = 0; l < sets; l++) {
        ft_layer_acts *la = &a->layer[l];
        la->x = TAKE(N * C);
        la->ln1 = TAKE(N * C); la->ln1_rstd = TAKE(N);
        la->q = TAKE(N * qd); la->k = TAKE(N * kd); la->v = TAKE(N * kd);
        la->att = TAKE(N * qd); la->lse = TAKE(N * H);
        la->x_mid = TAKE(N * C);
        la->ln2 = TAKE(N * C); la->ln2_rstd = TAKE(N);
        la->gate = TAKE(N * F); la->up = TAKE(N * F); la->act = TAKE(N * F);
        if (qkn) { la->q_pre = TAKE(N * qd); la->k_pre = TAKE(N * kd); la->q_rstd = TAKE(N * H); la->k_rstd = TAKE(N * Hkv); }
        if (post) { la->ao = TAKE(N * C); la->ao_rstd = TAKE(N); la->mo = TAKE(N * C); la->mo_rstd = TAKE(N); }
    }
    for (int l = sets; l < L; l++) a->layer[l] = a->layer[0];
    a->x_out = train ? TAKE(N * C) : a->layer[0].x;
    if (!train) (void)TAKE(N * C);
    a->lnf = TAKE(N * C);
    a->lnf_rstd = TAKE(N);
    a->tmp = TAKE(N * mx);
#undef TAKE
    return 0;
}

void ft_acts_free(ft_acts *a) {
    const ft_ops *ops = a->ops ? a->ops : ft_ops_cpu();
    if (a->pos_h != a->pos) free(a->pos_h);
    if (a->doc_h != a->doc) free(a->doc_h);
    void *dev[] = {a->buf, a->lora_tmp, a->pos, a->doc, a->tok, a->tgt, a->msk, a->logits};
    for (size_t i = 0; i < sizeof dev / sizeof *dev; i++) ops->free(dev[i]);
    free(a->layer);
    memset(a, 0, sizeof *a);
}

float *ft_acts_logits(ft_acts *a, size_t n) {
    if (n > a->logits_cap) {
        float *t = a->ops->alloc(n * sizeof(float));
        if (!t) return NULL;
        a->ops->free(a->logits);
        a->logits = t;
        a->logits_cap = n;
    }
    return a->logits;
}

const int32_t *ft_acts_ids(ft_acts *a, int32_t *dev, const int32_t *ids, size_t n) {
    if (!ids || a->ops->host_access) return ids;
    return a->ops->upload(dev, ids, n * sizeof *ids) ? NULL : dev;
}

float ft_model_embed_scale(const ft_config *c) { return c->arch_row && c->arch_row->embed_scale ? sqrtf((float)c->hidden) : 1.0f; }

int ft_model_forward(ft_model *m, ft_acts *a, const int32_t *tokens, const int32_t *pos, const int32_t *doc,
                     int B, int T) {
    const ft_config *c = &m->cfg;
    const ft_ops *ops = m->ops;
    // Prompt/prefix tuning (lib/model/virtual.h): every row runs as [nv virtual positions | T tokens]
    // (Te positions); lnf keeps only the T real rows of each row (compact, (B*T, C)).
    int nv = ft_model_n_virtual(m), Te = T + nv;
    int N = B * Te, C = c->hidden;
    if (a->ops != ops)
        return ft_err("forward: activations allocated for the %s op table, the model runs on %s",
                      a->ops ? a->ops->name : "(none)", ops->name);
    if (B <= 0 || T <= 0 || (size_t)B * Te > (size_t)a->B * a->T)
        return ft_err("forward: batch (%d, %d)%s exceeds the activations' capacity (%d x %d positions)", B, T,
                      nv ? " + virtual tokens" : "", a->B, a->T);
    if (nv && (doc || !tokens))
        return ft_err("forward: prompt/prefix tuning runs one document per row from token ids (no packing)");
    if (tokens)
        for (int n = 0; n < B * T; n++)
            if (tokens[n] < 0 || tokens[n] >= c->vocab_size)
                return ft_err("token id %d at position %d is outside the model's vocabulary (%d)", tokens[n], n,
                              c->vocab_size);
    // virtual positions 0..nv-1, then the row's own positions shifted by nv (as PEFT)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < Te; t++)
            a->pos_h[b * Te + t] = t < nv ? t : nv + (pos ? pos[b * T + t - nv] : t - nv);
    if (!ops->host_access && ops->upload(a->pos, a->pos_h, (size_t)N * sizeof(int32_t))) return -1;
    if (doc && ops->upload(a->doc, doc, (size_t)N * sizeof(int32_t))) return -1;   // a memcpy on the CPU
    const int32_t *tok = ft_acts_ids(a, a->tok, tokens, (size_t)B * T);
    if (tokens && !tok) return -1;
    if (ft_model_reserve_scratch(m, N, 0, &a->lora_tmp, &a->lora_cap) < 0) return -1;
    // The real rows: one span of B*T without virtual tokens, else T after each row's nv.
    int spans = nv ? B : 1, span = nv ? T : B * T;
    for (int b = 0; tok && b < spans; b++) {
        float *x0 = a->layer[0].x + ((size_t)b * Te + nv) * C;
        ops->embedding(x0, tok + (size_t)b * T, m->embed, span, C);
        if (c->arch_row->embed_scale) ops->scale(x0, ft_model_embed_scale(c), (size_t)span * C);   // Gemma: * sqrt(C)
    }
    if (nv) ft_virtual_forward_input(m->virt, ops, a->layer[0].x, B, Te);
    for (int l = 0; l < c->n_layers; l++) {
        ft_layer_acts *la = &a->layer[l];
        ft_block_io io = {.B = B, .T = Te, .k = la->k, .v = la->v, .doc = doc ? a->doc : NULL, .prefix = nv > 0,
                          .out = l + 1 < c->n_layers ? a->layer[l + 1].x : a->x_out};
        ft_block_forward(m, l, la, a, &io);
    }
    // the real rows only: lnf row b*T + t is position nv + t of row b
    for (int b = 0; b < spans; b++)
        ops->rmsnorm(a->lnf + (size_t)b * T * C, a->lnf_rstd + (size_t)b * T, a->x_out + ((size_t)b * Te + nv) * C,
                     m->norm, span, C, c->rms_eps);
    return 0;
}

double ft_model_loss(ft_model *m, ft_acts *a, const int32_t *targets, const uint8_t *mask, int N) {
    return ft_model_loss_at(m, a, 0, targets, mask, N);
}

double ft_model_loss_at(ft_model *m, ft_acts *a, int row0, const int32_t *targets, const uint8_t *mask, int N) {
    const ft_ops *ops = m->ops;
    if (row0 < 0 || N < 0 || (size_t)row0 + N > (size_t)a->B * a->T) {
        ft_err("loss: rows %d..%d outside the activations (%d positions)", row0, row0 + N, a->B * a->T);
        return NAN;
    }
    const int32_t *tg = ft_acts_ids(a, a->tgt, targets, (size_t)N);
    const uint8_t *mk = mask;
    if (mask && !ops->host_access) mk = ops->upload(a->msk, mask, (size_t)N) ? NULL : a->msk;
    if (!tg || (mask && !mk)) return NAN;
    return ops->lm_head_xent(NULL, NULL, a->lnf + (size_t)row0 * m->cfg.hidden, m->lm_head, tg, mk, N,
                             m->cfg.hidden, m->cfg.vocab_size, 1.0f);
}

double ft_model_loss_rows(ft_model *m, ft_acts *a, const int32_t *targets, const uint8_t *mask, int N,
                          const ft_loss_rows *rows) {
    if (!rows) return ft_model_loss(m, a, targets, mask, N);
    return m->ops->lm_head_xent_rows(NULL, NULL, a->lnf, m->lm_head, targets, mask, N, m->cfg.hidden,
                                     m->cfg.vocab_size, 1.0f, NULL, rows->row, rows->row_logp, rows->n_rows);
}

void ft_model_logits(ft_model *m, ft_acts *a, const int *rows, int n_rows, float *logits) {
    const ft_ops *ops = m->ops;
    int C = m->cfg.hidden, V = m->cfg.vocab_size;
    float *out = logits;
    if (!ops->host_access && !(out = ft_acts_logits(a, (size_t)n_rows * V))) {
        for (size_t i = 0; i < (size_t)n_rows * V; i++) logits[i] = NAN;   // the caller's finite checks stop
        return;
    }
    if (!rows) ft_model_head_logits(m, out, a->lnf, n_rows);
    else
        for (int i = 0; i < n_rows; i++)
            ft_model_head_logits(m, out + (size_t)i * V, a->lnf + (size_t)rows[i] * C, 1);
    if (out != logits && ops->download(logits, out, (size_t)n_rows * V * sizeof(float)))
        for (size_t i = 0; i < (size_t)n_rows * V; i++) logits[i] = NAN;
}
