// cpu_attn_decode.c — attention for batched decoding over a slotted KV cache (kernels/ops.h
// attention_decode): each new query row belongs to one sequence (its cache slot) at its own
// position; its key and value are stored into the slot first, then it attends to positions
// 0..pos of that slot only. One row's result depends on nothing but its slot (the same steps
// whatever the other rows are), so continuous batching gives what one sequence at a time does.
#pragma GCC optimize("no-trapping-math")  // lets GCC vectorise the clamps of ft_cpu_expf
#include "cpu_internal.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

FT_CPU_CLONES
static void attend_row(float *o, const float *qi, const float *kb, const float *vb, int ctx, int kvd, int D,
                       float scale, float *s) {
    float mx = -INFINITY;
    for (int j = 0; j < ctx; j++) {
        const float *kj = kb + (size_t)j * kvd;
        float d = 0;
        #pragma omp simd reduction(+ : d)
        for (int e = 0; e < D; e++) d += qi[e] * kj[e];
        s[j] = d * scale;
        mx = s[j] > mx ? s[j] : mx;
    }
    float sum = 0;
    #pragma omp simd reduction(+ : sum)
    for (int j = 0; j < ctx; j++) { s[j] = ft_cpu_expf(s[j] - mx); sum += s[j]; }
    float inv = 1.0f / sum;
    memset(o, 0, (size_t)D * sizeof *o);
    for (int j = 0; j < ctx; j++) {
        const float *vj = vb + (size_t)j * kvd;
        float p = s[j] * inv;
        #pragma omp simd
        for (int e = 0; e < D; e++) o[e] += p * vj[e];
    }
}

void ft_cpu_attention_decode(float *out, float *kc, float *vc, const float *q, const float *k, const float *v,
                             const int32_t *slot, const int32_t *pos, int n, int max_T, int Hq, int Hkv, int D) {
    if (n <= 0) return;
    int group = Hq / Hkv, kvd = Hkv * D, ctx_max = 0;
    float scale = 1.0f / sqrtf((float)D);
    for (int i = 0; i < n; i++) {
        size_t at = ((size_t)slot[i] * max_T + pos[i]) * kvd;
        memcpy(kc + at, k + (size_t)i * kvd, (size_t)kvd * sizeof(float));
        memcpy(vc + at, v + (size_t)i * kvd, (size_t)kvd * sizeof(float));
        if (pos[i] + 1 > ctx_max) ctx_max = pos[i] + 1;
    }
    int failed = 0;
    long ntask = (long)n * Hq;
    #pragma omp parallel reduction(| : failed) if (ntask > 1 && (double)ntask * ctx_max * D > 32768)
    {
        float *s = malloc((size_t)ctx_max * sizeof(float));
        if (!s) failed = 1;
        #pragma omp for schedule(dynamic, 4)
        for (long t = 0; t < ntask; t++) {
            if (!s) continue;
            int i = (int)(t / Hq), h = (int)(t % Hq), kh = h / group;
            size_t base = (size_t)slot[i] * max_T * kvd + (size_t)kh * D;
            attend_row(out + ((size_t)i * Hq + h) * D, q + ((size_t)i * Hq + h) * D, kc + base, vc + base, pos[i] + 1,
                       kvd, D, scale, s);
        }
        free(s);
    }
    if (failed) {
        ft_err("attention (batched decode): out of memory for scratch (%d positions)", ctx_max);
        ft_cpu_fill_nan(out, (size_t)n * Hq * D);
    }
}
