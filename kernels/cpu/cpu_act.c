// cpu_act.c — pointwise activations for bottleneck adapters. STUB.
#include "cpu_internal.h"
#include "ops.h"

void ft_cpu_act(float *out, const float *x, size_t n, int kind) { (void)out; (void)x; (void)n; (void)kind; }
void ft_cpu_act_backward(float *dx, const float *dout, const float *x, size_t n, int kind) {
    (void)dx; (void)dout; (void)x; (void)n; (void)kind;
}
