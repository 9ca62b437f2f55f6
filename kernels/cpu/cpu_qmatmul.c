// cpu_qmatmul.c — matmul with a frozen quantized weight (QLoRA). STUB.
#include "cpu_internal.h"
#include "ops.h"

void ft_cpu_qmatmul(float *out, const float *x, const struct ft_qweight *w, const float *bias, int N) {
    (void)out; (void)x; (void)w; (void)bias; (void)N;
}
void ft_cpu_qmatmul_backward(float *dx, const float *dout, const struct ft_qweight *w, int N) {
    (void)dx; (void)dout; (void)w; (void)N;
}
