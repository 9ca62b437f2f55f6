// batch.c — FTOK into packed/padded training rows (see batch.h); rows are filled by the row
// packer of lib/data/rows.h.
#include "data/batch.h"
#include "core/err.h"
#include "format/ftok.h"
#include "core/rng.h"
#include "data/rows.h"

#include <stdlib.h>
#include <string.h>

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *q = ft_realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

int ft_dataset_load(ft_dataset *d, const char *path, int seq_len) {
    memset(d, 0, sizeof *d);
    if (seq_len < 2) return ft_err("seq-len must be at least 2 (got %d)", seq_len);
    ftok_reader *r = ftok_open(path);
    if (!r) return -1;
    d->name = ft_strdup(ftok_reader_name(r));
    const ftok_header *h = ftok_reader_header(r);
    d->vocab_size = h->vocab_size;
    d->tokenizer_id = h->tokenizer_id;
    size_t cap_tok = 0, cap_mask = 0, cap_off = 0;
    if (grow((void **)&d->off, &cap_off, 1, sizeof *d->off)) goto fail;
    d->off[0] = 0;
    ftok_record rec = {0};
    int rc;
    while ((rc = ftok_next(r, &rec)) == 1) {
        d->n_read++;
        uint32_t n = rec.n;
        if (n == 0) { d->n_empty++; continue; }
        if (n > (uint32_t)seq_len) { n = (uint32_t)seq_len; d->n_truncated++; }
        uint64_t targets = ft_record_targets(rec.mask, n);
        if (!targets) { d->n_no_target++; continue; }
        if (grow((void **)&d->tokens, &cap_tok, d->n_tokens + n, sizeof *d->tokens)) goto fail_rec;
        if (grow((void **)&d->mask, &cap_mask, d->n_tokens + n, 1)) goto fail_rec;
        if (grow((void **)&d->off, &cap_off, d->n_rec + 2, sizeof *d->off)) goto fail_rec;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t t = rec.tokens[i];
            d->tokens[d->n_tokens + i] = t;
            d->mask[d->n_tokens + i] = rec.mask ? (rec.mask[i] != 0) : 1;
            if (t > d->max_token) d->max_token = t;
        }
        d->n_tokens += n;
        d->n_targets += targets;
        d->off[++d->n_rec] = d->n_tokens;
    }
    ftok_record_free(&rec);
    ftok_close(r);
    if (rc < 0) { ft_dataset_free(d); return -1; }
    if (!d->n_rec) {
        ft_err("%s: no record with a training target (%zu read, %zu without target, %zu empty)",
               path && strcmp(path, "-") ? path : "<stdin>", d->n_read, d->n_no_target, d->n_empty);
        ft_dataset_free(d);
        return -1;
    }
    return 0;
fail_rec:
    ftok_record_free(&rec);
fail:
    ftok_close(r);
    ft_dataset_free(d);
    return -1;
}

void ft_dataset_free(ft_dataset *d) {
    free(d->tokens);
    free(d->mask);
    free(d->off);
    free(d->name);
    memset(d, 0, sizeof *d);
}

int ft_batch_alloc(ft_batch *b, int B, int T) {
    memset(b, 0, sizeof *b);
    size_t n = (size_t)B * T;
    b->B = B;
    b->T = T;
    b->ids = ft_calloc(n, sizeof(int32_t));
    b->targets = ft_calloc(n, sizeof(int32_t));
    b->mask = ft_calloc(n, 1);
    b->pos = ft_calloc(n, sizeof(int32_t));
    b->doc = ft_calloc(n, sizeof(int32_t));
    if (!b->ids || !b->targets || !b->mask || !b->pos || !b->doc) {
        ft_batch_free(b);
        return -1;
    }
    return 0;
}

void ft_batch_free(ft_batch *b) {
    free(b->ids);
    free(b->targets);
    free(b->mask);
    free(b->pos);
    free(b->doc);
    memset(b, 0, sizeof *b);
}

static void make_order(const ft_loader *l, uint64_t epoch, uint32_t *order) {
    size_t n = l->d->n_rec;
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    if (!l->shuffle || n < 2) return;
    ft_rng r;
    ft_rng_seed(&r, l->seed * 0x9E3779B97F4A7C15ull + epoch + 1);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)ft_rng_below(&r, i + 1);
        uint32_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
}

int ft_loader_init(ft_loader *l, const ft_dataset *d, int T, int pack, int shuffle, uint64_t seed) {
    memset(l, 0, sizeof *l);
    if (d->n_rec > UINT32_MAX) return ft_err("%s: too many records (%zu)", d->name, d->n_rec);
    l->d = d;
    l->T = T;
    l->pack = pack;
    l->shuffle = shuffle;
    l->seed = seed;
    l->order = ft_malloc(d->n_rec * sizeof *l->order);
    if (!l->order) return -1;
    make_order(l, 0, l->order);
    return 0;
}

void ft_loader_free(ft_loader *l) {
    free(l->order);
    memset(l, 0, sizeof *l);
}

int ft_loader_seek(ft_loader *l, ft_data_pos pos) {
    if (pos.cursor > l->d->n_rec)
        return ft_err("data position %llu is past the %zu records of %s", (unsigned long long)pos.cursor,
                      l->d->n_rec, l->d->name);
    if (pos.epoch != l->pos.epoch) make_order(l, pos.epoch, l->order);
    l->pos = pos;
    return 0;
}

void ft_loader_next_epoch(ft_loader *l) {
    l->pos.epoch++;
    l->pos.cursor = 0;
    make_order(l, l->pos.epoch, l->order);
}

static uint32_t rec_len(const ft_dataset *d, uint32_t i) { return (uint32_t)(d->off[i + 1] - d->off[i]); }

// Records [cursor, end) that go into the next row.
static uint64_t row_end(const ft_loader *l, const uint32_t *order, uint64_t cursor) {
    uint64_t n = l->d->n_rec, used = 0;
    uint64_t c = cursor;
    while (c < n) {
        uint32_t len = rec_len(l->d, order[c]);
        if (used && (!l->pack || used + len > (uint64_t)l->T)) break;
        used += len;
        c++;
    }
    return c;
}

static ft_row batch_row(ft_batch *b, int i) {
    size_t o = (size_t)i * b->T;
    return ft_row_view(b->ids + o, b->targets + o, b->mask + o, b->pos + o, b->doc + o, b->T);
}

int ft_loader_fill(ft_loader *l, ft_batch *b) {
    const ft_dataset *d = l->d;
    for (int i = 0; i < b->B; i++) {
        ft_row r = batch_row(b, i);
        ft_row_clear(&r);
    }
    b->rows = 0;
    b->n_targets = b->n_tokens = 0;
    while (b->rows < b->B && l->pos.cursor < d->n_rec) {
        uint64_t end = row_end(l, l->order, l->pos.cursor);
        ft_row row = batch_row(b, b->rows);
        for (uint64_t c = l->pos.cursor; c < end; c++) {
            uint32_t r = l->order[c];
            ft_row_add(&row, d->tokens + d->off[r], d->mask + d->off[r], 0, rec_len(d, r));
        }
        b->n_targets += row.n_targets;
        b->n_tokens += (uint64_t)row.n;
        l->pos.cursor = end;
        b->rows++;
    }
    return b->rows;
}

uint64_t ft_loader_epoch_rows(const ft_loader *l, uint64_t epoch) {
    uint32_t *order = l->order;
    uint32_t *tmp = NULL;
    if (epoch != l->pos.epoch) {
        tmp = malloc(l->d->n_rec * sizeof *tmp);
        if (!tmp) return 0;
        make_order(l, epoch, tmp);
        order = tmp;
    }
    uint64_t rows = 0, c = 0;
    while (c < l->d->n_rec) {
        c = row_end(l, order, c);
        rows++;
    }
    free(tmp);
    return rows;
}
