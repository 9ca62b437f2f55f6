// virtual_init.c — ft_virtual_new: new prompt or prefix virtual tokens initialized as PEFT
// initializes them (random N(0, 1), PrefixEncoder's projection, TEXT from token ids), and a
// prefix from text (the base model's own keys and values of those ids, by a forward pass).
#include "model/virtual.h"
#include "core/err.h"
#include "core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Standard normal (Box-Muller), as torch.nn.Embedding's default init N(0, 1).
static float gauss(ft_rng *r) {
    double u1 = 1.0 - ft_rng_double(r), u2 = ft_rng_double(r);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

// torch.nn.Linear's default init: weight kaiming_uniform_(a=sqrt(5)) and bias both
// U(-1/sqrt(in), 1/sqrt(in)).
static void linear_init(ft_rng *r, float *w, float *b, int out, int in) {
    float bound = 1.0f / sqrtf((float)in);
    for (size_t i = 0; i < (size_t)out * in; i++) w[i] = (2.0f * ft_rng_float(r) - 1.0f) * bound;
    for (int i = 0; i < out; i++) b[i] = (2.0f * ft_rng_float(r) - 1.0f) * bound;
}

// Prefix from text (not in PEFT; Li & Liang 2021 initialize prefixes with real words'
// activations): the base model's own keys (after rope) and values of the ids, repeated / cut
// to n, at positions 0..n-1 — so step 0 is the base model prompted with that text.
static int prefix_from_text(ft_virtual *v, ft_model *m, const int32_t *ids, int n_ids) {
    int n = v->n;
    int32_t *x = ft_malloc((size_t)n * sizeof *x);
    if (!x) return -1;
    for (int i = 0; i < n; i++) x[i] = ids[i % n_ids];
    ft_acts a;
    int rc = ft_acts_alloc(&a, &m->cfg, 1, n, 1);   // training mode: every layer's k/v kept
    if (rc == 0) {
        m->virt = NULL;   // the base model alone
        rc = ft_model_forward(m, &a, x, NULL, NULL, 1, n);
        m->virt = v;
        size_t kvd = (size_t)v->kvd;
        for (int l = 0; rc == 0 && l < v->L; l++)
            for (int t = 0; t < n; t++) {
                memcpy((float *)ft_virtual_prefix_kv(v, l, 0, t), a.layer[l].k + t * kvd, kvd * sizeof(float));
                memcpy((float *)ft_virtual_prefix_kv(v, l, 1, t), a.layer[l].v + t * kvd, kvd * sizeof(float));
            }
        ft_acts_free(&a);
    }
    free(x);
    return rc;
}

int ft_virtual_new(ft_virtual **out, ft_model *m, const ft_virtual_cfg *cfg, uint64_t seed) {
    *out = NULL;
    if (m->virt) return ft_err("the model already has virtual tokens attached");
    if (cfg->kind == FT_VIRT_PREFIX && cfg->init_ids && cfg->projection)
        return ft_err("a prefix initialized from text (--prompt-init) cannot go through --prefix-projection");
    if (cfg->init_ids && cfg->n_init_ids < 1) return ft_err("prompt init text gives no tokens");
    for (int i = 0; cfg->init_ids && i < cfg->n_init_ids; i++)
        if (cfg->init_ids[i] < 0 || cfg->init_ids[i] >= m->cfg.vocab_size)
            return ft_err("prompt init token id %d is outside the vocabulary (%d)", cfg->init_ids[i], m->cfg.vocab_size);
    ft_virtual *v;
    if (ft_virtual_alloc(&v, m, cfg->kind, cfg->n_virtual, cfg->projection, cfg->proj_hidden)) return -1;
    ft_rng r;
    ft_rng_seed(&r, seed ^ 0x5669727475616Cull);
    size_t C = (size_t)v->C;
    if (v->kind == FT_VIRT_PROMPT && cfg->init_ids) {
        // PromptEmbedding.__init__ (TEXT): ids cut to n, or repeated ceil(n / len) times and cut;
        // either way virtual token i takes ids[i % len].
        for (int i = 0; i < v->n; i++)
            memcpy(v->params + i * C, m->embed + (size_t)cfg->init_ids[i % cfg->n_init_ids] * C, C * sizeof(float));
        v->init_text = 1;
        if (cfg->init_text && !(v->init_str = ft_strdup(cfg->init_text))) { ft_virtual_destroy(v); return -1; }
    } else if (cfg->init_ids) {
        if (prefix_from_text(v, m, cfg->init_ids, cfg->n_init_ids)) { ft_virtual_destroy(v); return -1; }
    } else if (v->projection) {
        // PrefixEncoder: Embedding(n, token_dim) N(0, 1); Linear(token_dim, h), Tanh, Linear(h, L*2*token_dim)
        for (size_t i = 0; i < (size_t)v->n * v->kvd; i++) v->emb[i] = gauss(&r);
        linear_init(&r, v->w1, v->b1, v->hidden, v->kvd);
        linear_init(&r, v->w2, v->b2, (int)v->width, v->hidden);
    } else {
        // RANDOM prompt (PromptEmbedding's nn.Embedding) or the plain prefix (PrefixEncoder's
        // nn.Embedding(n, L*2*token_dim)): N(0, 1)
        for (size_t i = 0; i < v->n_params; i++) v->params[i] = gauss(&r);
    }
    *out = v;
    return 0;
}
