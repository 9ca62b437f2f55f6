// rng.h — the one seeded random generator of libft: xoshiro256** seeded through splitmix64.
// Used by curation (sample, shuffle, MinHash seeds), training (data order, LoRA init), the
// bootstrap CIs of ft-eval and the sampler. Its whole state is 32 bytes, so checkpoints can
// save it and a resumed run continues the same sequence.
#ifndef FT_RNG_H
#define FT_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} ft_rng;

uint64_t ft_splitmix64(uint64_t *state);          // advances *state; also a stand-alone stream
void ft_rng_seed(ft_rng *r, uint64_t seed);
uint64_t ft_rng_next(ft_rng *r);
uint64_t ft_rng_below(ft_rng *r, uint64_t n);     // uniform in [0, n), unbiased (Lemire); 0 when n == 0
double ft_rng_double(ft_rng *r);                  // uniform in [0, 1), 53 bits
float ft_rng_float(ft_rng *r);                    // uniform in [0, 1), 24 bits (exact in float)

// Stateless: a uniform float in [0, 1) (24 bits) that depends only on (seed, i) — for masks that
// the backward pass regenerates instead of storing (LoRA dropout). splitmix64's output function
// applied to seed + (i + 1) * the golden-ratio increment.
static inline float ft_rng_hash_float(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f);
}

#endif
