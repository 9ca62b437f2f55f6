// metrics_ngram.c — exact n-gram counting by sorting start positions (no hashing, so no
// collisions): the distinct n-grams of a sequence with counts, lookup and clipped overlap.
#include "metrics_ngram.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

static int cmp_ngram(const int32_t *a, const int32_t *b, int n) {
    for (int k = 0; k < n; k++)
        if (a[k] != b[k]) return a[k] < b[k] ? -1 : 1;
    return 0;
}

static int cmp_pos(const void *x, const void *y, void *ctx) {
    const ft_ngrams *g = ctx;
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    int c = cmp_ngram(g->seq + a, g->seq + b, g->n);
    if (c) return c;
    return (a > b) - (a < b);
}

int ft_ngrams_build(ft_ngrams *g, const int32_t *seq, size_t len, int n) {
    memset(g, 0, sizeof *g);
    g->seq = seq;
    g->n = n;
    g->total = len >= (size_t)n ? len - (size_t)n + 1 : 0;
    g->pos = ft_malloc((g->total + 1) * sizeof *g->pos);
    g->cnt = ft_malloc((g->total + 1) * sizeof *g->cnt);
    if (!g->pos || !g->cnt) { ft_ngrams_free(g); return -1; }
    for (size_t i = 0; i < g->total; i++) g->pos[i] = i;
    qsort_r(g->pos, g->total, sizeof *g->pos, cmp_pos, g);
    size_t u = 0;
    for (size_t i = 0; i < g->total; i++) {
        if (u > 0 && cmp_ngram(seq + g->pos[u - 1], seq + g->pos[i], n) == 0) { g->cnt[u - 1]++; continue; }
        g->pos[u] = g->pos[i];
        g->cnt[u] = 1;
        u++;
    }
    g->nu = u;
    return 0;
}

void ft_ngrams_free(ft_ngrams *g) {
    free(g->pos);
    free(g->cnt);
    g->pos = NULL;
    g->cnt = NULL;
    g->nu = 0;
}

uint32_t ft_ngrams_count(const ft_ngrams *g, const int32_t *key) {
    size_t lo = 0, hi = g->nu;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_ngram(g->seq + g->pos[mid], key, g->n);
        if (c == 0) return g->cnt[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

size_t ft_ngrams_overlap(const ft_ngrams *h, const ft_ngrams *r) {
    // both sorted: merge
    size_t i = 0, j = 0, m = 0;
    while (i < h->nu && j < r->nu) {
        int c = cmp_ngram(h->seq + h->pos[i], r->seq + r->pos[j], h->n);
        if (c == 0) { m += h->cnt[i] < r->cnt[j] ? h->cnt[i] : r->cnt[j]; i++; j++; }
        else if (c < 0) i++;
        else j++;
    }
    return m;
}
