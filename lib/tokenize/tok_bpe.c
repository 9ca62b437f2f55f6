// tok_bpe.c — the BPE merge engine: vocabulary hash map (string -> id), merge-rank hash map
// ((left, right) -> (rank, merged id)), a linked-list + binary-heap merge loop that applies
// the lowest-ranked pair first (leftmost on ties, as HF `tokenizers`), and a per-thread
// cache of word -> ids.
#include "tokenize/tok_internal.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

uint64_t tok_fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) { h ^= s[i]; h *= 0x100000001b3ull; }
    return h;
}

// Fast string hash (8 bytes at a time, multiply-xorshift mixing).
static uint64_t tok_hash(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    if (i < n) memcpy(&w, s + i, n - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h ? h : 1;
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

// ---- string map ------------------------------------------------------------------------------
int tok_strmap_build(tok_strmap *m, const char **keys, const uint32_t *lens, uint32_t n, const uint8_t *skip) {
    memset(m, 0, sizeof *m);
    size_t cap = 16;
    while (cap < (size_t)n * 2) cap <<= 1;
    m->slots = ft_calloc(cap, sizeof *m->slots);
    m->hashes = ft_calloc(cap, sizeof *m->hashes);
    if (!m->slots || !m->hashes) { tok_strmap_free(m); return -1; }
    m->cap = cap; m->keys = keys; m->lens = lens;
    for (uint32_t id = 0; id < n; id++) {
        if (!keys[id] || (skip && skip[id])) continue;
        uint64_t h = tok_hash(keys[id], lens[id]);
        size_t i = h & (cap - 1);
        int dup = 0;
        while (m->slots[i]) {
            uint32_t o = m->slots[i] - 1;
            if (m->hashes[i] == h && lens[o] == lens[id] && memcmp(keys[o], keys[id], lens[id]) == 0) { dup = 1; break; }
            i = (i + 1) & (cap - 1);
        }
        if (dup) continue;   // first id wins (HF keeps the last, but vocabularies with duplicates are rejected earlier)
        m->slots[i] = id + 1; m->hashes[i] = h; m->n++;
    }
    return 0;
}

int32_t tok_strmap_get(const tok_strmap *m, const char *s, size_t len) {
    if (!m->cap) return -1;
    uint64_t h = tok_hash(s, len);
    size_t i = h & (m->cap - 1);
    while (m->slots[i]) {
        uint32_t o = m->slots[i] - 1;
        if (m->hashes[i] == h && m->lens[o] == len && memcmp(m->keys[o], s, len) == 0) return (int32_t)o;
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

void tok_strmap_free(tok_strmap *m) {
    free(m->slots); free(m->hashes);
    memset(m, 0, sizeof *m);
}

// ---- pair map --------------------------------------------------------------------------------
int tok_pairmap_init(tok_pairmap *m, size_t n) {
    memset(m, 0, sizeof *m);
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    m->keys = ft_calloc(cap, sizeof *m->keys);
    m->rank = ft_malloc(cap * sizeof *m->rank);
    m->result = ft_malloc(cap * sizeof *m->result);
    if (!m->keys || !m->rank || !m->result) { tok_pairmap_free(m); return -1; }
    m->cap = cap;
    return 0;
}

// Keeps the first (lowest-rank) entry for a pair, as HF does when merges repeat.
int tok_pairmap_put(tok_pairmap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t result) {
    if (m->n * 2 >= m->cap) return ft_err("merge table full");
    uint64_t k = ((uint64_t)a << 32 | b) + 1;
    size_t i = mix64(k) & (m->cap - 1);
    while (m->keys[i]) {
        if (m->keys[i] == k) return 0;
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = k; m->rank[i] = rank; m->result[i] = result; m->n++;
    return 0;
}

int tok_pairmap_get(const tok_pairmap *m, uint32_t a, uint32_t b, uint32_t *rank, uint32_t *result) {
    if (!m->cap) return 0;
    uint64_t k = ((uint64_t)a << 32 | b) + 1;
    size_t i = mix64(k) & (m->cap - 1);
    while (m->keys[i]) {
        if (m->keys[i] == k) { *rank = m->rank[i]; *result = m->result[i]; return 1; }
        i = (i + 1) & (m->cap - 1);
    }
    return 0;
}

void tok_pairmap_free(tok_pairmap *m) {
    free(m->keys); free(m->rank); free(m->result);
    memset(m, 0, sizeof *m);
}

// ---- output ----------------------------------------------------------------------------------
int tok_ids_push(ft_tok_ids *o, uint32_t id, uint32_t off) {
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 256;
        uint32_t *a = ft_realloc(o->ids, nc * sizeof *a);
        if (!a) return -1;
        o->ids = a;
        uint32_t *b = ft_realloc(o->offs, nc * sizeof *b);
        if (!b) return -1;
        o->offs = b;
        o->cap = nc;
    }
    o->ids[o->n] = id; o->offs[o->n] = off; o->n++;
    return 0;
}

// ---- heap ------------------------------------------------------------------------------------
static inline int heap_less(const tok_heap_ent *a, const tok_heap_ent *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(tok_heap_ent *h, size_t *n, tok_heap_ent e) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(&e, &h[p])) break;
        h[i] = h[p]; i = p;
    }
    h[i] = e;
}

static tok_heap_ent heap_pop(tok_heap_ent *h, size_t *n) {
    tok_heap_ent top = h[0], last = h[--(*n)];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && heap_less(&h[c + 1], &h[c])) c++;
        if (!heap_less(&h[c], &last)) break;
        h[i] = h[c]; i = c;
    }
    if (m) h[i] = last;
    return top;
}

static void try_pair(const ft_tokenizer *t, tok_sym *s, int32_t l, tok_heap_ent *h, size_t *nh) {
    if (l < 0 || s[l].next < 0) return;
    int32_t r = s[l].next;
    uint32_t rank, res;
    if (tok_pairmap_get(&t->merges, s[l].id, s[r].id, &rank, &res))
        heap_push(h, nh, (tok_heap_ent){rank, l, s[l].id, s[r].id});
}

static int utf8_len(uint8_t c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1;
}

static int ws_grow(void **p, size_t *cap, size_t want, size_t elem) {
    if (*cap >= want) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < want) nc *= 2;
    void *q = ft_realloc(*p, nc * elem);
    if (!q) return -1;
    *p = q; *cap = nc;
    return 0;
}

// Merge loop on one word; appends (id, relative start) pairs to vals via push callback.
static int bpe_merge(const ft_tokenizer *t, ft_tok_ws *ws, const char *w, size_t n, uint32_t *tmp_ids,
                     uint32_t *tmp_offs, size_t *n_out) {
    if (ws_grow((void **)&ws->sym, &ws->cap_sym, n + 1, sizeof *ws->sym) ||
        ws_grow((void **)&ws->heap, &ws->cap_heap, 2 * n + 4, sizeof *ws->heap))
        return -1;
    tok_sym *s = ws->sym;
    int32_t ns = 0;
    uint32_t unk = t->unk >= 0 ? (uint32_t)t->unk : TOK_NONE;
    for (size_t i = 0; i < n;) {
        size_t cl = 1;
        uint32_t id = TOK_NONE;
        if (t->kind == TOK_BYTELEVEL) {
            id = t->byte_id[(uint8_t)w[i]];
        } else {
            cl = (size_t)utf8_len((uint8_t)w[i]);
            if (i + cl > n) cl = n - i;
            int32_t v = tok_strmap_get(&t->vocab, w + i, cl);
            if (v >= 0) id = (uint32_t)v;
            else if (t->byte_fallback) {
                int all = 1;
                for (size_t k = 0; k < cl; k++) if (t->byte_id[(uint8_t)w[i + k]] == TOK_NONE) all = 0;
                if (all) {
                    for (size_t k = 0; k < cl; k++)
                        s[ns] = (tok_sym){t->byte_id[(uint8_t)w[i + k]], (uint32_t)(i + k), 1, ns - 1, ns + 1}, ns++;
                    i += cl;
                    continue;
                }
            }
        }
        if (id == TOK_NONE) {
            if (unk == TOK_NONE) return ft_err("text has a character the vocabulary cannot encode (no unk token, no byte fallback)");
            if (t->fuse_unk && ns > 0 && s[ns - 1].id == unk) { s[ns - 1].len += (uint32_t)cl; i += cl; continue; }
            id = unk;
        }
        s[ns] = (tok_sym){id, (uint32_t)i, (uint32_t)cl, ns - 1, ns + 1};
        ns++;
        i += cl;
    }
    if (ns == 0) { *n_out = 0; return 0; }
    s[ns - 1].next = -1;
    size_t nh = 0;
    tok_heap_ent *h = ws->heap;
    for (int32_t i = 0; i + 1 < ns; i++) try_pair(t, s, i, h, &nh);
    while (nh) {
        tok_heap_ent e = heap_pop(h, &nh);
        tok_sym *l = &s[e.pos];
        if (l->len == 0 || l->next < 0 || l->id != e.left) continue;
        tok_sym *r = &s[l->next];
        if (r->id != e.right) continue;
        uint32_t rank, res;
        if (!tok_pairmap_get(&t->merges, e.left, e.right, &rank, &res)) continue;
        l->id = res;
        l->len += r->len;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = e.pos;
        if (nh + 2 > ws->cap_heap) {   // cannot happen (each merge removes a symbol) but stay safe
            if (ws_grow((void **)&ws->heap, &ws->cap_heap, nh + 2, sizeof *ws->heap)) return -1;
            h = ws->heap;
        }
        try_pair(t, s, l->prev, h, &nh);
        try_pair(t, s, e.pos, h, &nh);
    }
    size_t k = 0;
    for (int32_t i = 0; i >= 0; i = s[i].next) { tmp_ids[k] = s[i].id; tmp_offs[k] = s[i].start; k++; }
    *n_out = k;
    return 0;
}

// ---- word cache ------------------------------------------------------------------------------
#define CACHE_MAX_WORD 64
#define CACHE_MAX_ENTRIES (1u << 18)

static void cache_clear(ft_tok_ws *ws) {
    if (ws->cache) memset(ws->cache, 0, ws->cache_cap * sizeof *ws->cache);
    ws->cache_n = 0; ws->keys_n = 0; ws->vals_n = 0;
}

static tok_cache_ent *cache_find(ft_tok_ws *ws, const char *w, size_t n, uint64_t h) {
    if (!ws->cache) return NULL;
    size_t i = h & (ws->cache_cap - 1);
    while (ws->cache[i].hash) {
        tok_cache_ent *e = &ws->cache[i];
        if (e->hash == h && e->key_len == n && memcmp(ws->keys + e->key_off, w, n) == 0) return e;
        i = (i + 1) & (ws->cache_cap - 1);
    }
    return NULL;
}

static void cache_put(ft_tok_ws *ws, const char *w, size_t n, uint64_t h, const uint32_t *ids,
                      const uint32_t *offs, size_t k) {
    if (!ws->cache) {
        ws->cache = calloc(CACHE_MAX_ENTRIES * 2, sizeof *ws->cache);
        if (!ws->cache) return;
        ws->cache_cap = CACHE_MAX_ENTRIES * 2;
    }
    if (ws->cache_n >= CACHE_MAX_ENTRIES) cache_clear(ws);
    if (ws_grow((void **)&ws->keys, &ws->keys_cap, ws->keys_n + n, 1) ||
        ws_grow((void **)&ws->vals, &ws->vals_cap, ws->vals_n + 2 * k, sizeof *ws->vals)) {
        ft_err_clear();
        return;
    }
    size_t i = h & (ws->cache_cap - 1);
    while (ws->cache[i].hash) i = (i + 1) & (ws->cache_cap - 1);
    tok_cache_ent *e = &ws->cache[i];
    e->hash = h; e->key_off = (uint32_t)ws->keys_n; e->key_len = (uint32_t)n;
    e->val_off = (uint32_t)ws->vals_n; e->val_n = (uint32_t)k;
    memcpy(ws->keys + ws->keys_n, w, n); ws->keys_n += n;
    for (size_t j = 0; j < k; j++) { ws->vals[ws->vals_n++] = ids[j]; ws->vals[ws->vals_n++] = offs[j]; }
    ws->cache_n++;
}

static int bpe_word_one(const ft_tokenizer *t, ft_tok_ws *ws, const char *w, size_t n, ft_tok_ids *out,
                        const uint32_t *align);

// SentencePiece vocabularies have no token with a "▁" after another character, so no merge
// crosses such a point: long words are cut there (exactly the same result, and cacheable).
int tok_bpe_word(const ft_tokenizer *t, ft_tok_ws *ws, const char *w, size_t n, ft_tok_ids *out,
                 const uint32_t *align) {
    if (!t->spm_split || n <= 16) return bpe_word_one(t, ws, w, n, out, align);
    size_t a = 0;
    for (size_t i = 1; i + 3 <= n; i++) {
        if (memcmp(w + i, "\xE2\x96\x81", 3) == 0 && !(i >= 3 && memcmp(w + i - 3, "\xE2\x96\x81", 3) == 0)) {
            if (bpe_word_one(t, ws, w + a, i - a, out, align + a)) return -1;
            a = i;
        }
    }
    return bpe_word_one(t, ws, w + a, n - a, out, align + a);
}

static int bpe_word_one(const ft_tokenizer *t, ft_tok_ws *ws, const char *w, size_t n, ft_tok_ids *out,
                        const uint32_t *align) {
    if (n == 0) return 0;
    if (ws->owner != t) { cache_clear(ws); ws->owner = t; }
    if (t->ignore_merges) {
        int32_t v = tok_strmap_get(&t->vocab, w, n);
        if (v >= 0) return tok_ids_push(out, (uint32_t)v, align[0]);
    }
    uint64_t h = 0;
    if (n <= CACHE_MAX_WORD) {
        h = tok_hash(w, n);
        tok_cache_ent *e = cache_find(ws, w, n, h);
        if (e) {
            const uint32_t *v = ws->vals + e->val_off;
            for (uint32_t j = 0; j < e->val_n; j++)
                if (tok_ids_push(out, v[2 * j], align[v[2 * j + 1]])) return -1;
            return 0;
        }
    }
    // reserve room in out for up to n tokens and merge straight into its tail
    while (out->cap < out->n + n) {
        size_t keep = out->n;
        if (tok_ids_push(out, 0, 0)) return -1;
        out->n = keep;
        if (out->cap >= out->n + n) break;
        size_t nc = out->cap * 2;
        uint32_t *a = ft_realloc(out->ids, nc * sizeof *a);
        if (!a) return -1;
        out->ids = a;
        uint32_t *b = ft_realloc(out->offs, nc * sizeof *b);
        if (!b) return -1;
        out->offs = b;
        out->cap = nc;
    }
    size_t k = 0;
    uint32_t *ids = out->ids + out->n, *offs = out->offs + out->n;
    if (bpe_merge(t, ws, w, n, ids, offs, &k)) return -1;
    if (n <= CACHE_MAX_WORD) cache_put(ws, w, n, h, ids, offs, k);
    for (size_t j = 0; j < k; j++) offs[j] = align[offs[j]];
    out->n += k;
    return 0;
}
