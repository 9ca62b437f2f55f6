// dora.c — DoRA (see dora.h). STUB: replaced by the DoRA implementation.
#include "dora.h"
#include "err.h"

void ft_dora_forward(const ft_ops *ops, const ft_linear *lin, float *out, const float *x, int N, float *tmp) {
    (void)ops; (void)lin; (void)out; (void)x; (void)N; (void)tmp;
}
void ft_dora_backward(const ft_ops *ops, const ft_linear *lin, float *dx, float *dw, float *db, const float *dout,
                      const float *x, int N, float *tmp) {
    (void)ops; (void)lin; (void)dx; (void)dw; (void)db; (void)dout; (void)x; (void)N; (void)tmp;
}
size_t ft_dora_scratch(const ft_linear *lin, int N, int backward) {
    (void)lin; (void)N; (void)backward;
    return 0;
}
