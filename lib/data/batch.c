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

// Append tokens/mask [0, n) of one side as the next record (truncated to seq_len by the caller).
static int add_record(ft_dataset *d, const uint32_t *tok, const uint8_t *mask, uint32_t n, uint64_t targets, size_t *cap_tok,
                      size_t *cap_mask, size_t *cap_off) {
    if (grow((void **)&d->tokens, cap_tok, d->n_tokens + n, sizeof *d->tokens)) return -1;
    if (grow((void **)&d->mask, cap_mask, d->n_tokens + n, 1)) return -1;
    if (grow((void **)&d->off, cap_off, d->n_rec + 2, sizeof *d->off)) return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = tok[i];
        d->tokens[d->n_tokens + i] = t;
        d->mask[d->n_tokens + i] = mask ? (mask[i] != 0) : 1;
        if (t > d->max_token) d->max_token = t;
    }
    d->n_tokens += n;
    d->n_targets += targets;
    d->off[++d->n_rec] = d->n_tokens;
    return 0;
}

int ft_dataset_load(ft_dataset *d, const char *path, int seq_len) { return ft_dataset_open(d, path, seq_len, 0); }

int ft_dataset_open(ft_dataset *d, const char *path, int seq_len, int kind) {
    int pairs = kind == FT_DATA_PAIRS;
    memset(d, 0, sizeof *d);
    if (seq_len < 2) return ft_err("seq-len must be at least 2 (got %d)", seq_len);
    ftok_reader *r = ftok_open(path);
    if (!r) return -1;
    d->name = ft_strdup(ftok_reader_name(r));
    const ftok_header *h = ftok_reader_header(r);
    d->vocab_size = h->vocab_size;
    d->tokenizer_id = h->tokenizer_id;
    d->pairs = pairs;
    int is_kind = (h->flags & FTOK_FLAG_PAIRS) ? FT_DATA_PAIRS : (h->flags & FTOK_FLAG_LABELS) ? FT_DATA_LABELED : FT_DATA_PLAIN;
    if (is_kind != kind) {
        if (is_kind == FT_DATA_LABELED || kind == FT_DATA_LABELED)
            ft_err(is_kind == FT_DATA_LABELED
                       ? "%s: a labelled stream (FTOK labels flag: ft-tokenize of {\"prompt\",\"completion\",\"label\"} records); "
                         "it trains with --objective kto"
                       : "%s: not a labelled stream (no FTOK labels flag): --objective kto trains on {\"prompt\",\"completion\",\"label\"} "
                         "records through ft-template and ft-tokenize",
                   ftok_reader_name(r));
        else if (is_kind == FT_DATA_PAIRS)
            ft_err("%s: a preference-pair stream (FTOK pairs flag: ft-tokenize of {\"prompt\",\"chosen\",\"rejected\"} "
                   "records); it trains with a preference objective (--objective dpo, simpo or orpo), not sft",
                   ftok_reader_name(r));
        else
            ft_err("%s: not a preference-pair stream (no FTOK pairs flag): a preference objective trains on "
                   "{\"prompt\",\"chosen\",\"rejected\"} records through ft-template and ft-tokenize",
                   ftok_reader_name(r));
        ftok_close(r);
        ft_dataset_free(d);
        return -1;
    }
    size_t cap_tok = 0, cap_mask = 0, cap_off = 0, cap_label = 0;
    if (grow((void **)&d->off, &cap_off, 1, sizeof *d->off)) goto fail;
    d->off[0] = 0;
    ftok_record rec = {0};
    int rc;
    while ((rc = ftok_next(r, &rec)) == 1) {
        d->n_read++;
        if (pairs) {   // two sides, each truncated on its own; both need a target
            uint32_t n[2] = {rec.split, rec.n - rec.split}, at[2] = {0, rec.split};
            uint64_t tg[2];
            int cut = 0;
            for (int s = 0; s < 2; s++) {
                if (n[s] > (uint32_t)seq_len) { n[s] = (uint32_t)seq_len; cut = 1; }
                tg[s] = ft_record_targets(rec.mask + at[s], n[s]);
            }
            d->n_truncated += (size_t)cut;
            if (!tg[0] || !tg[1]) { d->n_no_target++; continue; }
            for (int s = 0; s < 2; s++)
                if (add_record(d, rec.tokens + at[s], rec.mask + at[s], n[s], tg[s], &cap_tok, &cap_mask, &cap_off))
                    goto fail_rec;
            continue;
        }
        uint32_t n = rec.n;
        if (n == 0) { d->n_empty++; continue; }
        if (n > (uint32_t)seq_len) { n = (uint32_t)seq_len; d->n_truncated++; }
        uint64_t targets = ft_record_targets(rec.mask, n);
        if (!targets) { d->n_no_target++; continue; }
        if (add_record(d, rec.tokens, rec.mask, n, targets, &cap_tok, &cap_mask, &cap_off)) goto fail_rec;
        if (kind == FT_DATA_LABELED) {
            if (grow((void **)&d->label, &cap_label, d->n_rec, 1)) goto fail_rec;
            d->label[d->n_rec - 1] = (uint8_t)rec.label;
        }
    }
    ftok_record_free(&rec);
    ftok_close(r);
    if (rc < 0) { ft_dataset_free(d); return -1; }
    d->n_units = pairs ? d->n_rec / 2 : d->n_rec;
    if (!d->n_rec) {
        ft_err("%s: no %s with a training target (%zu read, %zu without target, %zu empty)",
               path && strcmp(path, "-") ? path : "<stdin>", pairs ? "pair" : "record", d->n_read, d->n_no_target, d->n_empty);
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
    free(d->label);
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
    b->seq = ft_calloc(n, sizeof(int32_t));
    b->seq_cap = (int)(n / 2 + 1);   // a sequence has >= 2 positions (a target needs a token before it)
    b->seq_rec = ft_calloc((size_t)b->seq_cap, sizeof(uint32_t));
    b->seq_targets = ft_calloc((size_t)b->seq_cap, sizeof(uint32_t));
    if (!b->ids || !b->targets || !b->mask || !b->pos || !b->doc || !b->seq || !b->seq_rec || !b->seq_targets) {
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
    free(b->seq);
    free(b->seq_rec);
    free(b->seq_targets);
    memset(b, 0, sizeof *b);
}

static void make_order(const ft_loader *l, uint64_t epoch, uint32_t *order) {
    size_t n = l->d->n_units;
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
    if (d->pairs && T < 2) return ft_err("%s: rows of %d positions cannot hold a pair", d->name, T);
    l->d = d;
    l->T = T;
    l->pack = pack;
    l->shuffle = shuffle;
    l->seed = seed;
    l->order = ft_malloc((d->n_units ? d->n_units : 1) * sizeof *l->order);
    if (!l->order) return -1;
    make_order(l, 0, l->order);
    return 0;
}

void ft_loader_free(ft_loader *l) {
    free(l->order);
    memset(l, 0, sizeof *l);
}

int ft_loader_seek(ft_loader *l, ft_data_pos pos) {
    if (pos.cursor > l->d->n_units)
        return ft_err("data position %llu is past the %zu %s of %s", (unsigned long long)pos.cursor,
                      l->d->n_units, l->d->pairs ? "pairs" : "records", l->d->name);
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

// Place record r as the next document of row `row` and the next sequence of b.
static void place(ft_batch *b, ft_row *row, int row_i, const ft_dataset *d, uint32_t r) {
    int at = row->n, s = b->n_seq++;
    uint64_t t = ft_row_add(row, d->tokens + d->off[r], d->mask + d->off[r], 0, rec_len(d, r));
    int32_t *sq = b->seq + (size_t)row_i * b->T;
    for (int k = at; k < row->n; k++) sq[k] = s;
    b->seq_rec[s] = r;
    b->seq_targets[s] = (uint32_t)t;
}

void ft_batch_clear(ft_batch *b) {
    for (int i = 0; i < b->B; i++) {
        ft_row r = batch_row(b, i);
        ft_row_clear(&r);
    }
    for (size_t i = 0; i < (size_t)b->B * b->T; i++) b->seq[i] = -1;
    b->rows = 0;
    b->n_seq = 0;
    b->n_targets = b->n_tokens = 0;
}

// Pairs: where the two sides of the pair at `cursor` go, given the rows used so far (*rows,
// the last of which has *used positions). 0 = placed (rows/used updated, and written into b
// when b != NULL), 1 = it does not fit in the B rows.
static int place_pair(const ft_loader *l, const uint32_t *order, uint64_t cursor, int B, int *rows, int *used, ft_batch *b) {
    const ft_dataset *d = l->d;
    uint32_t r0 = 2 * order[cursor];
    int rw = *rows, us = *used, at[2];
    for (int s = 0; s < 2; s++) {
        int len = (int)rec_len(d, r0 + (uint32_t)s);
        if (!l->pack || rw == 0 || us + len > l->T) { rw++; us = 0; }
        at[s] = rw - 1;
        us += len;
    }
    if (rw > B) return 1;
    if (b)
        for (int s = 0; s < 2; s++) {
            ft_row row = batch_row(b, at[s]);
            row.n = 0;
            while (row.n < b->T && b->seq[(size_t)at[s] * b->T + row.n] >= 0) row.n++;   // the row's filled part
            row.n_docs = 0;
            for (int k = 0; k < row.n; k++) row.n_docs = b->doc[(size_t)at[s] * b->T + k] + 1;
            place(b, &row, at[s], d, r0 + (uint32_t)s);
            b->n_targets += b->seq_targets[b->n_seq - 1];
            b->n_tokens += rec_len(d, r0 + (uint32_t)s);
        }
    *rows = rw;
    *used = us;
    return 0;
}

int ft_loader_fill(ft_loader *l, ft_batch *b) {
    const ft_dataset *d = l->d;
    ft_batch_clear(b);
    if (d->pairs) {
        int rows = 0, used = 0;
        while (l->pos.cursor < d->n_units && !place_pair(l, l->order, l->pos.cursor, b->B, &rows, &used, b)) l->pos.cursor++;
        b->rows = rows;
        return rows;
    }
    while (b->rows < b->B && l->pos.cursor < d->n_rec) {
        uint64_t end = row_end(l, l->order, l->pos.cursor);
        ft_row row = batch_row(b, b->rows);
        for (uint64_t c = l->pos.cursor; c < end; c++) place(b, &row, b->rows, d, l->order[c]);
        b->n_targets += row.n_targets;
        b->n_tokens += (uint64_t)row.n;
        l->pos.cursor = end;
        b->rows++;
    }
    return b->rows;
}

int ft_batch_add(ft_batch *b, const uint32_t *tokens, const uint8_t *mask, uint32_t n, int pack, uint32_t rec) {
    if (n > (uint32_t)b->T || b->n_seq >= b->seq_cap) return 1;
    int r = b->rows - 1, used = 0;
    if (r >= 0) while (used < b->T && b->seq[(size_t)r * b->T + used] >= 0) used++;
    if (r < 0 || !pack || used + (int)n > b->T) {
        if (b->rows >= b->B) return 1;
        r = b->rows++;
        used = 0;
    }
    ft_row row = batch_row(b, r);
    row.n = used;
    row.n_docs = used ? b->doc[(size_t)r * b->T + used - 1] + 1 : 0;
    int s = b->n_seq++;
    uint64_t t = ft_row_add(&row, tokens, mask, 0, n);
    for (int k = used; k < row.n; k++) b->seq[(size_t)r * b->T + k] = s;
    b->seq_rec[s] = rec;
    b->seq_targets[s] = (uint32_t)t;
    b->n_targets += t;
    b->n_tokens += n;
    return 0;
}

int ft_loader_epoch_over(const ft_loader *l) { return l->pos.cursor >= l->d->n_units; }

// Rows (B = 0) or micro-batches of B rows of epoch `epoch`.
static uint64_t epoch_count(const ft_loader *l, uint64_t epoch, int B) {
    uint32_t *order = l->order;
    uint32_t *tmp = NULL;
    if (epoch != l->pos.epoch) {
        tmp = malloc((l->d->n_units ? l->d->n_units : 1) * sizeof *tmp);
        if (!tmp) return 0;
        make_order(l, epoch, tmp);
        order = tmp;
    }
    uint64_t count = 0, c = 0;
    if (l->d->pairs) {   // micro-batches as ft_loader_fill makes them (rows: their rows)
        int cap = B > 0 ? B : 1 << 30;
        while (c < l->d->n_units) {
            int rows = 0, used = 0;
            uint64_t c0 = c;
            while (c < l->d->n_units && !place_pair(l, order, c, cap, &rows, &used, NULL)) c++;
            if (c == c0) break;   // a pair that fits in no micro-batch (B < 2 without packing)
            count += B > 0 ? 1 : (uint64_t)rows;
        }
    } else {
        while (c < l->d->n_rec) {
            c = row_end(l, order, c);
            count++;
        }
        if (B > 0) count = (count + (uint64_t)B - 1) / (uint64_t)B;
    }
    free(tmp);
    return count;
}

uint64_t ft_loader_epoch_rows(const ft_loader *l, uint64_t epoch) { return epoch_count(l, epoch, 0); }
uint64_t ft_loader_epoch_batches(const ft_loader *l, uint64_t epoch, int B) { return epoch_count(l, epoch, B); }
