// cpu_act.c — pointwise activations of the CPU op table, used by the bottleneck adapters
// (lib/model/bottleneck.c): out = f(x) and the backward dx += dout * f'(x), for
//   FT_ACT_RELU       f(x) = max(x, 0)                    f'(x) = [x > 0]  (0 at 0, as PyTorch)
//   FT_ACT_SILU       f(x) = x * s(x), s = sigmoid        f'(x) = s * (1 + x * (1 - s))
//   FT_ACT_GELU_TANH  f(x) = x/2 * (1 + tanh(k * (x + 0.044715 x^3))), k = sqrt(2/pi)
//                     (the tanh approximation: PyTorch gelu(approximate="tanh"), HF
//                     "gelu_pytorch_tanh"/"gelu_new"; it differs from the exact erf GELU by < 1e-3)
//                     f'(x) = (1 + t)/2 + x/2 * (1 - t^2) * k * (1 + 3 * 0.044715 x^2)
//                     computed as (1 + t)/2 = s = sigmoid(2u), 1 - t^2 = 4 s (1 - s), with
//                     1 - s = sigmoid(-2u), u = k (x + 0.044715 x^3): no cancellation in 1 + t
//                     near t = -1 (x << 0), so the tails keep their relative precision.
//   FT_ACT_TANH       f(x) = tanhf(x)                     f'(x) = 1 - tanhf(x)^2
//                     (the prefix-projection MLP, lib/model/virtual.c: a plain libm loop, as it was there)
#pragma GCC optimize("no-trapping-math")  // lets GCC vectorise the clamps of ft_cpu_expf
#include "cpu_internal.h"
#include "ops.h"

#include <math.h>

#define BIG(n) ((double)(n) > 65536.0)

FT_CPU_CLONES
void ft_cpu_act(float *out, const float *x, size_t n, int kind) {
    switch (kind) {
    case FT_ACT_RELU:
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) out[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case FT_ACT_SILU:
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) out[i] = x[i] / (1.0f + ft_cpu_expf(-x[i]));
        break;
    case FT_ACT_TANH:
        for (size_t i = 0; i < n; i++) out[i] = tanhf(x[i]);
        break;
    default:   // FT_ACT_GELU_TANH
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) {
            float v = x[i];
            out[i] = ft_cpu_gelu_tanh(v);   // x/2 (1 + tanh u)
        }
        break;
    }
}

FT_CPU_CLONES
void ft_cpu_act_backward(float *dx, const float *dout, const float *x, size_t n, int kind) {
    switch (kind) {
    case FT_ACT_RELU:
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0.0f ? dout[i] : 0.0f;
        break;
    case FT_ACT_SILU:
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) {
            float v = x[i], s = ft_cpu_sigmoid(v);
            dx[i] += dout[i] * s * (1.0f + v * (1.0f - s));
        }
        break;
    case FT_ACT_TANH:
        for (size_t i = 0; i < n; i++) {
            float t = tanhf(x[i]);
            dx[i] += dout[i] * (1.0f - t * t);
        }
        break;
    default:   // FT_ACT_GELU_TANH
        #pragma omp parallel for simd schedule(static) if (BIG(n))
        for (size_t i = 0; i < n; i++) {
            dx[i] += dout[i] * ft_cpu_gelu_tanh_grad(x[i]);
        }
        break;
    }
}
