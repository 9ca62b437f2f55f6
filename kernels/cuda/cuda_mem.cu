// cuda_mem.cu — CUDA twins of the ops kernels/cpu/cpu_mem.c holds: the gradient norm's sum of
// squares (per-block double partials, atomically added), the clipping scale, and attention of
// new queries over a KV cache (decoding: a block per (query, head), scores in scratch memory,
// max / exp-sum by block reductions, softmax scale 1/sqrt(D) as the CPU reference).
#include "cuda_common.cuh"

#include <math.h>

#define GRID_STRIDE(i, n) \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

__global__ static void sumsq_kernel(double *out, const float *x, size_t n) {
    __shared__ double part[256];
    double s = 0;
    GRID_STRIDE(i, n) s += (double)x[i] * x[i];
    part[threadIdx.x] = s;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if ((int)threadIdx.x < k) part[threadIdx.x] += part[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(out, part[0]);
}

double ft_cuda_sumsq(const float *x, size_t n) {
    if (!n) return 0;
    double *d = (double *)ft_cuda_alloc_for(sizeof(double), "sumsq"), h = NAN;
    if (!d) return NAN;
    if (CUDA_OK("sumsq", cudaMemset(d, 0, sizeof(double)))) {
        unsigned blocks = ft_cuda_blocks(n, 256);
        sumsq_kernel<<<blocks < 1024 ? blocks : 1024, 256>>>(d, x, n);
        if (CUDA_LAUNCHED("sumsq") == 0) (void)CUDA_OK("sumsq", cudaMemcpy(&h, d, sizeof h, cudaMemcpyDeviceToHost));
    }
    cudaFree(d);
    return h;
}

__global__ static void scale_kernel(float *x, float s, size_t n) {
    GRID_STRIDE(i, n) x[i] *= s;
}

void ft_cuda_scale(float *x, float s, size_t n) {
    if (!n) return;
    scale_kernel<<<ft_cuda_blocks(n, 256), 256>>>(x, s, n);
    CUDA_LAUNCHED("scale");
}

// block (i, h): query i of head h; sc = this query's ctx scores (p0 + n floats reserved)
__global__ static void attn_cached_kernel(float *out, float *scores, const float *q, const float *kc,
                                          const float *vc, int n, int p0, int Hq, int Hkv, int D) {
    int i = blockIdx.x, h = blockIdx.y, kh = h / (Hq / Hkv), kvd = Hkv * D, ctx = p0 + i + 1;
    float scale = 1.0f / sqrtf((float)D);
    const float *qi = q + ((size_t)i * Hq + h) * D;
    float *sc = scores + ((size_t)i * Hq + h) * (size_t)(p0 + n);
    __shared__ float red[256];
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < ctx; j += blockDim.x) {
        const float *kj = kc + (size_t)j * kvd + (size_t)kh * D;
        float d = 0;
        for (int e = 0; e < D; e++) d += qi[e] * kj[e];
        sc[j] = d * scale;
        mx = fmaxf(mx, sc[j]);
    }
    red[threadIdx.x] = mx;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if ((int)threadIdx.x < k) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + k]);
        __syncthreads();
    }
    mx = red[0];
    __syncthreads();
    float sum = 0;
    for (int j = threadIdx.x; j < ctx; j += blockDim.x) {
        sc[j] = expf(sc[j] - mx);
        sum += sc[j];
    }
    red[threadIdx.x] = sum;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if ((int)threadIdx.x < k) red[threadIdx.x] += red[threadIdx.x + k];
        __syncthreads();
    }
    sum = red[0];
    for (int e = threadIdx.x; e < D; e += blockDim.x) {
        float o = 0;
        for (int j = 0; j < ctx; j++) o += sc[j] / sum * vc[(size_t)j * kvd + (size_t)kh * D + e];
        out[((size_t)i * Hq + h) * D + e] = o;
    }
}

void ft_cuda_attention_cached(float *out, const float *q, const float *kc, const float *vc, int n,
                              int p0, int Hq, int Hkv, int D) {
    if (n <= 0) return;
    size_t bytes = (size_t)n * Hq * (size_t)(p0 + n) * sizeof(float);
    float *sc = (float *)ft_cuda_scratch(FT_SCR_ATT_KV, bytes, "attention_cached");
    if (!sc) { ft_cuda_fill_nan(out, (size_t)n * Hq * D); return; }
    attn_cached_kernel<<<dim3(n, Hq), 256>>>(out, sc, q, kc, vc, n, p0, Hq, Hkv, D);
    CUDA_LAUNCHED("attention_cached");
}
