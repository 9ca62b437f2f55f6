// cuda_stub.c — placeholder for ft_ops_cuda() in builds without the CUDA op table: returns
// NULL ("no CUDA"). It is a weak symbol, so a real definition in an object given to the linker
// directly wins. Caveat: inside one archive the linker takes the first member that defines a
// symbol and never swaps a weak definition for a later strong one, so when the CUDA objects go
// into libft.a, leave this file out of that build (or delete it once kernels/cuda/ always builds).
#include "ops.h"

__attribute__((weak)) const ft_ops *ft_ops_cuda(void) { return 0; }
