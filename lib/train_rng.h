// train_rng.h — the small deterministic RNG (header-only, separate from hash.h's curation RNG) of training (xoshiro256** seeded by splitmix64):
// shuffling, LoRA init, dropout. Its whole state is 32 bytes so checkpoints can save it.
#ifndef FT_TRAIN_RNG_H
#define FT_TRAIN_RNG_H

#include <stdint.h>

typedef struct { uint64_t s[4]; } ft_trng;

static inline uint64_t ft_trng_splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void ft_trng_seed(ft_trng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = ft_trng_splitmix(&seed);
}

static inline uint64_t ft_trng_next(ft_trng *r) {
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t out = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return out;
}

// Uniform in [0, 1) with 24 random bits (exact in float).
static inline float ft_trng_float(ft_trng *r) { return (float)(ft_trng_next(r) >> 40) * (1.0f / 16777216.0f); }

// Uniform integer in [0, n) (n > 0), unbiased by rejection.
static inline uint64_t ft_trng_below(ft_trng *r, uint64_t n) {
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = ft_trng_next(r); while (x >= lim);
    return x % n;
}

#endif
