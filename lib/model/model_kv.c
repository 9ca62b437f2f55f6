// model_kv.c — inference with a KV cache for one sequence: prompt prefill in chunks and
// token-by-token decoding, every layer the training forward's decoder block
// (lib/model/model_block.c) with keys/values written into the cache and, once it holds positions,
// attention over it (queries at positions n.., keys 0..n+i: the op table's attention_cached).
// With prompt/prefix tuning (lib/model/virtual.h) a sequence starts with the virtual positions.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "model/model.h"
#include "model/virtual.h"

int ft_kvcache_init(ft_kvcache *kv, const ft_model *m, int max_T, int max_chunk) {
    memset(kv, 0, sizeof *kv);
    const ft_config *c = &m->cfg;
    if (max_T <= 0 || max_chunk <= 0) return ft_err("KV cache: bad size %d / chunk %d", max_T, max_chunk);
    if (max_chunk > max_T) max_chunk = max_T;
    kv->L = c->n_layers;
    kv->max_T = max_T;
    kv->kv_dim = c->n_kv_heads * c->head_dim;
    kv->max_chunk = max_chunk;
    size_t n;
    if (!ft_mul_ok((size_t)kv->L * max_T, (size_t)kv->kv_dim * sizeof(float), &n))
        return ft_err("KV cache too large");
    kv->ops = m->ops ? m->ops : ft_ops_cpu();
    if (!kv->ops->attention_cached)
        return ft_err("device %s has no KV-cache attention op yet (docs/cuda.md): decode on the cpu", kv->ops->name);
    if (!kv->ops->attention_cached_window && (c->sliding_window > 0 || c->query_scalar > 0))
        return ft_err("device %s has no windowed KV-cache attention op (docs/cuda.md): decode on the cpu", kv->ops->name);
    kv->k = kv->ops->alloc(n);
    kv->v = kv->ops->alloc(n);
    if (!kv->k || !kv->v || ft_model_acts_alloc(m, &kv->acts, 1, max_chunk, 0) < 0) {
        ft_kvcache_free(kv);
        return -1;
    }
    return 0;
}

void ft_kvcache_free(ft_kvcache *kv) {
    if (kv->ops) {
        kv->ops->free(kv->k);
        kv->ops->free(kv->v);
    }
    if (kv->acts.buf) ft_acts_free(&kv->acts);
    memset(kv, 0, sizeof *kv);
}

void ft_kvcache_reset(ft_kvcache *kv) { kv->n = 0; }

// n positions at kv->n..: token ids, or (tokens NULL) input embeddings emb (n, C) in the model's
// memory (prompt tuning: the device copy's P).
static int decode_chunk(ft_model *m, ft_kvcache *kv, const int32_t *tokens, const float *emb, int n,
                        float *logits) {
    const ft_config *c = &m->cfg;
    const ft_ops *ops = m->ops;
    ft_acts *a = &kv->acts;
    int C = c->hidden, p0 = kv->n;
    for (int i = 0; i < n; i++) {
        if (tokens && (tokens[i] < 0 || tokens[i] >= c->vocab_size))
            return ft_err("token id %d is outside the model's vocabulary (%d)", tokens[i], c->vocab_size);
        a->pos_h[i] = p0 + i;
    }
    if (kv->ops != ops) return ft_err("decode: KV cache made for the %s op table, the model runs on %s", kv->ops->name, ops->name);
    if (!ops->host_access && ops->upload(a->pos, a->pos_h, (size_t)n * sizeof(int32_t))) return -1;
    const int32_t *tok = ft_acts_ids(a, a->tok, tokens, (size_t)n);
    if (tokens && !tok) return -1;
    if (ft_model_reserve_scratch(m, n, 0, &a->lora_tmp, &a->lora_cap)) return -1;
    ft_layer_acts *la = &a->layer[0];
    if (tok) ops->embedding(la->x, tok, m->embed, n, C);
    else if (ops->copy(la->x, emb, (size_t)n * C * sizeof(float))) return -1;   // the prompt, where the model is
    if (tok && c->arch_row->embed_scale) ops->scale(la->x, ft_model_embed_scale(c), (size_t)n * C);   // Gemma
    size_t kvd = (size_t)kv->kv_dim;
    for (int l = 0; l < c->n_layers; l++) {
        float *kc = kv->k + (size_t)l * kv->max_T * kvd, *vc = kv->v + (size_t)l * kv->max_T * kvd;
        // keys/values of the new positions go into the cache; an empty cache attends over them
        // causally (the op table's attention), else the queries attend over the whole cache.
        // Inference acts: the output is the next layer's x, the same buffer.
        ft_block_io io = {.B = 1, .T = n, .p0 = p0, .k = kc + (size_t)p0 * kvd, .v = vc + (size_t)p0 * kvd, .kc = kc,
                          .vc = vc, .out = la->x};
        ft_block_forward(m, l, la, a, &io);
    }
    kv->n += n;
    if (logits) {
        const float *last = la->x + (size_t)(n - 1) * C;
        ops->rmsnorm(a->lnf, a->lnf_rstd, last, m->norm, 1, C, c->rms_eps);
        float *out = ops->host_access ? logits : ft_acts_logits(a, (size_t)c->vocab_size);
        if (!out) return -1;
        ft_model_head_logits(m, out, a->lnf, 1);
        if (out != logits && ops->download(logits, out, (size_t)c->vocab_size * sizeof(float))) return -1;
    }
    return 0;
}

// Prompt/prefix tuning: a sequence starts with the n virtual positions — the prompt P run
// through the layers, or the prefix written into the cache as keys (no rope) and values.
static int seed_virtual(ft_model *m, ft_kvcache *kv) {
    ft_virtual *v = m->virt;
    int nv = v->n;
    if (nv > kv->max_T) return ft_err("KV cache of %d positions cannot hold the %d virtual tokens", kv->max_T, nv);
    if (v->kind == FT_VIRT_PROMPT) {
        for (int i = 0; i < nv; i += kv->max_chunk) {
            int k = nv - i < kv->max_chunk ? nv - i : kv->max_chunk;
            if (decode_chunk(m, kv, NULL, v->params + (size_t)i * v->C, k, NULL) < 0) {
                kv->n = 0;   // half seeded: the next call starts over rather than decode after it
                return -1;
            }
        }
        return 0;
    }
    ft_virtual_prepare(v, m->ops);
    size_t kvd = (size_t)kv->kv_dim;
    for (int l = 0; l < kv->L; l++)
        for (int t = 0; t < nv; t++) {
            size_t at = ((size_t)l * kv->max_T + t) * kvd;
            if (kv->ops->copy(kv->k + at, ft_virtual_prefix_kv(v, l, 0, t), kvd * sizeof(float)) ||
                kv->ops->copy(kv->v + at, ft_virtual_prefix_kv(v, l, 1, t), kvd * sizeof(float)))
                return -1;
        }
    kv->n = nv;
    return 0;
}

int ft_model_decode(ft_model *m, ft_kvcache *kv, const int32_t *tokens, int n, float *logits) {
    if (n <= 0) return ft_err("decode: no tokens");
    if (m->virt && kv->n == 0 && seed_virtual(m, kv) < 0) return -1;
    if (kv->n + n > kv->max_T)
        return ft_err("context full: %d + %d tokens exceed the KV cache of %d positions", kv->n, n, kv->max_T);
    for (int i = 0; i < n; i += kv->max_chunk) {
        int k = n - i < kv->max_chunk ? n - i : kv->max_chunk;
        if (decode_chunk(m, kv, tokens + i, NULL, k, i + k == n ? logits : NULL) < 0) return -1;
    }
    return 0;
}
