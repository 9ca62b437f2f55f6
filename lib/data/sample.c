// sample.c — greedy and temperature / top-k / top-p sampling over a logit row.
// Order as HF's logits processors: scale by 1/temperature, keep the k best, then keep the
// smallest set of best tokens whose probability mass reaches top_p (at least one), renormalise
// and draw with a splitmix64 RNG.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "data/sample.h"

int ft_sampler_init(ft_sampler *s, int V, float temperature, int top_k, float top_p, uint64_t seed) {
    memset(s, 0, sizeof *s);
    if (V <= 0) return ft_err("sampler: empty vocabulary");
    s->V = V;
    s->temperature = temperature;
    s->top_k = top_k;
    s->top_p = top_p;
    s->state = seed;
    s->prob = ft_malloc((size_t)V * sizeof(float));
    s->idx = ft_malloc((size_t)V * sizeof(int32_t));
    if (!s->prob || !s->idx) { ft_sampler_free(s); return -1; }
    return 0;
}

void ft_sampler_free(ft_sampler *s) {
    free(s->prob);
    free(s->idx);
    s->prob = NULL;
    s->idx = NULL;
}

double ft_sampler_uniform(ft_sampler *s) {
    return (double)(ft_splitmix64(&s->state) >> 11) * (1.0 / 9007199254740992.0);
}

int ft_argmax(const float *logits, int V) {
    int best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

static int by_prob_desc(const void *a, const void *b, void *key) {
    const float *p = key;
    float x = p[*(const int32_t *)a], y = p[*(const int32_t *)b];
    if (x != y) return x < y ? 1 : -1;
    return *(const int32_t *)a - *(const int32_t *)b;
}

int ft_sample(ft_sampler *s, const float *logits) {
    int V = s->V;
    if (!(s->temperature > 0)) return ft_argmax(logits, V);
    float mx = logits[ft_argmax(logits, V)];
    double sum = 0;
    for (int i = 0; i < V; i++) {
        s->prob[i] = expf((logits[i] - mx) / s->temperature);
        sum += s->prob[i];
    }
    for (int i = 0; i < V; i++) s->prob[i] = (float)(s->prob[i] / sum);
    // candidates sorted by probability (stable on id); only needed when filtering
    int n = V;
    for (int i = 0; i < V; i++) s->idx[i] = i;
    if ((s->top_k > 0 && s->top_k < V) || s->top_p < 1.0f) {
        qsort_r(s->idx, (size_t)V, sizeof(int32_t), by_prob_desc, s->prob);
        if (s->top_k > 0 && s->top_k < n) n = s->top_k;
        if (s->top_p < 1.0f) {
            double mass = 0, kept = 0;
            for (int i = 0; i < n; i++) kept += s->prob[s->idx[i]];
            int m = 0;
            while (m < n) {   // smallest prefix whose (renormalised) mass reaches top_p
                mass += s->prob[s->idx[m++]];
                if (mass >= s->top_p * kept) break;
            }
            n = m > 0 ? m : 1;
        }
    }
    double total = 0;
    for (int i = 0; i < n; i++) total += s->prob[s->idx[i]];
    double u = ft_sampler_uniform(s) * total, acc = 0;
    for (int i = 0; i < n; i++) {
        acc += s->prob[s->idx[i]];
        if (u < acc) return s->idx[i];
    }
    return s->idx[n - 1];
}
