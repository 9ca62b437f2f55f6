// sample.h — next-token selection from logits: greedy, or sampling with temperature,
// top-k and top-p (nucleus) applied in that order as HF transformers' generate() does,
// from a seeded, platform-independent RNG (so a --seed reproduces a run).
#ifndef FT_SAMPLE_H
#define FT_SAMPLE_H

#include <stdint.h>

typedef struct ft_sampler {
    float temperature;     // <= 0: greedy (argmax)
    int top_k;             // <= 0: off
    float top_p;           // >= 1: off
    uint64_t state;        // RNG state
    int V;
    float *prob;           // (V,) work
    int32_t *idx;          // (V,) work
} ft_sampler;

int ft_sampler_init(ft_sampler *s, int V, float temperature, int top_k, float top_p, uint64_t seed);
void ft_sampler_free(ft_sampler *s);
// Pick the next token from logits(V). Ties in greedy mode go to the lowest id (as argmax).
int ft_sample(ft_sampler *s, const float *logits);
// argmax(logits(V)), lowest id on ties.
int ft_argmax(const float *logits, int V);
// Uniform double in [0, 1) from the sampler's RNG (splitmix64).
double ft_sampler_uniform(ft_sampler *s);

#endif
