// eval_choice.c — lm-evaluation-harness style log-likelihood scoring of choices (see
// eval_choice.h): context/continuation encoding, left truncation, one row per sequence.
#include "eval/eval_choice.h"
#include "core/err.h"
#include "data/rows.h"
#include "model/virtual.h"

#include <stdlib.h>
#include <string.h>

struct ft_choice_scorer {
    ft_model *m;
    const ft_tokenizer *tok;
    int add_bos;
    ft_acts acts;
    int cap;             // positions of the buffers and activations
    ft_row row;          // (cap,) ids, targets, mask
    uint32_t *seq;       // (cap,) context + continuation, truncated
    uint8_t *seq_mask;   // (cap,) 1 on the continuation
};

ft_choice_scorer *ft_choice_scorer_new(ft_model *m, const ft_tokenizer *tok) {
    ft_choice_scorer *c = ft_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->m = m;
    c->tok = tok;
    c->add_bos = ft_tokenizer_add_bos_default(tok) && ft_tokenizer_bos(tok) >= 0;
    return c;
}

static void free_bufs(ft_choice_scorer *c) {
    if (c->acts.buf) ft_acts_free(&c->acts);
    memset(&c->acts, 0, sizeof c->acts);
    free(c->row.ids); free(c->row.targets); free(c->row.mask); free(c->seq); free(c->seq_mask);
    c->row = (ft_row){0};
    c->seq = NULL;
    c->seq_mask = NULL;
    c->cap = 0;
}

void ft_choice_scorer_free(ft_choice_scorer *c) {
    if (!c) return;
    free_bufs(c);
    free(c);
}

// Buffers for T positions (grown to twice that, within the context of maxT).
static int reserve(ft_choice_scorer *c, int T, int maxT, int nv) {
    if (T <= c->cap) return 0;
    free_bufs(c);
    int cap = T * 2 < maxT ? T * 2 : maxT;
    if (cap < T) cap = T;
    c->row = ft_row_view(ft_malloc((size_t)cap * 4), ft_malloc((size_t)cap * 4), ft_malloc((size_t)cap), NULL, NULL, cap);
    c->seq = ft_malloc((size_t)cap * sizeof *c->seq);
    c->seq_mask = ft_malloc((size_t)cap);
    if (!c->row.ids || !c->row.targets || !c->row.mask || !c->seq || !c->seq_mask ||
        ft_model_acts_alloc(c->m, &c->acts, 1, cap + nv, 0) < 0) {
        free_bufs(c);
        return -1;
    }
    c->cap = cap;
    return 0;
}

int ft_choice_loglik(ft_choice_scorer *c, const uint32_t *ctx, size_t n_ctx, const uint32_t *cont, size_t n_cont,
                     double *ll) {
    int nv = ft_model_n_virtual(c->m);   // prompt/prefix tuning: virtual tokens in front of the row
    int maxT = ft_model_real_ctx(c->m, 1 << 20);
    if (maxT < 1) return ft_err("the %d virtual tokens fill the model's context of %d", nv, c->m->cfg.max_pos);
    if (n_cont + 1 > (size_t)maxT) return ft_err("a choice of %zu tokens does not fit the context of %d", n_cont, maxT);
    size_t T = n_ctx + n_cont, skip = T > (size_t)maxT ? T - (size_t)maxT : 0;
    T -= skip;
    if (reserve(c, (int)T, maxT, nv) < 0) return -1;
    for (size_t i = 0; i < T; i++) {   // the sequence without its first `skip` tokens
        size_t j = i + skip;
        c->seq[i] = j < n_ctx ? ctx[j] : cont[j - n_ctx];
        c->seq_mask[i] = j >= n_ctx;
    }
    ft_row_reset(&c->row);
    ft_row_add(&c->row, c->seq, c->seq_mask, 0, T);
    if (ft_model_forward(c->m, &c->acts, c->row.ids, NULL, NULL, 1, (int)T) < 0) return -1;
    *ll = -ft_model_loss(c->m, &c->acts, c->row.targets, c->row.mask, (int)T);
    return 0;
}

int ft_choice_score(ft_choice_scorer *c, const char *ctx, size_t ctx_len, const char *const *choices,
                    const size_t *lens, size_t n, double *ll) {
    size_t keep = ctx_len;
    while (keep > 0 && (ctx[keep - 1] == ' ' || ctx[keep - 1] == '\t' || ctx[keep - 1] == '\n' || ctx[keep - 1] == '\r'))
        keep--;
    uint32_t *cids = NULL, *w = NULL, *pre = NULL;
    size_t nc = 0, nw = 0;
    int rc = -1;
    if (ft_tokenizer_encode(c->tok, ctx, keep, 0, &cids, &nc) < 0) return -1;
    // BOS when the tokenizer adds one; an empty context starts from EOS (the harness's EOT)
    if (!(pre = ft_malloc((nc + 1) * sizeof *pre))) goto done;
    size_t np = 0;
    if (c->add_bos) pre[np++] = (uint32_t)ft_tokenizer_bos(c->tok);
    memcpy(pre + np, cids, nc * sizeof *pre);
    np += nc;
    if (np == 0) {
        int32_t e = ft_tokenizer_eos(c->tok) >= 0 ? ft_tokenizer_eos(c->tok) : ft_tokenizer_bos(c->tok);
        if (e < 0) { ft_err("empty context and the tokenizer has neither EOS nor BOS"); rc = -2; goto done; }
        pre[np++] = (uint32_t)e;
    }
    for (size_t k = 0; k < n; k++) {
        size_t wl = ctx_len + lens[k];
        char *whole = ft_malloc(wl + 1);
        if (!whole) goto done;
        memcpy(whole, ctx, ctx_len);
        memcpy(whole + ctx_len, choices[k], lens[k]);
        int e = ft_tokenizer_encode(c->tok, whole, wl, 0, &w, &nw);
        free(whole);
        if (e < 0) goto done;
        if (nw <= nc) { ft_err("choice %zu adds no tokens to the context", k); rc = -2; goto done; }
        if (ft_choice_loglik(c, pre, np, w + nc, nw - nc, &ll[k]) < 0) goto done;
        free(w);
        w = NULL;
    }
    rc = 0;
done:
    free(cids); free(pre); free(w);
    return rc;
}
