// filter_dedup.c — hash sets for exact dedup, word units and n-gram hashes, and MinHash with
// LSH banding for near-duplicate detection (see filter.h).
#include "data/filter.h"
#include "core/err.h"
#include "core/hash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- 128-bit set ---------------------------------------------------------------------------
static int hset128_grow(ft_hset128 *s) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *k = ft_calloc(cap, 2 * sizeof *k);
    if (!k) return -1;
    for (size_t i = 0; i < s->cap; i++) {
        const uint64_t *e = s->k + 2 * i;
        if (!e[0] && !e[1]) continue;
        size_t j = e[0] & (cap - 1);
        while (k[2 * j] || k[2 * j + 1]) j = (j + 1) & (cap - 1);
        k[2 * j] = e[0];
        k[2 * j + 1] = e[1];
    }
    free(s->k);
    s->k = k;
    s->cap = cap;
    return 0;
}

int ft_hset128_add(ft_hset128 *s, const uint64_t h[2]) {
    if ((s->n + 1) * 2 > s->cap && hset128_grow(s)) return -1;
    uint64_t a = h[0], b = h[1];
    if (!a && !b) b = 1;
    size_t j = a & (s->cap - 1);
    for (;;) {
        uint64_t *e = s->k + 2 * j;
        if (!e[0] && !e[1]) {
            e[0] = a;
            e[1] = b;
            s->n++;
            return 1;
        }
        if (e[0] == a && e[1] == b) return 0;
        j = (j + 1) & (s->cap - 1);
    }
}

void ft_hset128_free(ft_hset128 *s) {
    free(s->k);
    memset(s, 0, sizeof *s);
}

// ---- 64-bit map ----------------------------------------------------------------------------
static size_t slot_of(uint64_t key, size_t cap) { return ft_mix64(key) & (cap - 1); }

static int hmap64_grow(ft_hmap64 *m, int with_values) {
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint64_t *k = ft_calloc(cap, sizeof *k);
    uint32_t *v = with_values ? ft_calloc(cap, sizeof *v) : NULL;
    if (!k || (with_values && !v)) { free(k); free(v); return -1; }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->k[i]) continue;
        size_t j = slot_of(m->k[i], cap);
        while (k[j]) j = (j + 1) & (cap - 1);
        k[j] = m->k[i];
        if (v) v[j] = m->v[i];
    }
    free(m->k);
    free(m->v);
    m->k = k;
    m->v = v;
    m->cap = cap;
    return 0;
}

static size_t hmap64_find(const ft_hmap64 *m, uint64_t key, int *found) {
    size_t j = slot_of(key, m->cap);
    while (m->k[j] && m->k[j] != key) j = (j + 1) & (m->cap - 1);
    *found = m->k[j] == key;
    return j;
}

int ft_hmap64_put(ft_hmap64 *m, uint64_t key, uint32_t v) {
    if (!key) key = 1;
    int with_values = !m->set_only;
    if ((m->n + 1) * 2 > m->cap && hmap64_grow(m, with_values)) return -1;
    int found;
    size_t j = hmap64_find(m, key, &found);
    if (found) return 0;
    m->k[j] = key;
    if (m->v) m->v[j] = v;
    m->n++;
    return 1;
}

int ft_hmap64_get(const ft_hmap64 *m, uint64_t key, uint32_t *v) {
    if (!m->cap) return 0;
    if (!key) key = 1;
    int found;
    size_t j = hmap64_find(m, key, &found);
    if (found && v) *v = m->v ? m->v[j] : 0;
    return found;
}

uint32_t *ft_hmap64_slot(ft_hmap64 *m, uint64_t key) {
    if (!m->cap || !m->v) return NULL;
    if (!key) key = 1;
    int found;
    size_t j = hmap64_find(m, key, &found);
    return found ? &m->v[j] : NULL;
}

void ft_hmap64_free(ft_hmap64 *m) {
    free(m->k);
    free(m->v);
    memset(m, 0, sizeof *m);
}

// ---- words and n-grams ---------------------------------------------------------------------
static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static int is_ascii_punct(unsigned char c) { return c < 0x80 && c > 0x20 && !(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }

#define UNIT_SEED 0x5eedf11e0001ULL

long ft_text_units(const char *s, size_t n, uint64_t **units, size_t *cap) {
    size_t count = 0, i = 0;
    char buf[256];
    while (i < n) {
        while (i < n && is_space((unsigned char)s[i])) i++;
        if (i >= n) break;
        // hash the normalised word incrementally in chunks of buf
        uint64_t h = 0;
        size_t blen = 0, total = 0;
        while (i < n && !is_space((unsigned char)s[i])) {
            unsigned char c = (unsigned char)s[i++];
            if (is_ascii_punct(c)) continue;
            if (c >= 'A' && c <= 'Z') c |= 0x20;
            buf[blen++] = (char)c;
            total++;
            if (blen == sizeof buf) {
                h = ft_hash64(buf, blen, h ^ UNIT_SEED);
                blen = 0;
            }
        }
        if (!total) continue;
        h = ft_hash64(buf, blen, h ^ UNIT_SEED);
        if (count == *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            uint64_t *u = ft_realloc(*units, nc * sizeof *u);
            if (!u) return -1;
            *units = u;
            *cap = nc;
        }
        (*units)[count++] = h;
    }
    return (long)count;
}

size_t ft_text_words(const char *s, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && is_space((unsigned char)s[i])) i++;
        if (i >= n) break;
        w++;
        while (i < n && !is_space((unsigned char)s[i])) i++;
    }
    return w;
}

size_t ft_ngram_hashes(const uint64_t *units, size_t n, int k, uint64_t seed, uint64_t *out) {
    if (k <= 0 || n < (size_t)k) return 0;
    size_t m = n - (size_t)k + 1;
    for (size_t i = 0; i < m; i++) out[i] = ft_hash64(units + i, (size_t)k * sizeof *units, seed);
    return m;
}

// ---- MinHash / LSH -------------------------------------------------------------------------
double ft_lsh_prob(double s, int bands, int rows) { return 1.0 - pow(1.0 - pow(s, rows), bands); }

static double integrate(double lo, double hi, int b, int r, int fp) {
    const int steps = 1000;
    double h = (hi - lo) / steps, acc = 0;
    for (int i = 0; i < steps; i++) {
        double s = lo + (i + 0.5) * h, p = ft_lsh_prob(s, b, r);
        acc += (fp ? p : 1.0 - p) * h;
    }
    return acc;
}

void ft_lsh_params(double threshold, int num_perm, int *bands, int *rows) {
    double best = INFINITY;
    *bands = 1;
    *rows = num_perm;
    for (int b = 1; b <= num_perm; b++) {
        for (int r = 1; b * r <= num_perm; r++) {
            double err = 0.5 * integrate(0, threshold, b, r, 1) + 0.5 * integrate(threshold, 1, b, r, 0);
            if (err < best) {
                best = err;
                *bands = b;
                *rows = r;
            }
        }
    }
}

int ft_minhash_init(ft_minhash *m, double threshold, int num_perm, int shingle, uint64_t seed) {
    memset(m, 0, sizeof *m);
    if (num_perm < 2 || num_perm > 1024) return ft_err("--num-perm %d: must be in [2, 1024]", num_perm);
    if (!(threshold > 0 && threshold < 1)) return ft_err("--threshold %g: must be in (0, 1)", threshold);
    m->threshold = threshold;
    m->num_perm = num_perm;
    m->shingle = shingle;
    m->seed = seed;
    m->buckets.set_only = 1;
    ft_lsh_params(threshold, num_perm, &m->bands, &m->rows);
    m->al = ft_malloc(num_perm * sizeof *m->al);
    m->ah = ft_malloc(num_perm * sizeof *m->ah);
    m->b = ft_malloc(num_perm * sizeof *m->b);
    m->sig = ft_malloc(num_perm * sizeof *m->sig);
    if (!m->al || !m->ah || !m->b || !m->sig) { ft_minhash_free(m); return -1; }
    ft_rng r;
    ft_rng_seed(&r, seed ^ 0x6d696e68617368ULL);
    for (int i = 0; i < num_perm; i++) {
        uint64_t a = ft_rng_next(&r) | 1;
        m->al[i] = (uint32_t)a;
        m->ah[i] = (uint32_t)(a >> 32);
        m->b[i] = ft_rng_next(&r);
    }
    return 0;
}

// (a*x + b) mod 2^64 with a = ah*2^32 + al is al*x + ((ah*x) mod 2^32)*2^32 + b: written with
// 32x32-bit multiplies so that AVX2 can vectorise it (4 lanes); same values on every path.
__attribute__((target_clones("avx2", "default"), optimize("O3")))
void ft_minhash_sign(const ft_minhash *m, const uint64_t *shingles, size_t n, uint32_t *sig) {
    const int K = m->num_perm;
    for (int i = 0; i < K; i++) sig[i] = 0xFFFFFFFFu;
    const uint32_t *al = m->al, *ah = m->ah;
    const uint64_t *b = m->b;
    for (size_t j = 0; j < n; j++) {
        uint32_t x = (uint32_t)(shingles[j] ^ (shingles[j] >> 32));
        for (int i = 0; i < K; i++) {
            uint64_t v = (uint64_t)al[i] * x + ((uint64_t)(ah[i] * x) << 32) + b[i];
            uint32_t h = (uint32_t)(v >> 32);
            sig[i] = h < sig[i] ? h : sig[i];
        }
    }
}

int ft_minhash_seen_sig(ft_minhash *m, const uint32_t *sig) {
    uint64_t keys[1024];
    int dup = 0;
    for (int band = 0; band < m->bands; band++) {
        keys[band] = ft_hash64(sig + band * m->rows, (size_t)m->rows * sizeof *sig, 0xba4d0000ULL + (uint64_t)band);
        if (ft_hmap64_get(&m->buckets, keys[band], NULL)) dup = 1;
    }
    if (dup) return 1;
    for (int band = 0; band < m->bands; band++)
        if (ft_hmap64_put(&m->buckets, keys[band], 0) < 0) return -1;
    return 0;
}

#define SHINGLE_SEED 0x5817617eULL

int ft_minhash_seen(ft_minhash *m, const uint64_t *units, size_t n) {
    if (n == 0) return 0;
    size_t need = n >= (size_t)m->shingle ? n - (size_t)m->shingle + 1 : 1;
    if (need > m->grams_cap) {
        uint64_t *g = ft_realloc(m->grams, need * sizeof *g);
        if (!g) return -1;
        m->grams = g;
        m->grams_cap = need;
    }
    size_t k = ft_ngram_hashes(units, n, m->shingle, SHINGLE_SEED, m->grams);
    if (k == 0) {
        m->grams[0] = ft_hash64(units, n * sizeof *units, SHINGLE_SEED);
        k = 1;
    }
    ft_minhash_sign(m, m->grams, k, m->sig);
    return ft_minhash_seen_sig(m, m->sig);
}

void ft_minhash_free(ft_minhash *m) {
    free(m->al);
    free(m->ah);
    free(m->b);
    free(m->sig);
    free(m->grams);
    ft_hmap64_free(&m->buckets);
    memset(m, 0, sizeof *m);
}
