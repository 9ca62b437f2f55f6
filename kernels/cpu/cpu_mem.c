// cpu_mem.c — device memory of the CPU op table (kernels/ops.h "memory"): device buffers are
// host memory (64-byte aligned), upload/download/copy are memcpy, zero is memset. Also the
// KV-cache attention (attention_cached, and its sliding-window variant) reference, the gradient norm's sum of squares and
// the clipping scale.
#include "cpu_internal.h"
#include "core/err.h"
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void *ft_cpu_alloc(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) {
        ft_err("out of memory allocating %zu bytes", bytes);
        return NULL;
    }
    return p;
}

void ft_cpu_free(void *p) { free(p); }

int ft_cpu_copy(void *dst, const void *src, size_t bytes) {
    if (bytes) memmove(dst, src, bytes);
    return 0;
}

int ft_cpu_zero(void *dst, size_t bytes) {
    if (bytes) memset(dst, 0, bytes);
    return 0;
}

// out(n, Hq*D): query i (absolute position p0 + i) attends to cached keys max(0, p0+i-window+1)
// .. p0+i (window 0: all), scores times scale. attention_cached is its window-0, 1/sqrt(D) case.
void ft_cpu_attention_cached_window(float *out, const float *q, const float *kc, const float *vc, int n, int p0,
                                    int Hq, int Hkv, int D, int window, float scale) {
    int group = Hq / Hkv, kvd = Hkv * D;
    int failed = 0;
    #pragma omp parallel reduction(|:failed)
    {
        float *s = malloc((size_t)(p0 + n) * sizeof(float));
        if (!s) failed = 1;
        #pragma omp for collapse(2) schedule(dynamic, 1)
        for (int i = 0; i < n; i++)
            for (int h = 0; h < Hq; h++) {
                if (!s) continue;
                const float *qi = q + ((size_t)i * Hq + h) * D;
                int end = p0 + i + 1, kh = h / group, j0 = window > 0 && end > window ? end - window : 0;
                float mx = -INFINITY;
                for (int j = j0; j < end; j++) {
                    const float *kj = kc + (size_t)j * kvd + (size_t)kh * D;
                    float d = 0;
                    for (int e = 0; e < D; e++) d += qi[e] * kj[e];
                    s[j] = d * scale;
                    if (s[j] > mx) mx = s[j];
                }
                float sum = 0;
                for (int j = j0; j < end; j++) { s[j] = expf(s[j] - mx); sum += s[j]; }
                float *o = out + ((size_t)i * Hq + h) * D;
                memset(o, 0, (size_t)D * sizeof(float));
                for (int j = j0; j < end; j++) {
                    const float *vj = vc + (size_t)j * kvd + (size_t)kh * D;
                    float p = s[j] / sum;
                    for (int e = 0; e < D; e++) o[e] += p * vj[e];
                }
            }
        free(s);
    }
    if (failed) {   // a thread without scratch left its rows unwritten: poison all of them
        ft_err("attention (KV cache): out of memory for scratch (%d positions)", p0 + n);
        ft_cpu_fill_nan(out, (size_t)n * Hq * D);
    }
}

void ft_cpu_attention_cached(float *out, const float *q, const float *kc, const float *vc, int n, int p0, int Hq,
                             int Hkv, int D) {
    ft_cpu_attention_cached_window(out, q, kc, vc, n, p0, Hq, Hkv, D, 0, 1.0f / sqrtf((float)D));
}

double ft_cpu_sumsq(const float *x, size_t n) {
    double s = 0;
    #pragma omp parallel for reduction(+:s) if (n > 65536)
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}

void ft_cpu_scale(float *x, float s, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= s;
}
