// model_kvbatch.c — batched decoding (model.h ft_kvbatch): the new positions of several
// sequences go through the decoder blocks as the rows of one batch, each sequence's keys and
// values in its own slot of one cache; the op table's attention_decode stores a row's key/value
// in its slot and attends over that slot only. With compact weights (qtmatmul's fused path) and
// row-wise norms and attention, a row's logits do not depend on the rows beside it, so a
// sequence decodes the same alone or in any batch (tests/unit/test_kvbatch.c).
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "model/model.h"

int ft_model_can_batch_decode(const ft_model *m) {
    const ft_config *c = &m->cfg;
    return !m->virt && c->sliding_window <= 0 && (c->query_scalar <= 0 || c->query_scalar == (float)c->head_dim);
}

int ft_kvbatch_init(ft_kvbatch *kb, const ft_model *m, int S, int max_T, int max_rows) {
    memset(kb, 0, sizeof *kb);
    const ft_config *c = &m->cfg;
    if (S <= 0 || max_T <= 0 || max_rows <= 0) return ft_err("batched KV cache: bad size %d x %d / %d rows", S, max_T, max_rows);
    if (m->virt) return ft_err("batched decoding does not run prompt/prefix tuning (decode one sequence at a time)");
    if (!ft_model_can_batch_decode(m))
        return ft_err("batched decoding runs plain causal attention only (this model has a sliding window or a query "
                      "scale, e.g. Gemma 3): decode one sequence at a time (--batch 1)");
    kb->ops = m->ops ? m->ops : ft_ops_cpu();
    if (!kb->ops->attention_decode)
        return ft_err("device %s has no attention_decode op (docs/cuda.md): decode one sequence at a time", kb->ops->name);
    kb->L = c->n_layers;
    kb->S = S;
    kb->max_T = max_T;
    kb->kv_dim = c->n_kv_heads * c->head_dim;
    kb->max_rows = max_rows;
    size_t n, per;
    // the cache is allocated whole, but pages a slot never reaches are never touched
    if (!ft_mul_ok((size_t)kb->L * S, (size_t)max_T, &per) || !ft_mul_ok(per, (size_t)kb->kv_dim * sizeof(float), &n))
        return ft_err("batched KV cache too large");
    const ft_ops *o = kb->ops;
    size_t nr = (size_t)max_rows * kb->kv_dim * sizeof(float);
    kb->len = ft_calloc((size_t)S, sizeof *kb->len);
    kb->slot_h = ft_malloc((size_t)max_rows * sizeof(int32_t));
    if (!kb->len || !kb->slot_h || !(kb->k = o->alloc(n)) || !(kb->v = o->alloc(n)) || !(kb->kn = o->alloc(nr)) ||
        !(kb->vn = o->alloc(nr)) || !(kb->slot = o->host_access ? kb->slot_h : o->alloc((size_t)max_rows * 4)) ||
        ft_model_acts_alloc(m, &kb->acts, 1, max_rows, 0) < 0) {
        ft_kvbatch_free(kb);
        return -1;
    }
    return 0;
}

void ft_kvbatch_free(ft_kvbatch *kb) {
    if (kb->ops) {
        kb->ops->free(kb->k);
        kb->ops->free(kb->v);
        kb->ops->free(kb->kn);
        kb->ops->free(kb->vn);
        if (kb->slot != kb->slot_h) kb->ops->free(kb->slot);
    }
    free(kb->slot_h);
    free(kb->len);
    if (kb->acts.buf) ft_acts_free(&kb->acts);
    memset(kb, 0, sizeof *kb);
}

void ft_kvbatch_reset(ft_kvbatch *kb, int s) {
    if (s >= 0 && s < kb->S) kb->len[s] = 0;
}

// Rows [0, n) (n <= max_rows); logits of rows out_rows (indices into this chunk).
static int batch_chunk(ft_model *m, ft_kvbatch *kb, const int32_t *tokens, const int32_t *slots, int n, float *logits,
                       const int *out_rows, int n_out) {
    const ft_config *c = &m->cfg;
    const ft_ops *ops = m->ops;
    ft_acts *a = &kb->acts;
    int C = c->hidden;
    if (kb->ops != ops) return ft_err("decode: KV cache made for the %s op table, the model runs on %s", kb->ops->name, ops->name);
    for (int i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
            return ft_err("token id %d is outside the model's vocabulary (%d)", tokens[i], c->vocab_size);
        if (slots[i] < 0 || slots[i] >= kb->S) return ft_err("decode: slot %d of %d", slots[i], kb->S);
    }
    for (int i = 0; i < n; i++) {   // positions: each slot's next ones, in row order
        int s = slots[i], p = kb->len[s];
        for (int j = 0; j < i; j++) p += slots[j] == s;
        if (p >= kb->max_T) return ft_err("context full: sequence in slot %d reaches %d positions", s, kb->max_T);
        a->pos_h[i] = p;
        kb->slot_h[i] = s;
    }
    if (!ops->host_access && (ops->upload(a->pos, a->pos_h, (size_t)n * sizeof(int32_t)) ||
                              ops->upload(kb->slot, kb->slot_h, (size_t)n * sizeof(int32_t))))
        return -1;
    const int32_t *tok = ft_acts_ids(a, a->tok, tokens, (size_t)n);
    if (!tok || ft_model_reserve_scratch(m, n, 0, &a->lora_tmp, &a->lora_cap)) return -1;
    ft_layer_acts *la = &a->layer[0];
    ops->embedding(la->x, tok, m->embed, n, C);
    size_t per = (size_t)kb->S * kb->max_T * kb->kv_dim;
    for (int l = 0; l < c->n_layers; l++) {
        ft_block_io io = {.B = 1, .T = n, .k = kb->kn, .v = kb->vn, .out = la->x, .slot = kb->slot,
                          .kslots = kb->k + (size_t)l * per, .vslots = kb->v + (size_t)l * per, .max_T = kb->max_T};
        ft_block_forward(m, l, la, a, &io);
    }
    for (int i = 0; i < n; i++) kb->len[slots[i]]++;
    if (n_out <= 0) return 0;
    for (int j = 0; j < n_out; j++)   // the wanted rows, gathered, then model.norm and the head
        if (ops->copy(a->tmp + (size_t)j * C, la->x + (size_t)out_rows[j] * C, (size_t)C * sizeof(float))) return -1;
    ops->rmsnorm(a->lnf, a->lnf_rstd, a->tmp, m->norm, n_out, C, c->rms_eps);
    size_t nv = (size_t)n_out * c->vocab_size;
    float *out = ops->host_access ? logits : ft_acts_logits(a, nv);
    if (!out) return -1;
    ft_model_head_logits(m, out, a->lnf, n_out);
    if (out != logits && ops->download(logits, out, nv * sizeof(float))) return -1;
    return 0;
}

int ft_model_decode_batch(ft_model *m, ft_kvbatch *kb, const int32_t *tokens, const int32_t *slots, int n,
                          float *logits, const int *out_rows, int n_out) {
    if (n <= 0) return ft_err("decode: no tokens");
    for (int j = 0; j < n_out; j++)
        if (out_rows[j] < 0 || out_rows[j] >= n) return ft_err("decode: logits of row %d of %d", out_rows[j], n);
    int *sub = n_out ? ft_malloc((size_t)n_out * sizeof *sub) : NULL;
    if (n_out && !sub) return -1;
    int done = 0, rc = 0;
    for (int i0 = 0; i0 < n && rc == 0; i0 += kb->max_rows) {
        int k = n - i0 < kb->max_rows ? n - i0 : kb->max_rows, ns = 0;
        for (int j = 0; j < n_out; j++)   // this chunk's wanted rows, in the caller's order
            if (out_rows[j] >= i0 && out_rows[j] < i0 + k) sub[ns++] = out_rows[j] - i0;
        rc = batch_chunk(m, kb, tokens + i0, slots + i0, k, logits ? logits + (size_t)done * m->cfg.vocab_size : NULL,
                         sub, logits ? ns : 0);
        done += ns;
    }
    free(sub);
    return rc;
}
