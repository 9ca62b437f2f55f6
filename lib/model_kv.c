// model_kv.c — inference with a KV cache for one sequence: prompt prefill in chunks and
// token-by-token decoding. Projections, norms and the MLP go through the op table like the
// training forward; attention over the cache (queries at positions n.., keys 0..n+i) is the
// op table's attention_cached.
// With prompt/prefix tuning (lib/virtual.h) a sequence starts with the virtual positions.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "virtual.h"

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

// n positions at kv->n..: token ids, or (tokens NULL) input embeddings emb (n, C) (prompt tuning).
static int decode_chunk(ft_model *m, ft_kvcache *kv, const int32_t *tokens, const float *emb, int n,
                        float *logits) {
    const ft_config *c = &m->cfg;
    const ft_ops *ops = m->ops;
    ft_acts *a = &kv->acts;
    int C = c->hidden, F = c->intermediate, Hq = c->n_heads, Hkv = c->n_kv_heads, D = c->head_dim, p0 = kv->n;
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
    float *lt = a->lora_tmp;
    ft_layer_acts *la = &a->layer[0];
    if (tok) ops->embedding(la->x, tok, m->embed, n, C);
    else if (ops->upload(la->x, emb, (size_t)n * C * sizeof(float))) return -1;   // host prompt embeddings
    size_t kvd = (size_t)kv->kv_dim;
    for (int l = 0; l < c->n_layers; l++) {
        ft_layer *ly = &m->layers[l];
        float *kc = kv->k + (size_t)l * kv->max_T * kvd, *vc = kv->v + (size_t)l * kv->max_T * kvd;
        ops->rmsnorm(la->ln1, la->ln1_rstd, la->x, ly->attn_norm, n, C, c->rms_eps);
        ft_linear_forward(ops, &ly->q, la->q, la->ln1, n, lt);
        ft_linear_forward(ops, &ly->k, kc + (size_t)p0 * kvd, la->ln1, n, lt);
        ft_linear_forward(ops, &ly->v, vc + (size_t)p0 * kvd, la->ln1, n, lt);
        ops->rope(la->q, a->pos, m->inv_freq, n, Hq, D);
        ops->rope(kc + (size_t)p0 * kvd, a->pos, m->inv_freq, n, Hkv, D);
        if (p0 == 0)   // empty cache: plain causal attention over the chunk (the op table's kernel)
            ops->attention(la->att, la->lse, la->q, kc, vc, NULL, 1, n, Hq, Hkv, D);
        else
            ops->attention_cached(la->att, la->q, kc, vc, n, p0, Hq, Hkv, D);
        ft_linear_forward(ops, &ly->o, a->tmp, la->att, n, lt);
        ops->add(la->x_mid, la->x, a->tmp, (size_t)n * C);
        ops->rmsnorm(la->ln2, la->ln2_rstd, la->x_mid, ly->mlp_norm, n, C, c->rms_eps);
        ft_linear_forward(ops, &ly->gate, la->gate, la->ln2, n, lt);
        ft_linear_forward(ops, &ly->up, la->up, la->ln2, n, lt);
        ops->swiglu(la->act, la->gate, la->up, n, F);
        ft_linear_forward(ops, &ly->down, a->tmp, la->act, n, lt);
        ops->add(la->x, la->x_mid, a->tmp, (size_t)n * C);   // inference acts: next x == this x
    }
    kv->n += n;
    if (logits) {
        const float *last = la->x + (size_t)(n - 1) * C;
        ops->rmsnorm(a->lnf, a->lnf_rstd, last, m->norm, 1, C, c->rms_eps);
        float *out = ops->host_access ? logits : ft_acts_logits(a, (size_t)c->vocab_size);
        if (!out) return -1;
        ops->lm_head_logits(out, a->lnf, m->lm_head, 1, C, c->vocab_size);
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
            if (kv->ops->upload(kv->k + at, ft_virtual_prefix_kv(v, l, 0, t), kvd * sizeof(float)) ||
                kv->ops->upload(kv->v + at, ft_virtual_prefix_kv(v, l, 1, t), kvd * sizeof(float)))
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
