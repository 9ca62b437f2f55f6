// metrics_ngram.h — internal: n-gram counting over id sequences (tokens or code points),
// shared by BLEU, chrF and ROUGE. Not part of the public metrics API.
#ifndef FT_METRICS_NGRAM_H
#define FT_METRICS_NGRAM_H

#include <stddef.h>
#include <stdint.h>

// The distinct n-grams of seq with their counts, in a hash table keyed by content (exact:
// equal hashes are confirmed by comparing the ids).
typedef struct {
    const int32_t *seq;   // (len) the sequence the positions point into
    int n;                // order
    size_t nu;            // number of distinct n-grams
    size_t *pos;          // (nu) start of the first occurrence of each
    uint32_t *cnt;        // (nu) occurrences
    uint64_t *hash;       // (nu) content hash
    uint32_t *slots;      // (cap) distinct index + 1, 0 = empty
    size_t cap;           // power of two, > 2 * nu
    size_t total;         // len - n + 1, or 0
} ft_ngrams;

int ft_ngrams_build(ft_ngrams *g, const int32_t *seq, size_t len, int n);
void ft_ngrams_free(ft_ngrams *g);
// Count of the n-gram key[0..g->n) in g (0 when absent).
uint32_t ft_ngrams_count(const ft_ngrams *g, const int32_t *key);
// Sum over the distinct n-grams of h of min(count in h, count in r).
size_t ft_ngrams_overlap(const ft_ngrams *h, const ft_ngrams *r);

#endif
