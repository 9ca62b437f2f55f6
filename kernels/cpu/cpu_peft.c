// cpu_peft.c — the CPU ops of the PEFT methods whose arithmetic is not a matmul: DoRA's row
// norms, gain and their backward (formulas in lib/model/dora.c), and the small elementwise helpers
// of bottleneck adapters and prefix tuning (fill, div, scale_cols, tanh_backward). The loops
// are those lib/model/dora.c, lib/model/bottleneck.c and lib/model/virtual.c ran on the host, unchanged (plain
// loops, double accumulation where they had it), so results are the same bit for bit.
#include "cpu_internal.h"

#include <math.h>

void ft_cpu_fill(float *x, float v, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = v;
}

void ft_cpu_div(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] / b[i];
}

void ft_cpu_scale_cols(float *out, const float *g, const float *x, int N, int O) {
    for (int n = 0; n < N; n++)
        for (int j = 0; j < O; j++) out[(size_t)n * O + j] = g[j] * x[(size_t)n * O + j];
}

void ft_cpu_tanh_backward(float *d, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) d[i] *= 1.0f - y[i] * y[i];
}

static double row_sq(const float *w, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)w[i] * w[i];
    return s;
}

void ft_cpu_dora_norm(float *n, float *G, const float *P, const float *W, const float *A, const float *B, float scale,
                      int r, int I, int O) {
    for (int k = 0; k < r; k++)
        for (int l = k; l < r; l++) {
            double s = 0;
            const float *ak = A + (size_t)k * I, *al = A + (size_t)l * I;
            for (int i = 0; i < I; i++) s += (double)ak[i] * al[i];
            G[(size_t)k * r + l] = G[(size_t)l * r + k] = (float)s;
        }
    double s = scale;
    for (int j = 0; j < O; j++) {
        const float *bj = B + (size_t)j * r;
        double bp = 0, bgb = 0;
        for (int k = 0; k < r; k++) {
            bp += (double)bj[k] * P[(size_t)k * O + j];
            double gk = 0;
            for (int l = 0; l < r; l++) gk += (double)G[(size_t)k * r + l] * bj[l];
            bgb += (double)bj[k] * gk;
        }
        double n2 = row_sq(W + (size_t)j * I, I) + 2.0 * s * bp + s * s * bgb;
        n[j] = (float)sqrt(n2 > 1e-60 ? n2 : 1e-60);   // a zero row: finite, mag/n stays finite
    }
}

// PEFT's form: out += (g - 1) * (out - b) + g * s * d — adds exactly 0 when g == 1 and d == 0
void ft_cpu_dora_combine(float *out, const float *d, const float *g, const float *bias, float s, int N, int O) {
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * O;
        const float *dn = d + (size_t)n * O;
        for (int j = 0; j < O; j++) {
            float base = bias ? o[j] - bias[j] : o[j];
            o[j] += (g[j] - 1.0f) * base + g[j] * s * dn[j];
        }
    }
}

void ft_cpu_dora_gain_backward(float *dmag, float *c, const float *dout, const float *z, const float *nrm,
                               const float *g, int N, int O) {
    for (int j = 0; j < O; j++) {
        double dg = 0;
        for (int n = 0; n < N; n++) dg += (double)dout[(size_t)n * O + j] * z[(size_t)n * O + j];
        if (dmag) dmag[j] += (float)(dg / nrm[j]);
        c[j] = (float)(-dg * g[j] / ((double)nrm[j] * nrm[j]));
    }
}

void ft_cpu_dora_norm_backward_B(float *dB, float *Bc, const float *B, const float *P, const float *G, const float *c,
                                 float s, int r, int O) {
    if (dB)
        for (int j = 0; j < O; j++) {
            const float *bj = B + (size_t)j * r;
            for (int k = 0; k < r; k++) {
                double bg = 0;
                for (int l = 0; l < r; l++) bg += (double)bj[l] * G[(size_t)l * r + k];
                dB[(size_t)j * r + k] += (float)(s * c[j] * ((double)P[(size_t)k * O + j] + s * bg));
            }
        }
    if (Bc)
        for (int j = 0; j < O; j++)
            for (int k = 0; k < r; k++) Bc[(size_t)j * r + k] = s * c[j] * B[(size_t)j * r + k];
}

void ft_cpu_dora_norm_backward_A(float *dA, const float *Bc, const float *B, const float *A, float s, int r, int I,
                                 int O) {
    for (int k = 0; k < r; k++) {
        double K[64];
        for (int l0 = 0; l0 < r; l0 += 64) {   // K[l] = s * sum_j (s c_j B_jk) B_jl
            int nl = r - l0 < 64 ? r - l0 : 64;
            for (int l = 0; l < nl; l++) {
                double t = 0;
                for (int j = 0; j < O; j++) t += (double)Bc[(size_t)j * r + k] * B[(size_t)j * r + l0 + l];
                K[l] = s * t;
            }
            for (int i = 0; i < I; i++) {
                double t = 0;
                for (int l = 0; l < nl; l++) t += K[l] * A[(size_t)(l0 + l) * I + i];
                dA[(size_t)k * I + i] += (float)t;
            }
        }
    }
}

void ft_cpu_dora_norm_backward_W(float *dW, const float *c, const float *W, const float *A, const float *B, float s,
                                 int r, int I, int O) {
    for (int j = 0; j < O; j++)
        for (int i = 0; i < I; i++) {
            double v = W[(size_t)j * I + i];
            for (int k = 0; k < r; k++) v += (double)s * B[(size_t)j * r + k] * A[(size_t)k * I + i];
            dW[(size_t)j * I + i] += (float)(c[j] * v);
        }
}
