// hash.c — ft_hash64/ft_hash128 and the xoshiro256** generator (see hash.h).
#include "core/hash.h"

#include <string.h>

#define C1 0x87c37b91114253d5ULL
#define C2 0x4cf5ad432745937fULL

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);   // little-endian hosts (x86-64, aarch64)
    return v;
}

// Two lanes absorb one 64-bit word each step and are cross-fed, so 128 bits of state
// depend on every word; ft_hash64 is lane 0 of the same construction.
static void hash_lanes(const void *data, size_t n, uint64_t seed, uint64_t *o1, uint64_t *o2) {
    const uint8_t *p = data;
    uint64_t h1 = seed ^ 0x9e3779b97f4a7c15ULL, h2 = ft_mix64(seed + 0x632be59bd9b4e019ULL);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t k = load64(p + i);
        uint64_t k1 = rotl(k * C1, 31) * C2;
        uint64_t k2 = rotl(k * C2, 33) * C1;
        h1 ^= k1;
        h1 = rotl(h1, 27) + h2;
        h1 = h1 * 5 + 0x52dce729;
        h2 ^= k2;
        h2 = rotl(h2, 31) + h1;
        h2 = h2 * 5 + 0x38495ab5;
    }
    if (i < n) {   // tail: up to 7 bytes, zero-padded (the length is mixed in below)
        uint8_t t[8] = {0};
        memcpy(t, p + i, n - i);
        uint64_t k = load64(t);
        h1 ^= rotl(k * C1, 31) * C2;
        h2 ^= rotl(k * C2, 33) * C1;
    }
    h1 ^= (uint64_t)n;
    h2 ^= (uint64_t)n;
    h1 += h2;
    h2 += h1;
    h1 = ft_mix64(h1);
    h2 = ft_mix64(h2);
    h1 += h2;
    h2 += h1;
    *o1 = h1;
    *o2 = h2;
}

uint64_t ft_hash64(const void *data, size_t n, uint64_t seed) {
    uint64_t a, b;
    hash_lanes(data, n, seed, &a, &b);
    return a;
}

void ft_hash128(const void *data, size_t n, uint64_t seed, uint64_t out[2]) {
    hash_lanes(data, n, seed, &out[0], &out[1]);
}
