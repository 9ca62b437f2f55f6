// cuda_bf16.cu — the first mixed-precision pieces of the CUDA backend: f32 <-> bf16 conversion
// (round to nearest even, as torch's .to(torch.bfloat16)) and linear layers with bf16 operands
// and f32 accumulation/outputs on the tensor cores (cublasGemmEx, CUBLAS_COMPUTE_32F). Not
// part of the f32 op table yet (ops.h is f32); declared in ft_cuda.h. Device pointers only.
#include "cuda_common.cuh"

#include <cuda_bf16.h>

__global__ static void to_bf16_kernel(__nv_bfloat16 *dst, const float *src, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __float2bfloat16_rn(src[i]);
}

__global__ static void from_bf16_kernel(float *dst, const __nv_bfloat16 *src, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __bfloat162float(src[i]);
}

extern "C" int ft_cuda_f32_to_bf16(uint16_t *dst, const float *src, size_t n) {
    if (!n) return 0;
    to_bf16_kernel<<<ft_cuda_blocks(n, 256), 256>>>((__nv_bfloat16 *)dst, src, n);
    return CUDA_LAUNCHED("f32_to_bf16");
}

extern "C" int ft_cuda_bf16_to_f32(float *dst, const uint16_t *src, size_t n) {
    if (!n) return 0;
    from_bf16_kernel<<<ft_cuda_blocks(n, 256), 256>>>(dst, (const __nv_bfloat16 *)src, n);
    return CUDA_LAUNCHED("bf16_to_f32");
}

// Row-major C(M,N) f32 = alpha op(A) op(B) + beta C with A, B bf16 (operands swapped for
// cuBLAS's column-major view, as ft_cuda_sgemm).
static int gemm_bf16(const char *op, int ta, int tb, int M, int N, int K, float alpha, const uint16_t *A, int lda,
                     const uint16_t *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0 || K <= 0) return 0;
    return CUBLAS_OK(op, cublasGemmEx(ft_cuda_blas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                      N, M, K, &alpha, B, CUDA_R_16BF, ldb, A, CUDA_R_16BF, lda, &beta, C,
                                      CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)) ? 0 : -1;
}

__global__ static void bias_add_bf16_kernel(float *out, const float *bias, size_t n, int O) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] += bias[i % O];
}

// out(N,O) f32 = x(N,I) @ w(O,I)^T + bias(O), x and w bf16
extern "C" int ft_cuda_matmul_bf16(float *out, const uint16_t *x, const uint16_t *w, const float *bias, int N, int I,
                                   int O) {
    if (gemm_bf16("matmul_bf16", 0, 1, N, O, I, 1.0f, x, I, w, I, 0.0f, out, O) < 0) return -1;
    if (bias && N > 0 && O > 0) {
        size_t n = (size_t)N * O;
        bias_add_bf16_kernel<<<ft_cuda_blocks(n, 256), 256>>>(out, bias, n, O);
        return CUDA_LAUNCHED("matmul_bf16 bias");
    }
    return 0;
}

// dx(N,I) += dout(N,O) @ w(O,I); dw(O,I) += dout^T @ x; dout, x, w bf16, dx and dw f32
extern "C" int ft_cuda_matmul_backward_bf16(float *dx, float *dw, const uint16_t *dout, const uint16_t *x,
                                            const uint16_t *w, int N, int I, int O) {
    if (dx && gemm_bf16("matmul_backward_bf16 dx", 0, 0, N, I, O, 1.0f, dout, O, w, I, 1.0f, dx, I) < 0) return -1;
    if (dw && gemm_bf16("matmul_backward_bf16 dw", 1, 0, O, I, N, 1.0f, dout, O, x, I, 1.0f, dw, I) < 0) return -1;
    return 0;
}
