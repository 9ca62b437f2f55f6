// ftok.c — FTOK token stream reader and writer (see ftok.h, DESIGN.md §3).
#include "format/ftok.h"
#include "core/err.h"
#include "core/io.h"

#include <stdlib.h>
#include <string.h>

#define FTOK_MAX_TOKENS (1u << 30)   // a record longer than this is treated as corrupt
#define READ_CHUNK (1u << 20)        // tokens read per step, so a lying length cannot force a huge allocation

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void wr64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

void ftok_header_encode(const ftok_header *h, uint8_t out[FTOK_HEADER_SIZE]) {
    memset(out, 0, FTOK_HEADER_SIZE);
    memcpy(out, "FTOK", 4);
    wr16(out + 4, h->version);
    wr16(out + 6, h->flags);
    wr32(out + 8, h->vocab_size);
    wr64(out + 16, h->tokenizer_id);
}

int ftok_header_decode(const uint8_t in[FTOK_HEADER_SIZE], ftok_header *h, const char *name) {
    if (memcmp(in, "FTOK", 4) != 0) return ft_err("%s: not an FTOK token stream (bad magic)", name);
    h->version = rd16(in + 4);
    h->flags = rd16(in + 6);
    h->vocab_size = rd32(in + 8);
    h->tokenizer_id = rd64(in + 16);
    if (h->version != FTOK_VERSION) return ft_err("%s: unsupported FTOK version %u (this build reads version %u)", name, h->version, FTOK_VERSION);
    if (h->flags & ~(FTOK_FLAG_MASK | FTOK_FLAG_PAIRS | FTOK_FLAG_LABELS))
        return ft_err("%s: unknown FTOK header flags 0x%x (this build knows 0x1 mask, 0x2 preference pairs, 0x4 labels)", name, h->flags);
    if ((h->flags & FTOK_FLAG_PAIRS) && (h->flags & FTOK_FLAG_LABELS))
        return ft_err("%s: FTOK header flags 0x%x: preference pairs and labels exclude each other", name, h->flags);
    if (rd32(in + 12) != 0 || rd64(in + 24) != 0) return ft_err("%s: FTOK header reserved fields are not zero", name);
    return 0;
}

void ftok_record_free(ftok_record *r) {
    free(r->tokens);
    free(r->mask);
    memset(r, 0, sizeof *r);
}

uint32_t ftok_record_trained(const ftok_record *r) {
    if (!r->mask) return r->n;
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->n; i++) k += r->mask[i] != 0;
    return k;
}

struct ftok_reader {
    ft_reader *in;
    ftok_header h;
    uint64_t count;
    uint8_t *bits;
    size_t bits_cap;
};

ftok_reader *ftok_open(const char *path) {
    ft_reader *in = ft_reader_open(path);
    return in ? ftok_open_reader(in) : NULL;
}

ftok_reader *ftok_open_reader(ft_reader *in) {
    ftok_reader *r = ft_calloc(1, sizeof *r);
    if (!r) { ft_reader_close(in); return NULL; }
    r->in = in;
    uint8_t hb[FTOK_HEADER_SIZE];
    int k = ft_reader_read_exact(r->in, hb, sizeof hb);
    if (k == 0) ft_err("%s: empty input (expected an FTOK token stream)", ft_reader_name(r->in));
    if (k <= 0 || ftok_header_decode(hb, &r->h, ft_reader_name(r->in)) != 0) {
        if (k < 0) ft_err_ctx("%s: reading the FTOK header", ft_reader_name(r->in)), (void)0;
        ftok_close(r);
        return NULL;
    }
    return r;
}

const ftok_header *ftok_reader_header(const ftok_reader *r) { return &r->h; }
uint64_t ftok_reader_count(const ftok_reader *r) { return r->count; }
const char *ftok_reader_name(const ftok_reader *r) { return ft_reader_name(r->in); }

int ftok_next(ftok_reader *r, ftok_record *rec) {
    const char *name = ft_reader_name(r->in);
    uint8_t lb[8];
    for (;;) {
        int k = ft_reader_read_exact(r->in, lb, 8);
        if (k == 0) return 0;
        if (k < 0) return ft_err("%s: record %llu: truncated record header", name, (unsigned long long)r->count + 1);
        if (memcmp(lb, "FTOK", 4) != 0) break;
        // a repeated header (concatenated streams): must match the first
        uint8_t hb[FTOK_HEADER_SIZE];
        memcpy(hb, lb, 8);
        if (ft_reader_read_exact(r->in, hb + 8, FTOK_HEADER_SIZE - 8) != 1)
            return ft_err("%s: truncated FTOK header after record %llu", name, (unsigned long long)r->count);
        ftok_header h2;
        if (ftok_header_decode(hb, &h2, name) != 0) return -1;
        if (h2.flags != r->h.flags || h2.vocab_size != r->h.vocab_size || h2.tokenizer_id != r->h.tokenizer_id)
            return ft_err("%s: header after record %llu does not match the first (vocab %u vs %u, tokenizer %016llx vs %016llx, flags %u vs %u): streams from different tokenizers cannot be concatenated",
                          name, (unsigned long long)r->count, h2.vocab_size, r->h.vocab_size,
                          (unsigned long long)h2.tokenizer_id, (unsigned long long)r->h.tokenizer_id, h2.flags, r->h.flags);
    }
    uint64_t idx = r->count + 1;
    uint32_t n = rd32(lb), split = rd32(lb + 4);
    if (n > FTOK_MAX_TOKENS) return ft_err("%s: record %llu: implausible length %u tokens", name, (unsigned long long)idx, n);
    if (r->h.flags & FTOK_FLAG_PAIRS) {
        if (split == 0 || split >= n)
            return ft_err("%s: record %llu: preference pair of %u tokens whose chosen side has %u (each side needs at least one token; corrupt stream?)",
                          name, (unsigned long long)idx, n, split);
    } else if (r->h.flags & FTOK_FLAG_LABELS) {
        if (split > 1) return ft_err("%s: record %llu: label %u (expected 0 or 1; corrupt stream?)", name, (unsigned long long)idx, split);
    } else if (split != 0) {
        return ft_err("%s: record %llu: reserved field is not zero (corrupt stream?)", name, (unsigned long long)idx);
    }
    int has_mask = (r->h.flags & FTOK_FLAG_MASK) != 0;
    // read tokens in chunks, growing the buffer only as bytes actually arrive
    uint32_t got = 0;
    while (got < n) {
        uint32_t want = n - got < READ_CHUNK ? n - got : READ_CHUNK;
        if (got + want > rec->cap) {
            size_t cap = rec->cap ? rec->cap : 1024;
            while (cap < (size_t)got + want) cap *= 2;
            uint32_t *t = ft_realloc(rec->tokens, cap * sizeof *t);
            if (!t) return -1;
            rec->tokens = t;
            uint8_t *m = ft_realloc(rec->mask, cap);
            if (!m) return -1;
            rec->mask = m;
            rec->cap = cap;
        }
        if (ft_reader_read_exact(r->in, rec->tokens + got, (size_t)want * 4) != 1)
            return ft_err("%s: record %llu: truncated (expected %u tokens)", name, (unsigned long long)idx, n);
        got += want;
    }
    if (!rec->tokens) {   // n == 0: keep pointers valid
        rec->tokens = ft_malloc(4);
        rec->mask = ft_malloc(1);
        if (!rec->tokens || !rec->mask) return -1;
        rec->cap = 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = rd32((const uint8_t *)&rec->tokens[i]);
        if (r->h.vocab_size && t >= r->h.vocab_size)
            return ft_err("%s: record %llu: token %u at position %u is outside the vocabulary (size %u)", name, (unsigned long long)idx, t, i, r->h.vocab_size);
        rec->tokens[i] = t;
    }
    if (has_mask) {
        size_t nb = ((size_t)n + 7) / 8, padded = (nb + 3) & ~(size_t)3;
        if (padded > r->bits_cap) {
            uint8_t *b = ft_realloc(r->bits, padded);
            if (!b) return -1;
            r->bits = b;
            r->bits_cap = padded;
        }
        if (padded && ft_reader_read_exact(r->in, r->bits, padded) != 1)
            return ft_err("%s: record %llu: truncated loss mask", name, (unsigned long long)idx);
        for (uint32_t i = 0; i < n; i++) rec->mask[i] = (r->bits[i >> 3] >> (i & 7)) & 1;
    } else {
        memset(rec->mask, 1, n);
    }
    rec->n = n;
    rec->split = (r->h.flags & FTOK_FLAG_PAIRS) ? split : 0;
    rec->label = (r->h.flags & FTOK_FLAG_LABELS) ? split : 0;
    r->count++;
    return 1;
}

void ftok_close(ftok_reader *r) {
    if (!r) return;
    ft_reader_close(r->in);
    free(r->bits);
    free(r);
}

struct ftok_writer {
    ft_writer *out;
    ftok_header h;
    uint8_t *bits;
    size_t bits_cap;
};

ftok_writer *ftok_writer_open(const char *path, const ftok_header *h) {
    ftok_writer *w = ft_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->h = *h;
    w->h.version = FTOK_VERSION;
    w->out = ft_writer_open(path);
    if (!w->out) { free(w); return NULL; }
    uint8_t hb[FTOK_HEADER_SIZE];
    ftok_header_encode(&w->h, hb);
    if (ft_writer_write(w->out, hb, sizeof hb)) { ftok_writer_abort(w); return NULL; }
    return w;
}

static int write_rec(ftok_writer *w, const uint32_t *tokens, const uint8_t *mask, uint32_t n, uint32_t split);

int ftok_write(ftok_writer *w, const uint32_t *tokens, const uint8_t *mask, uint32_t n) {
    if (w->h.flags & (FTOK_FLAG_PAIRS | FTOK_FLAG_LABELS))
        return ft_err("%s: a %s stream takes %s only", ft_writer_name(w->out), (w->h.flags & FTOK_FLAG_PAIRS) ? "preference-pair" : "labelled",
                      (w->h.flags & FTOK_FLAG_PAIRS) ? "pairs (ftok_write_pair)" : "labelled records (ftok_write_labeled)");
    return write_rec(w, tokens, mask, n, 0);
}

int ftok_write_labeled(ftok_writer *w, const uint32_t *tokens, const uint8_t *mask, uint32_t n, uint32_t label) {
    if (!(w->h.flags & FTOK_FLAG_LABELS))
        return ft_err("%s: a labelled record written to a stream without the labels flag", ft_writer_name(w->out));
    if (label > 1) return ft_err("%s: label %u (expected 0 or 1)", ft_writer_name(w->out), label);
    return write_rec(w, tokens, mask, n, label);
}

int ftok_write_pair(ftok_writer *w, const uint32_t *tokens, const uint8_t *mask, uint32_t n, uint32_t split) {
    if (!(w->h.flags & FTOK_FLAG_PAIRS))
        return ft_err("%s: a preference pair written to a stream without the pairs flag", ft_writer_name(w->out));
    if (split == 0 || split >= n)
        return ft_err("%s: preference pair of %u tokens with a chosen side of %u (each side needs a token)", ft_writer_name(w->out), n, split);
    return write_rec(w, tokens, mask, n, split);
}

static int write_rec(ftok_writer *w, const uint32_t *tokens, const uint8_t *mask, uint32_t n, uint32_t split) {
    uint8_t lb[8];
    wr32(lb, n);
    wr32(lb + 4, split);
    if (ft_writer_write(w->out, lb, 8)) return -1;
    for (uint32_t i = 0; i < n; i++) {
        if (w->h.vocab_size && tokens[i] >= w->h.vocab_size)
            return ft_err("%s: token %u at position %u is outside the vocabulary (size %u)", ft_writer_name(w->out), tokens[i], i, w->h.vocab_size);
        uint8_t tb[4];
        wr32(tb, tokens[i]);
        if (ft_writer_write(w->out, tb, 4)) return -1;
    }
    if (w->h.flags & FTOK_FLAG_MASK) {
        size_t nb = ((size_t)n + 7) / 8, padded = (nb + 3) & ~(size_t)3;
        if (padded > w->bits_cap) {
            uint8_t *b = ft_realloc(w->bits, padded);
            if (!b) return -1;
            w->bits = b;
            w->bits_cap = padded;
        }
        if (padded) {   // n == 0: no mask bytes (and w->bits may still be NULL)
            memset(w->bits, 0, padded);
            for (uint32_t i = 0; i < n; i++)
                if (!mask || mask[i]) w->bits[i >> 3] |= (uint8_t)(1u << (i & 7));
            if (ft_writer_write(w->out, w->bits, padded)) return -1;
        }
    }
    return 0;
}

int ftok_writer_flush(ftok_writer *w) { return ft_writer_flush(w->out); }

int ftok_writer_commit(ftok_writer *w) {
    int rc = ft_writer_commit(w->out);
    free(w->bits);
    free(w);
    return rc;
}

void ftok_writer_abort(ftok_writer *w) {
    if (!w) return;
    ft_writer_abort(w->out);
    free(w->bits);
    free(w);
}
