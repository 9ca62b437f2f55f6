// metrics_ngram.c — exact n-gram counting: an open-addressing table of the distinct n-grams
// of a sequence (hash of the ids, confirmed by comparing them), their counts, lookups and the
// clipped overlap of two tables.
#include "eval/metrics_ngram.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static uint64_t hash_ngram(const int32_t *s, int n) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
    for (int k = 0; k < n; k++) {
        h ^= (uint32_t)s[k];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

static int same(const int32_t *a, const int32_t *b, int n) { return memcmp(a, b, (size_t)n * sizeof *a) == 0; }

// Index of key in g, or -1.
static long find(const ft_ngrams *g, const int32_t *key, uint64_t h) {
    if (!g->cap) return -1;
    for (size_t j = h & (g->cap - 1);; j = (j + 1) & (g->cap - 1)) {
        uint32_t s = g->slots[j];
        if (!s) return -1;
        if (g->hash[s - 1] == h && same(g->seq + g->pos[s - 1], key, g->n)) return (long)(s - 1);
    }
}

int ft_ngrams_build(ft_ngrams *g, const int32_t *seq, size_t len, int n) {
    memset(g, 0, sizeof *g);
    g->seq = seq;
    g->n = n;
    g->total = len >= (size_t)n ? len - (size_t)n + 1 : 0;
    if (g->total == 0) return 0;
    g->cap = 16;
    while (g->cap < 2 * g->total + 2) g->cap *= 2;
    g->pos = ft_malloc(g->total * sizeof *g->pos);
    g->cnt = ft_malloc(g->total * sizeof *g->cnt);
    g->hash = ft_malloc(g->total * sizeof *g->hash);
    g->slots = ft_calloc(g->cap, sizeof *g->slots);
    if (!g->pos || !g->cnt || !g->hash || !g->slots) { ft_ngrams_free(g); return -1; }
    for (size_t i = 0; i < g->total; i++) {
        uint64_t h = hash_ngram(seq + i, n);
        size_t j = h & (g->cap - 1);
        for (;; j = (j + 1) & (g->cap - 1)) {
            uint32_t s = g->slots[j];
            if (!s) break;
            if (g->hash[s - 1] == h && same(seq + g->pos[s - 1], seq + i, n)) break;
        }
        if (g->slots[j]) { g->cnt[g->slots[j] - 1]++; continue; }
        g->pos[g->nu] = i;
        g->cnt[g->nu] = 1;
        g->hash[g->nu] = h;
        g->slots[j] = (uint32_t)(++g->nu);
    }
    return 0;
}

void ft_ngrams_free(ft_ngrams *g) {
    free(g->pos);
    free(g->cnt);
    free(g->hash);
    free(g->slots);
    memset(g, 0, sizeof *g);
}

uint32_t ft_ngrams_count(const ft_ngrams *g, const int32_t *key) {
    long u = find(g, key, hash_ngram(key, g->n));
    return u < 0 ? 0 : g->cnt[u];
}

size_t ft_ngrams_overlap(const ft_ngrams *h, const ft_ngrams *r) {
    size_t m = 0;
    for (size_t u = 0; u < h->nu; u++) {
        long v = find(r, h->seq + h->pos[u], h->hash[u]);
        if (v >= 0) m += h->cnt[u] < r->cnt[v] ? h->cnt[u] : r->cnt[v];
    }
    return m;
}
