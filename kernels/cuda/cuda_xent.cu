// cuda_xent.cu — the LM head fused with cross-entropy on the GPU, in chunks of RC target rows
// so the (N, V) logits never exist at once: rows whose mask is set are gathered (the index list
// is built on the host from the downloaded mask and targets, N + N/4 bytes), logits come from
// one cuBLAS sgemm per chunk, a block per row computes the stable log-softmax, the loss of that
// row (double) and, in place, the gradient grad_scale * (softmax - onehot), which two more
// sgemms push back into dh (scattered to the gathered rows) and dw. Per-row losses are summed
// on the host in row order, so the result does not depend on scheduling. lm_head_xent_rows
// adds per-row log-probabilities (summed on the host from the same per-row losses, with the
// row index list downloaded beside the targets) and per-position gradient weights (read by the
// row kernel in place of grad_scale); lm_head_xent is it without them.
#include "cuda_common.cuh"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Rows per chunk: about 256 MiB of f32 logits, between 64 and 2048 rows.
static int chunk_rows(int V) {
    long r = (64L << 20) / (V > 0 ? V : 1);
    return (int)(r < 64 ? 64 : r > 2048 ? 2048 : r);
}

__global__ static void gather_rows_kernel(float *dst, const float *src, const int *idx, int R, int C) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (size_t)R * C; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = src[(size_t)idx[i / C] * C + i % C];
}

__global__ static void scatter_add_rows_kernel(float *dst, const float *src, const int *idx, int R, int C) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (size_t)R * C; i += (size_t)gridDim.x * blockDim.x)
        dst[(size_t)idx[i / C] * C + i % C] += src[i];  // gathered rows are distinct: no races
}

// One block per row of logits(R, V): loss[r] = logsumexp(z) - z[tgt]; with grad, the row becomes
// gs * (softmax(z) - onehot(tgt)), gs = gweight[position] when given, else grad_scale.
enum { XT = 512 };
__global__ static void __launch_bounds__(XT) xent_row_kernel(float *logits, double *loss, const int32_t *target,
                                                             const int *idx, int V, int grad, float grad_scale,
                                                             const float *gweight) {
    __shared__ float red[XT / 32];
    __shared__ double redd[XT / 32];
    int r = blockIdx.x, lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    float *row = logits + (size_t)r * V;
    int tgt = target[idx[r]];
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < V; j += XT) mx = fmaxf(mx, row[j]);
    for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    if (lane == 0) red[warp] = mx;
    __syncthreads();
    mx = red[0];
    for (int w = 1; w < XT / 32; w++) mx = fmaxf(mx, red[w]);
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += XT) s += expf(row[j] - mx);
    double sd = s;
    for (int o = 16; o > 0; o >>= 1) sd += __shfl_xor_sync(0xffffffffu, sd, o);
    if (lane == 0) redd[warp] = sd;
    __syncthreads();
    double sum = 0.0;
    for (int w = 0; w < XT / 32; w++) sum += redd[w];
    float zt = row[tgt];
    __syncthreads();  // every thread has read row[tgt] before it is overwritten
    if (threadIdx.x == 0) loss[r] = log(sum) + mx - zt;
    if (!grad) return;
    float gs = gweight ? gweight[idx[r]] : grad_scale;
    float k = (float)(gs / sum);
    for (int j = threadIdx.x; j < V; j += XT) {
        float p = expf(row[j] - mx) * k;
        row[j] = j == tgt ? p - gs : p;
    }
}

double ft_cuda_lm_head_xent_rows(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                                 const uint8_t *mask, int N, int C, int V, float grad_scale, const float *gweight,
                                 const int32_t *row, double *row_logp, int n_rows) {
    const char *op = "lm_head_xent";
    if (row_logp) memset(row_logp, 0, (size_t)(row ? n_rows : N > 0 ? N : 0) * sizeof *row_logp);
    if (N <= 0) return 0.0;
    int grad = dh || dw, RC = chunk_rows(V), bad = 0, M = 0;
    int32_t *tg = (int32_t *)malloc((size_t)N * sizeof *tg);
    uint8_t *mk = mask ? (uint8_t *)malloc((size_t)N) : NULL;
    int32_t *rw = row_logp && row ? (int32_t *)malloc((size_t)N * sizeof *rw) : NULL;
    int *hidx = (int *)malloc((size_t)N * sizeof *hidx);
    double *hl = (double *)malloc((size_t)N * sizeof *hl), loss = 0.0;
    if (!tg || !hidx || !hl || (mask && !mk) || (row_logp && row && !rw)) {
        ft_err("cuda: %s: out of host memory for %d rows", op, N);
        loss = NAN;
        goto done;
    }
    if (ft_cuda_download(tg, target, (size_t)N * sizeof *tg) < 0 || (mask && ft_cuda_download(mk, mask, (size_t)N) < 0) ||
        (rw && ft_cuda_download(rw, row, (size_t)N * sizeof *rw) < 0)) {
        loss = NAN;
        goto done;
    }
    for (int n = 0; n < N; n++) {
        if (mk && !mk[n]) continue;
        if (tg[n] < 0 || tg[n] >= V) { bad = 1; continue; }  // caller's bug: poison the loss (as the CPU op)
        if (rw && (rw[n] < 0 || rw[n] >= n_rows)) { bad = 1; continue; }
        hidx[M++] = n;
    }
    if (M > 0) {
        int *idx = (int *)ft_cuda_scratch(FT_SCR_XENT_IDX, (size_t)M * sizeof(int), op);
        double *dl = idx ? (double *)ft_cuda_scratch(FT_SCR_XENT_LOSS, (size_t)M * sizeof(double), op) : NULL;
        int rc0 = RC < M ? RC : M;
        float *logits = dl ? (float *)ft_cuda_scratch(FT_SCR_XENT_LOGITS, (size_t)rc0 * V * sizeof(float), op) : NULL;
        float *hc = logits ? (float *)ft_cuda_scratch(FT_SCR_XENT_H, (size_t)rc0 * C * sizeof(float), op) : NULL;
        float *dhc = hc && dh ? (float *)ft_cuda_scratch(FT_SCR_XENT_DH, (size_t)rc0 * C * sizeof(float), op) : NULL;
        if (!hc || (dh && !dhc) || ft_cuda_upload(idx, hidx, (size_t)M * sizeof(int)) < 0) {
            loss = NAN;
            goto done;
        }
        int ok = 1;
        for (int r0 = 0; r0 < M && ok; r0 += RC) {
            int R = M - r0 < RC ? M - r0 : RC;
            size_t rcn = (size_t)R * C;
            gather_rows_kernel<<<ft_cuda_blocks(rcn, 256), 256>>>(hc, h, idx + r0, R, C);
            ok = CUDA_LAUNCHED(op) == 0 && ft_cuda_sgemm(op, 0, 1, R, V, C, 1.0f, hc, C, w, C, 0.0f, logits, V) == 0;
            if (!ok) break;
            xent_row_kernel<<<R, XT>>>(logits, dl + r0, target, idx + r0, V, grad, grad_scale, gweight);
            ok = CUDA_LAUNCHED(op) == 0;
            if (ok && dh) {
                ok = ft_cuda_sgemm(op, 0, 0, R, C, V, 1.0f, logits, V, w, C, 0.0f, dhc, C) == 0;
                if (ok) {
                    scatter_add_rows_kernel<<<ft_cuda_blocks(rcn, 256), 256>>>(dh, dhc, idx + r0, R, C);
                    ok = CUDA_LAUNCHED(op) == 0;
                }
            }
            if (ok && dw) ok = ft_cuda_sgemm(op, 1, 0, V, C, R, 1.0f, logits, V, hc, C, 1.0f, dw, C) == 0;
        }
        if (!ok || ft_cuda_download(hl, dl, (size_t)M * sizeof(double)) < 0) {
            loss = NAN;
            if (dh) ft_cuda_fill_nan(dh, (size_t)N * C);
            if (dw) ft_cuda_fill_nan(dw, (size_t)V * C);
            goto done;
        }
        for (int r = 0; r < M; r++) loss += hl[r];
        if (row_logp)  // in position order, as the CPU op
            for (int r = 0; r < M; r++) row_logp[rw ? rw[hidx[r]] : hidx[r]] -= hl[r];
    }
    if (bad) loss = NAN;
done:
    free(tg); free(mk); free(rw); free(hidx); free(hl);
    return loss;
}

double ft_cuda_lm_head_xent(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                            const uint8_t *mask, int N, int C, int V, float grad_scale) {
    return ft_cuda_lm_head_xent_rows(dh, dw, h, w, target, mask, N, C, V, grad_scale, NULL, NULL, NULL, 0);
}
