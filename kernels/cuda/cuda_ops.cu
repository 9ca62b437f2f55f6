// cuda_ops.cu — the CUDA op table (kernels/ops.h on NVIDIA GPUs): device discovery and the
// cuBLAS handle (once, on the first ft_ops_cuda()), error recording that names the op and the
// call, grow-only scratch buffers, the C helpers of ft_cuda.h, and the table itself.
// Every tensor pointer passed to these ops is a DEVICE pointer (contract in ft_cuda.h).
#include "cuda_common.cuh"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cublasHandle_t g_blas;
static int g_ready;            // 1 after a successful init, -1 after a failed one
static char g_init_msg[256];   // why init failed (replayed to every later caller)
static char g_name[320];
static int g_tf32;             // FT_CUDA_TF32 set: cuBLAS may use TF32 tensor cores
static size_t g_mem;
static volatile int g_failed;  // an op failed since the last ft_cuda_sync
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_scr_lock = PTHREAD_MUTEX_INITIALIZER;
static void *g_scr[FT_SCR_COUNT];
static size_t g_scr_size[FT_SCR_COUNT];

int ft_cuda_check(cudaError_t e, const char *op, const char *call) {
    if (e == cudaSuccess) return 0;
    if (!g_failed) ft_err("cuda: %s: %s: %s", op, call, cudaGetErrorString(e));
    g_failed = 1;
    return -1;
}

static const char *blas_status(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "cuBLAS not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "cuBLAS allocation failed (device out of memory)";
    case CUBLAS_STATUS_INVALID_VALUE: return "invalid value (a shape or leading dimension)";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "architecture mismatch";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "execution failed";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "internal error";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "not supported";
    default: return "cuBLAS error";
    }
}

int ft_cublas_check(cublasStatus_t s, const char *op, const char *call) {
    if (s == CUBLAS_STATUS_SUCCESS) return 0;
    if (!g_failed) ft_err("cuda: %s: %s: %s (status %d)", op, call, blas_status(s), (int)s);
    g_failed = 1;
    return -1;
}

cublasHandle_t ft_cuda_blas(void) { return g_blas; }

static void init_once(void) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        snprintf(g_init_msg, sizeof g_init_msg, "cuda: no CUDA device visible (%s)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "cudaGetDeviceCount found 0 devices");
        g_ready = -1;
        return;
    }
    cudaDeviceProp prop;
    if ((e = cudaSetDevice(0)) != cudaSuccess || (e = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess) {
        snprintf(g_init_msg, sizeof g_init_msg, "cuda: device 0: %s", cudaGetErrorString(e));
        g_ready = -1;
        return;
    }
    cublasStatus_t s = cublasCreate(&g_blas);
    // f32 GEMMs stay f32 (cuBLAS uses TF32 only when asked); FT_CUDA_TF32=1 opts in to TF32
    // tensor cores (about 8x the f32 rate, 10-bit mantissa products: not for the op tests).
    const char *tf32 = getenv("FT_CUDA_TF32");
    g_tf32 = tf32 && *tf32 && strcmp(tf32, "0") != 0;
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasSetMathMode(g_blas, g_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
    if (s != CUBLAS_STATUS_SUCCESS) {
        snprintf(g_init_msg, sizeof g_init_msg, "cuda: cublasCreate: %s", blas_status(s));
        g_ready = -1;
        return;
    }
    snprintf(g_name, sizeof g_name, "%s (sm_%d%d, %d SMs, %s GEMMs)", prop.name, prop.major, prop.minor,
             prop.multiProcessorCount, g_tf32 ? "TF32" : "f32");
    g_mem = prop.totalGlobalMem;
    g_ready = 1;
}

void *ft_cuda_alloc_for(size_t bytes, const char *op) {
    void *p = NULL;
    if (bytes == 0) bytes = 1;
    cudaError_t e = cudaMalloc(&p, bytes);
    if (e == cudaSuccess) return p;
    cudaGetLastError();  // clear the (non-sticky) allocation error
    size_t fr = 0, tot = 0;
    cudaMemGetInfo(&fr, &tot);
    if (!g_failed)
        ft_err("cuda: %s: out of device memory: asked for %.1f MiB, %.1f of %.1f MiB free "
               "(lower --batch or --seq-len, or use --grad-checkpoint)", op, bytes / 1048576.0,
               fr / 1048576.0, tot / 1048576.0);
    g_failed = 1;
    return NULL;
}

void *ft_cuda_scratch(int kind, size_t bytes, const char *op) {
    pthread_mutex_lock(&g_scr_lock);
    void *p = g_scr[kind];
    if (g_scr_size[kind] < bytes) {
        if (g_scr[kind]) { cudaDeviceSynchronize(); cudaFree(g_scr[kind]); }
        size_t want = bytes + bytes / 4;  // some headroom: shapes vary a little between steps
        p = ft_cuda_alloc_for(want, op);
        g_scr[kind] = p;
        g_scr_size[kind] = p ? want : 0;
    }
    pthread_mutex_unlock(&g_scr_lock);
    return p;
}

void ft_cuda_fill_nan(float *p, size_t n) {
    if (p && n) cudaMemset(p, 0xFF, n * sizeof *p);  // all-ones bits: a quiet NaN
}

// --- the C helpers (ft_cuda.h) -------------------------------------------------------------
extern "C" void *ft_cuda_malloc(size_t bytes) { return ft_cuda_alloc_for(bytes, "malloc"); }
extern "C" void ft_cuda_free(void *p) { if (p) cudaFree(p); }
extern "C" int ft_cuda_upload(void *dst, const void *src, size_t bytes) {
    return CUDA_OK("upload", cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice)) ? 0 : -1;
}
extern "C" int ft_cuda_download(void *dst, const void *src, size_t bytes) {
    return CUDA_OK("download", cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost)) ? 0 : -1;
}
extern "C" int ft_cuda_memset(void *dst, int byte, size_t bytes) {
    return CUDA_OK("memset", cudaMemset(dst, byte, bytes)) ? 0 : -1;
}
static int cuda_copy(void *dst, const void *src, size_t bytes) {
    return CUDA_OK("copy", cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice)) ? 0 : -1;
}
static int cuda_zero(void *dst, size_t bytes) { return ft_cuda_memset(dst, 0, bytes); }
extern "C" int ft_cuda_sync(void) {
    (void)CUDA_OK("sync", cudaDeviceSynchronize());
    int f = g_failed;
    g_failed = 0;
    return f ? -1 : 0;
}
extern "C" const char *ft_cuda_device_name(void) { return g_name; }
extern "C" size_t ft_cuda_device_memory(void) { return g_mem; }

static const ft_ops cuda_ops = {
    "cuda",
    ft_cuda_matmul,
    ft_cuda_matmul_backward,
    ft_cuda_rmsnorm,
    ft_cuda_rmsnorm_backward,
    ft_cuda_rope,
    ft_cuda_rope_backward,
    ft_cuda_attention,
    ft_cuda_attention_backward,
    ft_cuda_swiglu,
    ft_cuda_swiglu_backward,
    ft_cuda_embedding,
    ft_cuda_embedding_backward,
    ft_cuda_lm_head_xent,
    ft_cuda_lm_head_xent_rows,
    ft_cuda_lm_head_logits,
    ft_cuda_adamw,
    ft_cuda_add,
    ft_cuda_add_inplace,
    ft_cuda_scale_add,
    NULL,   // qmatmul: no CUDA twin yet (docs/cuda.md)
    NULL,   // qmatmul_backward
    NULL,   // act
    NULL,   // act_backward
    NULL,   // dropout
    FT_DEVICE_CUDA,
    0,      // host_access: device pointers
    ft_cuda_malloc,
    ft_cuda_free,
    ft_cuda_upload,
    ft_cuda_download,
    cuda_copy,
    cuda_zero,
    ft_cuda_attention_cached,
    ft_cuda_sumsq,
    ft_cuda_scale,
    NULL,   // fill: no CUDA twins yet for the DoRA / bottleneck / virtual-token ops (docs/cuda.md)
    NULL,   // div
    NULL,   // scale_cols
    NULL,   // tanh_backward
    NULL,   // dora_norm
    NULL,   // dora_combine
    NULL,   // dora_gain_backward
    NULL,   // dora_norm_backward_B
    NULL,   // dora_norm_backward_A
    NULL,   // dora_norm_backward_W
    ft_cuda_geglu,
    ft_cuda_geglu_backward,
    ft_cuda_attention_window,
    ft_cuda_attention_window_backward,
    NULL,   // attention_cached_window: no CUDA twin yet (docs/cuda.md): Gemma 3 decodes on the cpu
    NULL,   // qtmatmul: no CUDA twin yet (a model with native weights stays on the cpu)
    NULL,   // attention_decode
};

// The strong definition of ft_ops_cuda (kernels/cpu/cuda_stub.c has the weak NULL one, left
// out of CUDA builds by the Makefile). NULL + message when no device is usable.
extern "C" const ft_ops *ft_ops_cuda(void) {
    pthread_once(&g_once, init_once);
    if (g_ready != 1) {
        ft_err("%s", g_init_msg);
        return NULL;
    }
    return &cuda_ops;
}
