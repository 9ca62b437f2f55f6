// hash.h — non-cryptographic hashing and a seeded random generator for data curation.
// ft_hash64/ft_hash128: a two-lane multiply-rotate construction in the style of MurmurHash3
// (written for this project) with a 64-bit avalanche finaliser; inputs are read as
// little-endian 64-bit words. The seeded generator is rng.h's ft_rng.
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

#include "core/rng.h"   // the seeded generator used with these hashes (ft_rng)

#endif
