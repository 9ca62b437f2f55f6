// eval_bench.c — scoring benchmark requests (eval_bench.h): the harness's context/continuation
// encoding; packed rows of whole sequences (lib/data/rows.h) whose per-sequence sums come from
// the loss head's per-row results (ft_model_loss_rows); or a shared context run once through a
// KV cache (lib/model/model_kv.c) with each choice decoded after it, its log-probabilities the
// loss head's over the decoded positions (the cache's inference activations hold the last
// layer's output); or one forward per request (eval_choice.c).
#include "eval/eval_bench.h"
#include "core/err.h"
#include "data/rows.h"
#include "eval/eval_choice.h"
#include "model/virtual.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK 256    // positions per KV-cache forward
#define ROW 2048     // positions of a packed row

const char *const ft_bench_path_names[3] = {"packed", "shared", "whole"};

struct ft_bench_scorer {
    ft_model *m;
    const ft_tokenizer *tok;
    ft_choice_scorer *whole;   // one sequence per request (WHOLE, cut sequences, virtual tokens)
    int path;
    // SHARED
    ft_kvcache kv;
    int kv_ok;
    int32_t *buf, *tgt;        // (CHUNK) decode input and targets
    // PACKED
    ft_acts acts;
    int row_cap;
    ft_row row;
    int32_t *row_of;           // (row_cap) the pending request of each position
    uint32_t *seq;             // (row_cap) one sequence, and its continuation mask
    uint8_t *seq_mask;
    double *logp;              // (row_cap) per-request sums from the loss head
    double **dest;             // (row_cap) where each pending request's log-likelihood goes
    int n_pend;
};

ft_bench_scorer *ft_bench_scorer_new(ft_model *m, const ft_tokenizer *tok, int path) {
    ft_bench_scorer *s = ft_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->m = m;
    s->tok = tok;
    const ft_ops *ops = m->ops ? m->ops : ft_ops_cpu();
    s->path = m->virt ? FT_BENCH_WHOLE : path;
    if (s->path == FT_BENCH_PACKED && !ops->host_access) s->path = FT_BENCH_WHOLE;   // targets/rows are host arrays
    if (!(s->whole = ft_choice_scorer_new(m, tok))) { free(s); return NULL; }
    if (s->path == FT_BENCH_PACKED) {
        int maxT = ft_model_real_ctx(m, 1 << 20);
        s->row_cap = maxT < ROW ? maxT : ROW;
        size_t n = (size_t)s->row_cap;
        s->row = ft_row_view(ft_malloc(n * 4), ft_malloc(n * 4), ft_malloc(n), ft_malloc(n * 4), ft_malloc(n * 4), s->row_cap);
        s->row_of = ft_malloc(n * sizeof *s->row_of);
        s->seq = ft_malloc(n * sizeof *s->seq);
        s->seq_mask = ft_malloc(n);
        s->logp = ft_malloc(n * sizeof *s->logp);
        s->dest = ft_malloc(n * sizeof *s->dest);
        if (!s->row.ids || !s->row.targets || !s->row.mask || !s->row.pos || !s->row.doc || !s->row_of || !s->seq ||
            !s->seq_mask || !s->logp || !s->dest || ft_model_acts_alloc(m, &s->acts, 1, s->row_cap, 0) < 0) {
            ft_bench_scorer_free(s);
            return NULL;
        }
    }
    return s;
}

int ft_bench_scorer_path(const ft_bench_scorer *s) { return s->path; }

void ft_bench_scorer_free(ft_bench_scorer *s) {
    if (!s) return;
    if (s->kv_ok) ft_kvcache_free(&s->kv);
    if (s->acts.buf) ft_acts_free(&s->acts);
    ft_choice_scorer_free(s->whole);
    free(s->buf); free(s->tgt);
    free(s->row.ids); free(s->row.targets); free(s->row.mask); free(s->row.pos); free(s->row.doc);
    free(s->row_of); free(s->seq); free(s->seq_mask); free(s->logp); free(s->dest);
    free(s);
}

// Run the pending packed requests: one forward over the row, per-request sums of the loss head.
static int flush(ft_bench_scorer *s, ft_bench_counts *counts) {
    if (s->n_pend == 0) return 0;
    ft_row *r = &s->row;
    if (ft_model_forward(s->m, &s->acts, r->ids, r->pos, r->doc, 1, r->n) < 0) return -1;
    ft_loss_rows lr = {.row = s->row_of, .row_logp = s->logp, .n_rows = s->n_pend};
    double loss = ft_model_loss_rows(s->m, &s->acts, r->targets, r->mask, r->n, &lr);
    if (loss != loss) return ft_err("packed scoring: the loss head returned NaN");
    for (int j = 0; j < s->n_pend; j++) *s->dest[j] = s->logp[j];
    if (counts) counts->forwarded += (size_t)r->n;
    s->n_pend = 0;
    ft_row_reset(r);
    return 0;
}

// Queue context pre (np) + continuation cont (nc) into the packed row (np + nc <= row_cap).
static int pack(ft_bench_scorer *s, const uint32_t *pre, size_t np, const uint32_t *cont, size_t nc, double *dest,
                ft_bench_counts *counts) {
    size_t T = np + nc;
    if ((size_t)ft_row_room(&s->row) < T && flush(s, counts) < 0) return -1;
    memcpy(s->seq, pre, np * sizeof *pre);
    memcpy(s->seq + np, cont, nc * sizeof *cont);
    memset(s->seq_mask, 0, np);
    memset(s->seq_mask + np, 1, nc);
    int at = s->row.n;
    ft_row_add(&s->row, s->seq, s->seq_mask, 0, T);
    for (size_t i = 0; i < T; i++) s->row_of[at + (int)i] = s->n_pend;
    s->dest[s->n_pend++] = dest;
    return 0;
}

// Bytes of trailing Python whitespace of s[0..n).
static size_t trailing_ws(const char *s, size_t n) {
    size_t b, e;
    ft_py_strip(s, n, 0, 1, &b, &e);
    return n - e;
}

// Context ids: BOS when the tokenizer adds one, then the context (trailing whitespace cut);
// an empty result starts from EOS (or BOS), the harness's prefix token.
static int encode_ctx(const ft_tokenizer *tok, const char *ctx, size_t keep, uint32_t **ids, size_t *n, size_t *n_text) {
    uint32_t *c = NULL, *pre;
    size_t nc = 0, np = 0;
    if (ft_tokenizer_encode(tok, ctx, keep, 0, &c, &nc) < 0) return -1;
    if (!(pre = ft_malloc((nc + 2) * sizeof *pre))) { free(c); return -1; }
    if (ft_tokenizer_add_bos_default(tok) && ft_tokenizer_bos(tok) >= 0) pre[np++] = (uint32_t)ft_tokenizer_bos(tok);
    if (nc) memcpy(pre + np, c, nc * sizeof *pre);
    free(c);
    np += nc;
    if (np == 0) {
        int32_t e = ft_tokenizer_eos(tok) >= 0 ? ft_tokenizer_eos(tok) : ft_tokenizer_bos(tok);
        if (e < 0) { free(pre); return ft_err("empty context and the tokenizer has neither EOS nor BOS"), -2; }
        pre[np++] = (uint32_t)e;
    }
    *ids = pre;
    *n = np;
    *n_text = nc;
    return 0;
}

// The continuation's ids: encode(ctx[0..keep) + ctx[keep..] + cont) after its first n_text ids.
static int encode_cont(const ft_tokenizer *tok, const char *ctx, size_t ctx_len, const char *cont, size_t n_text,
                       uint32_t **ids, size_t *n) {
    size_t cl = strlen(cont), wl = ctx_len + cl;
    char *whole = ft_malloc(wl + 1);
    uint32_t *w = NULL;
    size_t nw = 0;
    if (!whole) return -1;
    memcpy(whole, ctx, ctx_len);
    memcpy(whole + ctx_len, cont, cl);
    int e = ft_tokenizer_encode(tok, whole, wl, 0, &w, &nw);
    free(whole);
    if (e < 0) return -1;
    if (nw <= n_text) { free(w); return ft_err("the continuation adds no tokens to the context"), -2; }
    memmove(w, w + n_text, (nw - n_text) * sizeof *w);
    *ids = w;
    *n = nw - n_text;
    return 0;
}

int ft_bench_encode(const ft_tokenizer *tok, const char *ctx, const char *cont, uint32_t **ctx_ids, size_t *n_ctx,
                    uint32_t **cont_ids, size_t *n_cont) {
    size_t len = strlen(ctx), keep = len - trailing_ws(ctx, len), n_text;
    int e = encode_ctx(tok, ctx, keep, ctx_ids, n_ctx, &n_text);
    if (e < 0) return e;
    if ((e = encode_cont(tok, ctx, len, cont, n_text, cont_ids, n_cont)) < 0) { free(*ctx_ids); *ctx_ids = NULL; }
    return e;
}

// A KV cache for at least T positions (grown by doubling, within the model's context maxT):
// 1 the one there, 2 a new (empty) one, 0 none can be had (share turned off), -1 error.
static int kv_reserve(ft_bench_scorer *s, int T, int maxT) {
    if (s->kv_ok && T <= s->kv.max_T) return 1;
    if (s->kv_ok) ft_kvcache_free(&s->kv);   // what the cache held is gone: 2
    s->kv_ok = 0;
    int cap = 1024;
    while (cap < T) cap *= 2;
    if (cap > maxT) cap = maxT;
    if (!s->buf && (!(s->buf = ft_malloc(CHUNK * sizeof *s->buf)) || !(s->tgt = ft_malloc(CHUNK * sizeof *s->tgt))))
        return -1;
    if (ft_kvcache_init(&s->kv, s->m, cap, CHUNK) < 0) {   // e.g. a device without cached attention
        ft_err_clear();
        s->path = FT_BENCH_WHOLE;
        return 0;
    }
    s->kv_ok = 1;
    return 2;
}

// Log-likelihood of cont (nc) after the context whose first np - 1 ids are in the cache at
// positions 0..base-1 and whose last id is last: decode last + cont[0..nc-2] in chunks.
static int kv_choice(ft_bench_scorer *s, int base, uint32_t last, const uint32_t *cont, size_t nc, double *ll) {
    ft_model *m = s->m;
    const ft_ops *ops = m->ops ? m->ops : ft_ops_cpu();
    int C = m->cfg.hidden;
    double sum = 0;
    s->kv.n = base;
    for (size_t off = 0; off < nc; off += CHUNK) {
        int n = nc - off < CHUNK ? (int)(nc - off) : CHUNK;
        for (int i = 0; i < n; i++) {
            size_t j = off + (size_t)i;   // input: the token before cont[j]
            s->buf[i] = (int32_t)(j == 0 ? last : cont[j - 1]);
            s->tgt[i] = (int32_t)cont[j];
        }
        if (ft_model_decode(m, &s->kv, s->buf, n, NULL) < 0) return -1;
        ft_acts *a = &s->kv.acts;   // inference acts: layer[0].x holds the last layer's output
        ops->rmsnorm(a->lnf, a->lnf_rstd, a->layer[0].x, m->norm, n, C, m->cfg.rms_eps);
        double loss = ft_model_loss(m, a, s->tgt, NULL, n);
        if (loss != loss) return -1;
        sum -= loss;
    }
    *ll = sum;
    return 0;
}

// One item: its requests encoded, scored (WHOLE, SHARED) or queued (PACKED) into ll.
static int score_item(ft_bench_scorer *s, const ft_bench_item *it, double *ll, ft_bench_counts *counts) {
    int maxT = ft_model_real_ctx(s->m, 1 << 20), rc = -1;
    uint32_t *pre = NULL, *cont = NULL;
    size_t np = 0, nc = 0, n_text = 0;
    const char *cur = NULL;
    int base = -1;   // SHARED: positions of the current context in the cache (-1: not prefilled)
    for (size_t k = 0; k < it->n; k++) {
        const char *ctx = it->ctx[k];
        size_t len = strlen(ctx);
        if (ctx != cur && (k == 0 || strcmp(ctx, cur))) {   // a new context
            free(pre);
            pre = NULL;
            size_t keep = len - trailing_ws(ctx, len);
            int e = encode_ctx(s->tok, ctx, keep, &pre, &np, &n_text);
            if (e < 0) { rc = e; goto done; }
            cur = ctx;
            base = -1;
            if (counts) counts->ctx_tokens += np;
        }
        int e = encode_cont(s->tok, ctx, len, it->cont[k], n_text, &cont, &nc);
        if (e < 0) { rc = e; ft_err_ctx("choice %zu", k); goto done; }
        if (counts) counts->cont_tokens += nc;
        size_t T = np + nc;
        int kv = s->path == FT_BENCH_SHARED && T <= (size_t)maxT ? kv_reserve(s, (int)T, maxT) : 0;
        if (kv < 0) goto done;
        if (kv == 2) base = -1;
        if (s->path == FT_BENCH_PACKED && T <= (size_t)s->row_cap) {
            if (pack(s, pre, np, cont, nc, &ll[k], counts) < 0) goto done;
        } else if (kv) {
            if (base < 0) {
                s->kv.n = 0;
                if (np > 1 && ft_model_decode(s->m, &s->kv, (const int32_t *)pre, (int)np - 1, NULL) < 0) goto done;
                base = (int)np - 1;
                if (counts) counts->forwarded += np - 1;
            }
            if (kv_choice(s, base, pre[np - 1], cont, nc, &ll[k]) < 0) goto done;
            if (counts) counts->forwarded += nc;
        } else {
            if (ft_choice_loglik(s->whole, pre, np, cont, nc, &ll[k]) < 0) goto done;
            if (counts) counts->forwarded += (T < (size_t)maxT ? T : (size_t)maxT) - 1;
        }
        free(cont);
        cont = NULL;
    }
    rc = 0;
done:
    free(pre);
    free(cont);
    return rc;
}

int ft_bench_score(ft_bench_scorer *s, const ft_bench_item *items, size_t n, double *const *ll, ft_bench_counts *counts) {
    for (size_t i = 0; i < n; i++) {
        int e = score_item(s, &items[i], ll[i], counts);
        if (e < 0) {
            s->n_pend = 0;
            ft_row_reset(&s->row);
            ft_err_ctx("item %zu", i);
            return e;
        }
    }
    if (flush(s, counts) < 0) {
        s->n_pend = 0;
        ft_row_reset(&s->row);
        return -1;
    }
    return 0;
}
