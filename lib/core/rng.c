// rng.c — xoshiro256** seeded through splitmix64 (see rng.h).
#include "core/rng.h"

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ft_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void ft_rng_seed(ft_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = ft_splitmix64(&seed);
}

uint64_t ft_rng_next(ft_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t ft_rng_below(ft_rng *r, uint64_t n) {
    if (n == 0) return 0;
    // Lemire's multiply-and-reject: unbiased for every n.
    unsigned __int128 m = (unsigned __int128)ft_rng_next(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t thresh = -n % n;
        while (lo < thresh) {
            m = (unsigned __int128)ft_rng_next(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double ft_rng_double(ft_rng *r) { return (double)(ft_rng_next(r) >> 11) * 0x1.0p-53; }
float ft_rng_float(ft_rng *r) { return (float)(ft_rng_next(r) >> 40) * (1.0f / 16777216.0f); }
