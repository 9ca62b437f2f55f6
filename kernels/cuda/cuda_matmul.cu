// cuda_matmul.cu — dense linear algebra of the CUDA op table: the row-major sgemm wrapper over
// cuBLAS (f32 in/out, f32 accumulation, no TF32 unless FT_CUDA_TF32=1), linear layers forward and
// backward (bias add and bias gradient kernels) and the inference LM head.
#include "cuda_common.cuh"

// cuBLAS is column-major: a row-major (M, N) matrix is its (N, M) transpose, so row-major
// C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, i.e. the operands swap.
int ft_cuda_sgemm(const char *op, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                  int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return 0;
    if (K <= 0) {  // op(A) op(B) is zero: C = beta*C (cuBLAS would reject K = 0 with lda checks)
        const float zero = 0.0f;
        return CUBLAS_OK(op, cublasSgeam(ft_cuda_blas(), CUBLAS_OP_N, CUBLAS_OP_N, N, M, &beta, C, ldc,
                                         &zero, C, ldc, C, ldc)) ? 0 : -1;
    }
    return CUBLAS_OK(op, cublasSgemm(ft_cuda_blas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                     N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc)) ? 0 : -1;
}

// out(N,O) += bias(O) broadcast over rows
__global__ static void bias_add_kernel(float *out, const float *bias, size_t n, int O) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] += bias[i % O];
}

// dbias(O) += column sums of dout(N,O): a block of 256 columns x ROWS rows per thread block,
// partial sums added with atomicAdd (f32, order not fixed).
enum { DB_ROWS = 64 };
__global__ static void bias_grad_kernel(float *dbias, const float *dout, int N, int O) {
    int j = blockIdx.x * blockDim.x + threadIdx.x, n0 = blockIdx.y * DB_ROWS;
    if (j >= O) return;
    int n1 = n0 + DB_ROWS < N ? n0 + DB_ROWS : N;
    float s = 0.0f;
    for (int n = n0; n < n1; n++) s += dout[(size_t)n * O + j];
    atomicAdd(&dbias[j], s);
}

void ft_cuda_matmul(float *out, const float *x, const float *w, const float *bias, int N, int I, int O) {
    if (N <= 0 || O <= 0) return;
    if (ft_cuda_sgemm("matmul", 0, 1, N, O, I, 1.0f, x, I, w, I, 0.0f, out, O) < 0) {
        ft_cuda_fill_nan(out, (size_t)N * O);
        return;
    }
    if (bias) {
        size_t n = (size_t)N * O;
        bias_add_kernel<<<ft_cuda_blocks(n, 256), 256>>>(out, bias, n, O);
        CUDA_LAUNCHED("matmul bias");
    }
}

// dx(N,I) += dout(N,O) @ w(O,I); dw(O,I) += dout^T @ x(N,I); dbias(O) += sum_n dout
void ft_cuda_matmul_backward(float *dx, float *dw, float *dbias, const float *dout, const float *x,
                             const float *w, int N, int I, int O) {
    if (N <= 0) return;
    if (dx && ft_cuda_sgemm("matmul_backward dx", 0, 0, N, I, O, 1.0f, dout, O, w, I, 1.0f, dx, I) < 0)
        ft_cuda_fill_nan(dx, (size_t)N * I);
    if (dw && ft_cuda_sgemm("matmul_backward dw", 1, 0, O, I, N, 1.0f, dout, O, x, I, 1.0f, dw, I) < 0)
        ft_cuda_fill_nan(dw, (size_t)O * I);
    if (dbias && O > 0) {
        dim3 grid((O + 255) / 256, (N + DB_ROWS - 1) / DB_ROWS);
        bias_grad_kernel<<<grid, 256>>>(dbias, dout, N, O);
        CUDA_LAUNCHED("matmul_backward dbias");
    }
}

// logits(N,V) = h(N,C) @ w(V,C)^T
void ft_cuda_lm_head_logits(float *logits, const float *h, const float *w, int N, int C, int V) {
    if (ft_cuda_sgemm("lm_head_logits", 0, 1, N, V, C, 1.0f, h, C, w, C, 0.0f, logits, V) < 0)
        ft_cuda_fill_nan(logits, (size_t)N * V);
}
