// ft_cuda.h — the C side of the CUDA backend (kernels/cuda/): device memory helpers for code
// that drives the CUDA op table from C (tests, benchmarks, later the model glue).
//
// CONTRACT: every pointer given to an op of ft_ops_cuda() is a DEVICE pointer (allocated with
// ft_cuda_malloc or cudaMalloc), including the integer inputs (pos, doc, ids, target, mask);
// only the scalars are host values. Ops are queued on the default stream and return before
// the GPU finishes, except lm_head_xent, which returns the summed loss and so synchronises.
// A failing CUDA call records "cuda: OP: CALL: reason" with ft_err() (see ft_errmsg()) and
// the op fills its outputs with NaN where it can, as the CPU ops do when scratch fails;
// ft_cuda_sync() returns -1 when any op failed since the last check.
// Only built when nvcc is found (the Makefile leaves it out otherwise).
#ifndef FT_CUDA_H
#define FT_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Device memory; NULL with a message (size asked, free/total device memory) on failure.
void *ft_cuda_malloc(size_t bytes);
void ft_cuda_free(void *p);
int ft_cuda_upload(void *dst_dev, const void *src_host, size_t bytes);    // -1 + message on error
int ft_cuda_download(void *dst_host, const void *src_dev, size_t bytes);  // waits for queued ops
int ft_cuda_memset(void *dst_dev, int byte, size_t bytes);
// Waits for queued work; -1 with the first recorded error when a call or op failed since the
// last ft_cuda_sync (the error flag is then cleared).
int ft_cuda_sync(void);
// Name and memory of the device ft_ops_cuda() uses ("" before a successful ft_ops_cuda()).
const char *ft_cuda_device_name(void);
size_t ft_cuda_device_memory(void);

// Mixed precision (kernels/cuda/cuda_bf16.cu): bf16 values as raw uint16_t bits.
// f32 -> bf16 rounds to nearest even; linears take bf16 operands and accumulate in f32 on the
// tensor cores, writing (or adding, for the backward) f32 results. 0, or -1 with a message.
int ft_cuda_f32_to_bf16(uint16_t *dst, const float *src, size_t n);
int ft_cuda_bf16_to_f32(float *dst, const uint16_t *src, size_t n);
// out(N,O) = x(N,I) @ w(O,I)^T + bias(O) (bias f32, may be NULL)
int ft_cuda_matmul_bf16(float *out, const uint16_t *x, const uint16_t *w, const float *bias, int N, int I, int O);
// dx(N,I) += dout(N,O) @ w(O,I); dw(O,I) += dout^T @ x(N,I) (dx or dw may be NULL)
int ft_cuda_matmul_backward_bf16(float *dx, float *dw, const uint16_t *dout, const uint16_t *x, const uint16_t *w,
                                 int N, int I, int O);

#ifdef __cplusplus
}
#endif

#endif
