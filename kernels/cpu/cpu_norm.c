// cpu_norm.c — RMSNorm and rotary position embedding (HF rotate_half convention) of the CPU
// op table, forward and backward. Rows are independent, so both parallelise over N.
#pragma GCC optimize("no-trapping-math")  // lets GCC vectorise the clamps of ft_cpu_expf
#include "cpu_internal.h"

#include <math.h>

// out(N,C) = x(N,C) * rstd(N) * weight(C), rstd = 1/sqrt(mean(x^2) + eps)
FT_CPU_CLONES
void ft_cpu_rmsnorm(float *out, float *rstd, const float *x, const float *weight, int N, int C, float eps) {
    #pragma omp parallel for schedule(static) if ((double)N * C > 1e5)
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * C;
        float *o = out + (size_t)n * C;
        float ss = 0.0f;
        #pragma omp simd reduction(+ : ss)
        for (int i = 0; i < C; i++) ss += xr[i] * xr[i];
        float r = 1.0f / sqrtf(ss / (float)C + eps);
        if (rstd) rstd[n] = r;
        for (int i = 0; i < C; i++) o[i] = xr[i] * r * weight[i];
    }
}

// y = x*r*w with r = (mean(x^2)+eps)^-1/2:
//   dx_j += r*g_j*w_j - (r^3/C) * x_j * sum_i g_i*w_i*x_i,   dweight_i += sum_n g_i * x_i * r
FT_CPU_CLONES
void ft_cpu_rmsnorm_backward(float *dx, float *dweight, const float *dout, const float *x,
                             const float *weight, const float *rstd, int N, int C) {
    int big = (double)N * C > 1e5;
    if (dx) {
        #pragma omp parallel for schedule(static) if (big)
        for (int n = 0; n < N; n++) {
            const float *xr = x + (size_t)n * C, *g = dout + (size_t)n * C;
            float *d = dx + (size_t)n * C;
            float r = rstd[n], s = 0.0f;
            #pragma omp simd reduction(+ : s)
            for (int i = 0; i < C; i++) s += g[i] * weight[i] * xr[i];
            float k = r * r * r * s / (float)C;
            for (int i = 0; i < C; i++) d[i] += r * g[i] * weight[i] - k * xr[i];
        }
    }
    if (dweight) {
        // Column blocks, each owned by one thread, so accumulation needs no atomics.
        enum { CB = 64 };
        int nb = (C + CB - 1) / CB;
        #pragma omp parallel for schedule(static) if (big)
        for (int b = 0; b < nb; b++) {
            int i0 = b * CB, i1 = i0 + CB < C ? i0 + CB : C;
            float acc[CB] = {0};
            for (int n = 0; n < N; n++) {
                const float *xr = x + (size_t)n * C, *g = dout + (size_t)n * C;
                float r = rstd[n];
                for (int i = i0; i < i1; i++) acc[i - i0] += g[i] * xr[i] * r;
            }
            for (int i = i0; i < i1; i++) dweight[i] += acc[i - i0];
        }
    }
}

// Rotate x(N,H,D) in place by angle pos[n]*inv_freq[i] on pairs (i, i+D/2); sign = +1 forward,
// -1 for the inverse (= transposed) rotation used by the backward pass. The angle is a float32
// product and cos/sin are float32, as HF computes them.
static void rope_apply(float *x, const int32_t *pos, const float *inv_freq, int N, int H, int D, float sign) {
    int half = D / 2;
    #pragma omp parallel for schedule(static) if ((double)N * H * D > 1e5)
    for (int n = 0; n < N; n++) {
        float cs[512], sn[512];  // D/2 <= 512 (head_dim <= 1024); larger heads compute in place
        int cached = half <= 512;
        if (cached) {
            for (int i = 0; i < half; i++) {
                float a = (float)pos[n] * inv_freq[i];
                cs[i] = cosf(a);
                sn[i] = sign * sinf(a);
            }
        }
        for (int h = 0; h < H; h++) {
            float *r = x + ((size_t)n * H + h) * D;
            for (int i = 0; i < half; i++) {
                float c, s;
                if (cached) { c = cs[i]; s = sn[i]; }
                else { float a = (float)pos[n] * inv_freq[i]; c = cosf(a); s = sign * sinf(a); }
                float x1 = r[i], x2 = r[i + half];
                r[i] = x1 * c - x2 * s;
                r[i + half] = x2 * c + x1 * s;
            }
        }
    }
}

void ft_cpu_rope(float *x, const int32_t *pos, const float *inv_freq, int N, int H, int D) {
    rope_apply(x, pos, inv_freq, N, H, D, 1.0f);
}

void ft_cpu_rope_backward(float *dx, const int32_t *pos, const float *inv_freq, int N, int H, int D) {
    rope_apply(dx, pos, inv_freq, N, H, D, -1.0f);
}
