// cpu_gemma.c — ops of the CPU table added for Gemma 3 (kernels/ops.h): GeGLU (gelu-tanh gate
// times up) forward and backward, and KV-cache attention with a sliding window and a given
// score scale (the training attention's window variant lives in cpu_attention.c).
#pragma GCC optimize("no-trapping-math")  // lets GCC vectorise the clamps of ft_cpu_expf
#include "cpu_internal.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BIG(n) ((double)(n) > 65536.0)
#define GELU_K 0.7978845608028654f   // sqrt(2 / pi)
#define GELU_C 0.044715f

static inline __attribute__((always_inline)) float sigm(float y) { return 1.0f / (1.0f + ft_cpu_expf(-y)); }

// gelu_tanh(g) = g/2 (1 + tanh u) = g * sigmoid(2u), u = k (g + c g^3) (as cpu_act.c)
FT_CPU_CLONES
void ft_cpu_geglu(float *out, const float *gate, const float *up, int N, int F) {
    size_t n = (size_t)N * F;
    #pragma omp parallel for simd schedule(static) if (BIG(n))
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g * sigm(2.0f * GELU_K * (g + GELU_C * g * g * g)) * up[i];
    }
}

// d gelu_tanh(g)/dg = s + 2 g s (1 - s) k (1 + 3 c g^2), s = sigmoid(2u)
FT_CPU_CLONES
void ft_cpu_geglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int N,
                           int F) {
    size_t n = (size_t)N * F;
    if (dgate) {
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) {
            float g = gate[i], g2 = g * g;
            float y = 2.0f * GELU_K * (g + GELU_C * g2 * g), s = sigm(y), oms = sigm(-y);
            dgate[i] += dout[i] * up[i] * (s + 2.0f * g * s * oms * GELU_K * (1.0f + 3.0f * GELU_C * g2));
        }
    }
    if (dup) {
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) {
            float g = gate[i];
            dup[i] += dout[i] * g * sigm(2.0f * GELU_K * (g + GELU_C * g * g * g));
        }
    }
}

// out(n, Hq*D): query i (absolute position p0 + i) attends to cached keys max(0, p0+i-window+1)
// .. p0+i (window 0: all), scores times scale.
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
    if (failed) {
        ft_err("attention (KV cache, window): out of memory for scratch (%d positions)", p0 + n);
        ft_cpu_fill_nan(out, (size_t)n * Hq * D);
    }
}
