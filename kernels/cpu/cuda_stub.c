// cuda_stub.c — placeholder for ft_ops_cuda() in builds without the CUDA op table: returns
// NULL ("no CUDA"). It is a weak symbol, so a real kernels/cuda implementation that defines
// ft_ops_cuda() overrides it at link time; the CUDA engineer may also simply delete this file.
#include "ops.h"

__attribute__((weak)) const ft_ops *ft_ops_cuda(void) { return 0; }
