// cuda_attention.cu — causal self-attention with GQA and document masking on the GPU, flash
// style: scores are computed tile by tile in shared memory and never stored.
//   forward  : a block owns BR query rows of one (b, query head) and streams key/value tiles of
//              BK rows, with an online softmax; saves lse(B, Hq, T) as the CPU op does.
//   backward : P = exp(S - lse) is recomputed from the saved lse. One kernel owns query rows
//              (dQ += scale dS K), another owns key rows of one kv head and loops over every
//              query head of its group (dV += P^T dO, dK += scale dS^T Q), so no atomics.
// Inside a tile, lane j of a warp computes the dot products of one (own row, other row j)
// pair; the accumulation over the head dimension then gives lane l the dims l, l+32, ...
// (ND of them, ND = ceil(D/32), D <= 256), with the weights broadcast by warp shuffles.
// Masks: key s is visible from query t when s <= t and doc[b,s] == doc[b,t]; lo(B,T) (first
// position of t's document) only narrows the tiles visited.
#include "cuda_common.cuh"

#include <limits.h>
#include <math.h>

enum { WARPS = 8, RW = 4, BR = WARPS * RW, BK = 32, NT = WARPS * 32 };

__device__ static inline float wsum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ static inline float wmax(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ static inline int wmin_i(int v) {
    for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ static inline float dot_sm(const float *a, const float *b, int D) {
    float s = 0.0f;
    for (int d = 0; d < D; d++) s += a[d] * b[d];
    return s;
}

// Rows [r0, r0+n) of a (B, T, H, D) tensor at head h into shared rows of stride SD (zeros past T).
__device__ static void load_rows(float *dst, const float *src, int b, int r0, int n, int T, int H, int h, int D,
                                 int SD) {
    for (int i = threadIdx.x; i < n * D; i += blockDim.x) {
        int r = i / D, d = i % D, t = r0 + r;
        dst[r * SD + d] = t < T ? src[(((size_t)b * T + t) * H + h) * D + d] : 0.0f;
    }
}

// lo(B,T): first s with doc[b,s] == doc[b,t] (0 without documents).
// With a sliding window (window > 0), the first visible key is at least t - window + 1.
__global__ static void doc_lo_kernel(int *lo, const int32_t *doc, int B, int T, int window) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= (size_t)B * T) return;
    int t = (int)(i % T), w0 = window > 0 ? max(0, t - window + 1) : 0;
    if (!doc) { lo[i] = w0; return; }
    const int32_t *d = doc + i / T * T;
    int32_t id = doc[i];
    int s = 0;
    while (d[s] != id) s++;
    lo[i] = max(s, w0);
}

// Di(B,Hq,T) = sum_d dout * out, one warp per (b, t, hq)
__global__ static void att_di_kernel(float *Di, const float *dout, const float *out, int B, int T, int Hq, int D) {
    size_t row = blockIdx.x * (size_t)(blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= (size_t)B * T * Hq) return;
    const float *o = out + row * D, *g = dout + row * D;
    float s = 0.0f;
    for (int d = lane; d < D; d += 32) s += o[d] * g[d];
    s = wsum(s);
    int hq = (int)(row % Hq);
    size_t bt = row / Hq;
    int t = (int)(bt % T), b = (int)(bt / T);
    if (lane == 0) Di[((size_t)b * Hq + hq) * T + t] = s;
}

template <int ND>
__global__ static void __launch_bounds__(NT) att_fwd_kernel(float *out, float *lse, const float *q, const float *k,
    const float *v, const int32_t *doc, const int *lo, int T, int Hq, int Hkv, int D, int group, float scale, int window) {
    extern __shared__ float sm[];
    const int SD = D | 1;  // odd row stride: lanes reading different rows hit different banks
    float *Qs = sm, *Ks = Qs + BR * SD, *Vs = Ks + BK * SD;
    int *docq = (int *)(Vs + BK * SD), *dock = docq + BR;
    __shared__ int s_lo;
    int b = blockIdx.z, hq = blockIdx.y, t0 = blockIdx.x * BR, kvh = hq / group;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, R = min(BR, T - t0);
    load_rows(Qs, q, b, t0, BR, T, Hq, hq, D, SD);
    if (warp == 0) {
        int r = lane;  // BR == 32
        docq[r] = doc && r < R ? doc[(size_t)b * T + t0 + r] : 0;
        int l = wmin_i(r < R ? lo[(size_t)b * T + t0 + r] : INT_MAX);
        if (lane == 0) s_lo = l;
    }
    float m[RW], l[RW], acc[RW][ND];
    _Pragma("unroll") for (int rr = 0; rr < RW; rr++) {
        m[rr] = -INFINITY; l[rr] = 0.0f;
        _Pragma("unroll") for (int i = 0; i < ND; i++) acc[rr][i] = 0.0f;
    }
    __syncthreads();
    for (int s0 = s_lo; s0 < t0 + R; s0 += BK) {
        __syncthreads();  // the previous tile is no longer read
        load_rows(Ks, k, b, s0, BK, T, Hkv, kvh, D, SD);
        load_rows(Vs, v, b, s0, BK, T, Hkv, kvh, D, SD);
        if (threadIdx.x < BK) dock[threadIdx.x] = doc && s0 + threadIdx.x < T ? doc[(size_t)b * T + s0 + threadIdx.x] : 0;
        __syncthreads();
        _Pragma("unroll") for (int rr = 0; rr < RW; rr++) {
            int r = warp * RW + rr, t = t0 + r, s = s0 + lane;
            if (r >= R) break;  // warp-uniform
            bool ok = s <= t && (window <= 0 || t - s < window) && (!doc || dock[lane] == docq[r]);
            float sc = ok ? scale * dot_sm(Qs + r * SD, Ks + lane * SD, D) : -INFINITY;
            float mn = fmaxf(m[rr], wmax(sc));
            if (mn == -INFINITY) continue;  // nothing visible yet in this row
            float p = ok ? expf(sc - mn) : 0.0f, corr = expf(m[rr] - mn);
            l[rr] = l[rr] * corr + wsum(p);
            m[rr] = mn;
            _Pragma("unroll") for (int i = 0; i < ND; i++) acc[rr][i] *= corr;
            _Pragma("unroll 4") for (int j = 0; j < BK; j++) {
                float pj = __shfl_sync(0xffffffffu, p, j);
                if (pj == 0.0f) continue;  // same value in every lane: no divergence
                _Pragma("unroll") for (int i = 0; i < ND; i++) {
                    int d = lane + 32 * i;
                    if (d < D) acc[rr][i] += pj * Vs[j * SD + d];
                }
            }
        }
    }
    _Pragma("unroll") for (int rr = 0; rr < RW; rr++) {
        int r = warp * RW + rr, t = t0 + r;
        if (r >= R) break;
        float inv = 1.0f / l[rr];
        float *o = out + (((size_t)b * T + t) * Hq + hq) * D;
        _Pragma("unroll") for (int i = 0; i < ND; i++) {
            int d = lane + 32 * i;
            if (d < D) o[d] = acc[rr][i] * inv;
        }
        if (lane == 0) lse[((size_t)b * Hq + hq) * T + t] = m[rr] + logf(l[rr]);
    }
}

// dQ of BR query rows of one (b, query head): dS = P * (dO V^T - Di), dq += scale dS K.
template <int ND>
__global__ static void __launch_bounds__(NT) att_dq_kernel(float *dq, const float *dout, const float *lse,
    const float *Di, const float *q, const float *k, const float *v, const int32_t *doc, const int *lo, int T,
    int Hq, int Hkv, int D, int group, float scale, int window) {
    extern __shared__ float sm[];
    const int SD = D | 1;
    float *Qs = sm, *Gs = Qs + BR * SD, *Ks = Gs + BR * SD, *Vs = Ks + BK * SD;
    float *ls = Vs + BK * SD, *ds_ = ls + BR;
    int *docq = (int *)(ds_ + BR), *dock = docq + BR;
    __shared__ int s_lo;
    int b = blockIdx.z, hq = blockIdx.y, t0 = blockIdx.x * BR, kvh = hq / group;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, R = min(BR, T - t0);
    load_rows(Qs, q, b, t0, BR, T, Hq, hq, D, SD);
    load_rows(Gs, dout, b, t0, BR, T, Hq, hq, D, SD);
    if (warp == 0) {
        int r = lane;
        size_t li = ((size_t)b * Hq + hq) * T + t0 + r;
        docq[r] = doc && r < R ? doc[(size_t)b * T + t0 + r] : 0;
        ls[r] = r < R ? lse[li] : 0.0f;
        ds_[r] = r < R ? Di[li] : 0.0f;
        int l = wmin_i(r < R ? lo[(size_t)b * T + t0 + r] : INT_MAX);
        if (lane == 0) s_lo = l;
    }
    float acc[RW][ND];
    _Pragma("unroll") for (int rr = 0; rr < RW; rr++) _Pragma("unroll") for (int i = 0; i < ND; i++) acc[rr][i] = 0.0f;
    __syncthreads();
    for (int s0 = s_lo; s0 < t0 + R; s0 += BK) {
        __syncthreads();
        load_rows(Ks, k, b, s0, BK, T, Hkv, kvh, D, SD);
        load_rows(Vs, v, b, s0, BK, T, Hkv, kvh, D, SD);
        if (threadIdx.x < BK) dock[threadIdx.x] = doc && s0 + threadIdx.x < T ? doc[(size_t)b * T + s0 + threadIdx.x] : 0;
        __syncthreads();
        _Pragma("unroll") for (int rr = 0; rr < RW; rr++) {
            int r = warp * RW + rr, t = t0 + r, s = s0 + lane;
            if (r >= R) break;
            bool ok = s <= t && (window <= 0 || t - s < window) && (!doc || dock[lane] == docq[r]);
            float ds = 0.0f;
            if (ok) {
                float p = expf(scale * dot_sm(Qs + r * SD, Ks + lane * SD, D) - ls[r]);
                ds = p * (dot_sm(Gs + r * SD, Vs + lane * SD, D) - ds_[r]);
            }
            _Pragma("unroll 4") for (int j = 0; j < BK; j++) {
                float dj = __shfl_sync(0xffffffffu, ds, j);
                if (dj == 0.0f) continue;
                _Pragma("unroll") for (int i = 0; i < ND; i++) {
                    int d = lane + 32 * i;
                    if (d < D) acc[rr][i] += dj * Ks[j * SD + d];
                }
            }
        }
    }
    _Pragma("unroll") for (int rr = 0; rr < RW; rr++) {
        int r = warp * RW + rr, t = t0 + r;
        if (r >= R) break;
        float *o = dq + (((size_t)b * T + t) * Hq + hq) * D;
        _Pragma("unroll") for (int i = 0; i < ND; i++) {
            int d = lane + 32 * i;
            if (d < D) o[d] += scale * acc[rr][i];
        }
    }
}

// dK, dV of BR key rows of one (b, kv head), summed over the query heads of its group and over
// the query tiles that can see them: dV += P^T dO, dK += scale dS^T Q.
template <int ND>
__global__ static void __launch_bounds__(NT) att_dkv_kernel(float *dk, float *dv, const float *dout,
    const float *lse, const float *Di, const float *q, const float *k, const float *v, const int32_t *doc,
    const int *lo, int T, int Hq, int Hkv, int D, int group, float scale, int window) {
    extern __shared__ float sm[];
    const int SD = D | 1;
    float *Ks = sm, *Vs = Ks + BR * SD, *Qs = Vs + BR * SD, *Gs = Qs + BK * SD;
    float *ls = Gs + BK * SD, *dis = ls + BK;
    int *dock = (int *)(dis + BK), *docq = dock + BR;
    __shared__ int s_minlo;
    int b = blockIdx.z, kvh = blockIdx.y, s0 = blockIdx.x * BR;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, R = min(BR, T - s0);
    load_rows(Ks, k, b, s0, BR, T, Hkv, kvh, D, SD);
    load_rows(Vs, v, b, s0, BR, T, Hkv, kvh, D, SD);
    if (threadIdx.x < BR) dock[threadIdx.x] = doc && (int)threadIdx.x < R ? doc[(size_t)b * T + s0 + threadIdx.x] : 0;
    float ak[RW][ND], av[RW][ND];
    _Pragma("unroll") for (int rr = 0; rr < RW; rr++) _Pragma("unroll") for (int i = 0; i < ND; i++) ak[rr][i] = av[rr][i] = 0.0f;
    int s_last = s0 + R - 1;
    for (int hq = kvh * group; hq < (kvh + 1) * group; hq++) {
        for (int t0 = s0; t0 < T; t0 += BK) {
            __syncthreads();
            load_rows(Qs, q, b, t0, BK, T, Hq, hq, D, SD);
            load_rows(Gs, dout, b, t0, BK, T, Hq, hq, D, SD);
            if (warp == 0) {
                int t = t0 + lane;
                size_t li = ((size_t)b * Hq + hq) * T + t;
                docq[lane] = doc && t < T ? doc[(size_t)b * T + t] : 0;
                ls[lane] = t < T ? lse[li] : 0.0f;
                dis[lane] = t < T ? Di[li] : 0.0f;
                int l = wmin_i(t < T ? lo[(size_t)b * T + t] : INT_MAX);
                if (lane == 0) s_minlo = l;
            }
            __syncthreads();
            if (s_minlo > s_last) continue;  // every query of this tile is in a later document
            _Pragma("unroll") for (int rr = 0; rr < RW; rr++) {
                int r = warp * RW + rr, s = s0 + r, t = t0 + lane;
                if (r >= R) break;
                bool ok = t < T && s <= t && (window <= 0 || t - s < window) && (!doc || docq[lane] == dock[r]);
                float p = 0.0f, ds = 0.0f;
                if (ok) {
                    p = expf(scale * dot_sm(Qs + lane * SD, Ks + r * SD, D) - ls[lane]);
                    ds = p * (dot_sm(Gs + lane * SD, Vs + r * SD, D) - dis[lane]);
                }
                _Pragma("unroll 4") for (int j = 0; j < BK; j++) {
                    float pj = __shfl_sync(0xffffffffu, p, j), dj = __shfl_sync(0xffffffffu, ds, j);
                    if (pj == 0.0f && dj == 0.0f) continue;
                    _Pragma("unroll") for (int i = 0; i < ND; i++) {
                        int d = lane + 32 * i;
                        if (d < D) {
                            av[rr][i] += pj * Gs[j * SD + d];
                            ak[rr][i] += dj * Qs[j * SD + d];
                        }
                    }
                }
            }
        }
    }
    _Pragma("unroll") for (int rr = 0; rr < RW; rr++) {
        int r = warp * RW + rr, s = s0 + r;
        if (r >= R) break;
        size_t off = (((size_t)b * T + s) * Hkv + kvh) * D;
        _Pragma("unroll") for (int i = 0; i < ND; i++) {
            int d = lane + 32 * i;
            if (d >= D) continue;
            if (dk) dk[off + d] += scale * ak[rr][i];
            if (dv) dv[off + d] += av[rr][i];
        }
    }
}

// Bytes of dynamic shared memory per kernel (float rows of stride D|1 plus small per-row arrays).
static size_t fwd_smem(int D) { return ((size_t)(BR + 2 * BK) * (D | 1)) * 4 + (BR + BK) * 4; }
static size_t bwd_smem(int D) { return ((size_t)(2 * BR + 2 * BK) * (D | 1)) * 4 + (3 * BR + 3 * BK) * 4; }

// Checks the shape and computes lo; returns lo (device, scratch) or NULL with a message.
static const int *att_prepare(const char *op, const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window) {
    if (Hkv <= 0 || Hq % Hkv != 0 || D <= 0) {
        ft_err("cuda: %s: %d query heads are not a multiple of %d kv heads (head dim %d)", op, Hq, Hkv, D);
        return NULL;
    }
    if (D > 256) {
        ft_err("cuda: %s: head dim %d > 256 is not supported by the CUDA attention kernels", op, D);
        return NULL;
    }
    int *lo = (int *)ft_cuda_scratch(FT_SCR_ATT_LO, (size_t)B * T * sizeof(int), op);
    if (!lo) return NULL;
    size_t n = (size_t)B * T;
    doc_lo_kernel<<<ft_cuda_blocks(n, 256), 256>>>(lo, doc, B, T, window);
    return CUDA_LAUNCHED(op) < 0 ? NULL : lo;
}

template <typename K> static int set_smem(K kernel, size_t bytes, const char *op) {
    if (bytes <= 48 * 1024) return 0;
    return CUDA_OK(op, cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes)) ? 0 : -1;
}

template <int ND>
static int att_fwd_launch(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *doc,
                          const int *lo, int B, int T, int Hq, int Hkv, int D, int window, float scale) {
    size_t sm = fwd_smem(D);
    if (set_smem(att_fwd_kernel<ND>, sm, "attention") < 0) return -1;
    dim3 grid((T + BR - 1) / BR, Hq, B);
    att_fwd_kernel<ND><<<grid, NT, sm>>>(out, lse, q, k, v, doc, lo, T, Hq, Hkv, D, Hq / Hkv, scale, window);
    return CUDA_LAUNCHED("attention");
}

template <int ND>
static int att_bwd_launch(float *dq, float *dk, float *dv, const float *dout, const float *lse, const float *Di,
                          const float *q, const float *k, const float *v, const int32_t *doc, const int *lo, int B,
                          int T, int Hq, int Hkv, int D, int window, float scale) {
    size_t sm = bwd_smem(D);
    if (dq) {
        if (set_smem(att_dq_kernel<ND>, sm, "attention_backward dq") < 0) return -1;
        att_dq_kernel<ND><<<dim3((T + BR - 1) / BR, Hq, B), NT, sm>>>(dq, dout, lse, Di, q, k, v, doc, lo, T, Hq,
                                                                      Hkv, D, Hq / Hkv, scale, window);
        if (CUDA_LAUNCHED("attention_backward dq") < 0) return -1;
    }
    if (dk || dv) {
        if (set_smem(att_dkv_kernel<ND>, sm, "attention_backward dk/dv") < 0) return -1;
        att_dkv_kernel<ND><<<dim3((T + BR - 1) / BR, Hkv, B), NT, sm>>>(dk, dv, dout, lse, Di, q, k, v, doc, lo, T,
                                                                         Hq, Hkv, D, Hq / Hkv, scale, window);
        if (CUDA_LAUNCHED("attention_backward dk/dv") < 0) return -1;
    }
    return 0;
}

// The sliding-window variants (Gemma 3: query t sees keys s > t - window; scores times scale).
void ft_cuda_attention_window(float *out, float *lse, const float *q, const float *k, const float *v,
                              const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window, float scale) {
    if (B <= 0 || T <= 0) return;
    const int *lo = att_prepare("attention", doc, B, T, Hq, Hkv, D, window);
    int rc = -1;
    if (lo) {
        if (D <= 32) rc = att_fwd_launch<1>(out, lse, q, k, v, doc, lo, B, T, Hq, Hkv, D, window, scale);
        else if (D <= 64) rc = att_fwd_launch<2>(out, lse, q, k, v, doc, lo, B, T, Hq, Hkv, D, window, scale);
        else if (D <= 128) rc = att_fwd_launch<4>(out, lse, q, k, v, doc, lo, B, T, Hq, Hkv, D, window, scale);
        else rc = att_fwd_launch<8>(out, lse, q, k, v, doc, lo, B, T, Hq, Hkv, D, window, scale);
    }
    if (rc < 0) ft_cuda_fill_nan(out, (size_t)B * T * Hq * D);
}

void ft_cuda_attention_window_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                                       const float *lse, const float *q, const float *k, const float *v,
                                       const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window,
                                       float scale) {
    if (B <= 0 || T <= 0 || (!dq && !dk && !dv)) return;
    const char *op = "attention_backward";
    const int *lo = att_prepare(op, doc, B, T, Hq, Hkv, D, window);
    float *Di = lo ? (float *)ft_cuda_scratch(FT_SCR_ATT_DI, (size_t)B * Hq * T * sizeof(float), op) : NULL;
    int rc = -1;
    if (Di) {
        size_t rows = (size_t)B * T * Hq;
        att_di_kernel<<<ft_cuda_blocks(rows, 8), 256>>>(Di, dout, out, B, T, Hq, D);
        rc = CUDA_LAUNCHED(op);
    }
    if (rc == 0) {
        if (D <= 32) rc = att_bwd_launch<1>(dq, dk, dv, dout, lse, Di, q, k, v, doc, lo, B, T, Hq, Hkv, D, window, scale);
        else if (D <= 64) rc = att_bwd_launch<2>(dq, dk, dv, dout, lse, Di, q, k, v, doc, lo, B, T, Hq, Hkv, D, window, scale);
        else if (D <= 128) rc = att_bwd_launch<4>(dq, dk, dv, dout, lse, Di, q, k, v, doc, lo, B, T, Hq, Hkv, D, window, scale);
        else rc = att_bwd_launch<8>(dq, dk, dv, dout, lse, Di, q, k, v, doc, lo, B, T, Hq, Hkv, D, window, scale);
    }
    if (rc < 0) {
        ft_cuda_fill_nan(dq, (size_t)B * T * Hq * D);
        ft_cuda_fill_nan(dk, (size_t)B * T * Hkv * D);
        ft_cuda_fill_nan(dv, (size_t)B * T * Hkv * D);
    }
}

void ft_cuda_attention(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *doc,
                       int B, int T, int Hq, int Hkv, int D) {
    ft_cuda_attention_window(out, lse, q, k, v, doc, B, T, Hq, Hkv, D, 0, 1.0f / sqrtf((float)D));
}

void ft_cuda_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                                const float *lse, const float *q, const float *k, const float *v,
                                const int32_t *doc, int B, int T, int Hq, int Hkv, int D) {
    ft_cuda_attention_window_backward(dq, dk, dv, dout, out, lse, q, k, v, doc, B, T, Hq, Hkv, D, 0,
                                      1.0f / sqrtf((float)D));
}
