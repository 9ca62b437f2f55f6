// cpu_pointwise.c — elementwise ops of the CPU op table: SwiGLU, GeGLU, embedding lookup, AdamW
// (PyTorch torch.optim.AdamW semantics), the add/axpy helpers of the model glue and the
// inverted dropout of LoRA (mask hashed from (seed, index), so the backward regenerates it).
#pragma GCC optimize("no-trapping-math")  // lets GCC vectorise the clamps of ft_cpu_expf
#include "cpu_internal.h"
#include "core/rng.h"

#include <math.h>
#include <string.h>

#define BIG(n) ((double)(n) > 65536.0)

// out(N,F) = silu(gate) * up, silu(g) = g * sigmoid(g)
FT_CPU_CLONES
void ft_cpu_swiglu(float *out, const float *gate, const float *up, int N, int F) {
    size_t n = (size_t)N * F;
    #pragma omp parallel for simd schedule(static) if (BIG(n))
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + ft_cpu_expf(-g)) * up[i];
    }
}

// d silu(g)/dg = sig * (1 + g * (1 - sig))
FT_CPU_CLONES
void ft_cpu_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                            const float *up, int N, int F) {
    size_t n = (size_t)N * F;
    if (dgate) {
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) {
            float g = gate[i], sig = 1.0f / (1.0f + ft_cpu_expf(-g));
            dgate[i] += dout[i] * up[i] * sig * (1.0f + g * (1.0f - sig));
        }
    }
    if (dup) {
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) dup[i] += dout[i] * gate[i] / (1.0f + ft_cpu_expf(-gate[i]));
    }
}

// out(N,F) = gelu_tanh(gate) * up (GeGLU: Gemma 3)
FT_CPU_CLONES
void ft_cpu_geglu(float *out, const float *gate, const float *up, int N, int F) {
    size_t n = (size_t)N * F;
    #pragma omp parallel for simd schedule(static) if (BIG(n))
    for (size_t i = 0; i < n; i++) out[i] = ft_cpu_gelu_tanh(gate[i]) * up[i];
}

FT_CPU_CLONES
void ft_cpu_geglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int N,
                           int F) {
    size_t n = (size_t)N * F;
    if (dgate) {
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) dgate[i] += dout[i] * up[i] * ft_cpu_gelu_tanh_grad(gate[i]);
    }
    if (dup) {
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) dup[i] += dout[i] * ft_cpu_gelu_tanh(gate[i]);
    }
}

// out(N,C) = table[ids[n]]; ids are validated by the caller (0 <= id < vocab)
void ft_cpu_embedding(float *out, const int32_t *ids, const float *table, int N, int C) {
    #pragma omp parallel for schedule(static) if (BIG((size_t)N * C))
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * C, table + (size_t)ids[n] * C, (size_t)C * sizeof *out);
}

// dtable[ids[n]] += dout[n]. Repeated ids collide, so threads own column blocks, not rows.
void ft_cpu_embedding_backward(float *dtable, const int32_t *ids, const float *dout, int N, int C) {
    if (!dtable) return;
    enum { CB = 64 };
    int nb = (C + CB - 1) / CB;
    #pragma omp parallel for schedule(static) if (BIG((size_t)N * C))
    for (int b = 0; b < nb; b++) {
        int i0 = b * CB, i1 = i0 + CB < C ? i0 + CB : C;
        for (int n = 0; n < N; n++) {
            float *d = dtable + (size_t)ids[n] * C;
            const float *g = dout + (size_t)n * C;
            for (int i = i0; i < i1; i++) d[i] += g[i];
        }
    }
}

// torch.optim.AdamW (amsgrad=False, maximize=False), step counted from 1:
//   p *= 1 - lr*wd;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
//   p -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
FT_CPU_CLONES
void ft_cpu_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int step) {
    double bc1 = 1.0 - pow((double)beta1, step), bc2 = 1.0 - pow((double)beta2, step);
    float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2), decay = 1.0f - lr * weight_decay;
    #pragma omp parallel for simd schedule(static) if (BIG(n))
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - step_size * mi / (sqrtf(vi) / bc2_sqrt + eps);
    }
}

void ft_cpu_add(float *out, const float *a, const float *b, size_t n) {
    #pragma omp parallel for simd schedule(static) if (BIG(n))
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void ft_cpu_add_inplace(float *out, const float *a, size_t n) {
    #pragma omp parallel for simd schedule(static) if (BIG(n))
    for (size_t i = 0; i < n; i++) out[i] += a[i];
}

void ft_cpu_scale_add(float *out, const float *a, float s, size_t n) {
    #pragma omp parallel for simd schedule(static) if (BIG(n))
    for (size_t i = 0; i < n; i++) out[i] += s * a[i];
}

void ft_cpu_dropout(float *out, const float *x, size_t n, float p, uint64_t seed) {
    float keep = 1.0f - p, scale = 1.0f / keep;
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) out[i] = ft_rng_hash_float(seed, i) < p ? 0.0f : x[i] * scale;
}
