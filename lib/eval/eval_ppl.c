// eval_ppl.c — records into packed rows, forward, loss per document (see eval_ppl.h).
#include "eval/eval_ppl.h"
#include "core/err.h"
#include "data/rows.h"
#include "model/virtual.h"

#include <stdlib.h>
#include <string.h>

struct ft_ppl {
    ft_model *m;
    ft_acts acts;
    ft_row row;                 // (cap,) positions
    int one_doc;                // prompt/prefix tuning: one record (window) per row, no doc ids
    double loss;
    uint64_t ntok;
    ft_writer *dump;
    float *logits;              // (64, V) when dumping
    size_t *doc_rec;            // (cap,) record index of each document of the row
    int per_record;
    double *rec_loss;           // (n_rec_cap,) summed loss per record
    uint64_t *rec_tok;
    size_t n_rec_cap;
};

ft_ppl *ft_ppl_new(ft_model *m, int cap, int per_record, ft_writer *dump) {
    if (cap < 2) { ft_err("ppl: rows of %d positions (at least 2 needed)", cap); return NULL; }
    ft_ppl *p = ft_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->m = m;
    p->one_doc = ft_model_n_virtual(m) > 0;
    p->per_record = per_record;
    p->dump = dump;
    p->row = ft_row_view(ft_malloc((size_t)cap * 4), ft_malloc((size_t)cap * 4), ft_malloc((size_t)cap),
                         ft_malloc((size_t)cap * 4), ft_malloc((size_t)cap * 4), cap);
    p->doc_rec = ft_malloc((size_t)cap * sizeof *p->doc_rec);
    if (!p->row.ids || !p->row.targets || !p->row.mask || !p->row.pos || !p->row.doc || !p->doc_rec ||
        (dump && !(p->logits = ft_malloc((size_t)64 * m->cfg.vocab_size * sizeof(float)))) ||
        ft_model_acts_alloc(m, &p->acts, 1, cap + ft_model_n_virtual(m), 0) < 0) {
        ft_ppl_free(p);
        return NULL;
    }
    return p;
}

void ft_ppl_free(ft_ppl *p) {
    if (!p) return;
    if (p->acts.buf) ft_acts_free(&p->acts);
    free(p->row.ids); free(p->row.targets); free(p->row.mask); free(p->row.pos); free(p->row.doc);
    free(p->logits); free(p->doc_rec); free(p->rec_loss); free(p->rec_tok);
    free(p);
}

static int flush(ft_ppl *p) {
    ft_row *w = &p->row;
    if (!w->n) return 0;
    if (ft_model_forward(p->m, &p->acts, w->ids, w->pos, p->one_doc ? NULL : w->doc, 1, w->n) < 0) return -1;
    if (p->per_record) {   // per document of the row, attributed to its record
        for (int s = 0; s < w->n;) {
            int e = s + 1;
            while (e < w->n && w->doc[e] == w->doc[s]) e++;
            double l = ft_model_loss_at(p->m, &p->acts, s, w->targets + s, w->mask + s, e - s);
            size_t k = p->doc_rec[w->doc[s]];
            p->rec_loss[k] += l;
            for (int i = s; i < e; i++) p->rec_tok[k] += w->mask[i] != 0;
            p->loss += l;
            s = e;
        }
    } else {
        p->loss += ft_model_loss(p->m, &p->acts, w->targets, w->mask, w->n);
    }
    p->ntok += w->n_targets;
    if (p->dump) {
        size_t V = (size_t)p->m->cfg.vocab_size;
        for (int i = 0; i < w->n; i += 64) {
            int k = w->n - i < 64 ? w->n - i : 64;
            int rows[64];
            for (int j = 0; j < k; j++) rows[j] = i + j;
            ft_model_logits(p->m, &p->acts, rows, k, p->logits);
            if (ft_writer_write(p->dump, p->logits, (size_t)k * V * sizeof(float)) < 0) return -1;
        }
    }
    ft_row_reset(w);
    return 0;
}

static int grow_records(ft_ppl *p, size_t index) {
    if (index < p->n_rec_cap) return 0;
    size_t nc = p->n_rec_cap ? p->n_rec_cap * 2 : 1024;
    while (nc <= index) nc *= 2;
    double *l = ft_realloc(p->rec_loss, nc * sizeof *l);
    if (!l) return -1;
    p->rec_loss = l;
    uint64_t *t = ft_realloc(p->rec_tok, nc * sizeof *t);
    if (!t) return -1;
    p->rec_tok = t;
    memset(l + p->n_rec_cap, 0, (nc - p->n_rec_cap) * sizeof *l);
    memset(t + p->n_rec_cap, 0, (nc - p->n_rec_cap) * sizeof *t);
    p->n_rec_cap = nc;
    return 0;
}

int ft_ppl_add(ft_ppl *p, const uint32_t *tokens, const uint8_t *mask, size_t n, size_t index) {
    if (n == 0 || (n == 1 && !p->dump)) return 0;   // nothing to predict
    if (p->per_record && grow_records(p, index) < 0) return -1;
    size_t nw = ft_record_windows(n, p->row.cap);
    for (size_t k = 0; k < nw; k++) {
        size_t s, e;
        ft_record_window(n, p->row.cap, k, &s, &e);
        if (((int)(e - s) > ft_row_room(&p->row) || (p->one_doc && p->row.n)) && flush(p) < 0) return -1;
        p->doc_rec[p->row.n_docs] = index;
        ft_row_add(&p->row, tokens, mask, s, e);
    }
    return 0;
}

int ft_ppl_finish(ft_ppl *p) { return flush(p); }
double ft_ppl_loss_sum(const ft_ppl *p) { return p->loss; }
uint64_t ft_ppl_targets(const ft_ppl *p) { return p->ntok; }

void ft_ppl_record(const ft_ppl *p, size_t index, double *loss, uint64_t *targets) {
    int has = p->per_record && index < p->n_rec_cap;
    *loss = has ? p->rec_loss[index] : 0.0;
    *targets = has ? p->rec_tok[index] : 0;
}
