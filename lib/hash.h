// hash.h — non-cryptographic hashing and a seeded random generator for data curation.
// ft_hash64/ft_hash128: a two-lane multiply-rotate construction in the style of MurmurHash3
// (written for this project) with a 64-bit avalanche finaliser; inputs are read as
// little-endian 64-bit words. ft_frng: xoshiro256** seeded through splitmix64.
#ifndef FT_HASH_H
#define FT_HASH_H

#include <stddef.h>
#include <stdint.h>

// Final avalanche of a 64-bit value (every input bit flips each output bit with p ~ 1/2).
static inline uint64_t ft_mix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

uint64_t ft_hash64(const void *data, size_t n, uint64_t seed);
// 128-bit hash as two 64-bit halves out[0], out[1].
void ft_hash128(const void *data, size_t n, uint64_t seed, uint64_t out[2]);

// ---- seeded random numbers -----------------------------------------------------------
typedef struct {
    uint64_t s[4];
} ft_frng;

uint64_t ft_splitmix64(uint64_t *state);
void ft_frng_seed(ft_frng *r, uint64_t seed);
uint64_t ft_frng_next(ft_frng *r);
uint64_t ft_frng_below(ft_frng *r, uint64_t n);   // uniform in [0, n), unbiased; n > 0
double ft_frng_double(ft_frng *r);                // uniform in [0, 1), 53 bits

#endif
