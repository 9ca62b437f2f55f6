// cpu_xent.c — the LM head fused with cross-entropy: logits for a chunk of RC target rows
// at a time (sgemm), a numerically stable log-softmax (max subtracted), the loss summed in
// double, and the gradient softmax - onehot pushed back through the head by two more sgemms.
// Only rows whose mask is set are gathered into chunks, so the (N, V) logits never exist.
// lm_head_xent_rows adds per-row summed log-probabilities and per-position gradient weights
// (sequence-level objectives, lib/train/objective.h); lm_head_xent is it without them. The _bf16
// variants (the --precision bf16 table) run the three products with bf16 operands (cpu_bf16.c).
#pragma GCC optimize("no-trapping-math")  // lets GCC vectorise the clamps of ft_cpu_expf
#include "cpu_internal.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Rows per chunk: about 32 MiB of logits scratch (170 rows at V=49152), between 64 and 256 rows
// so the dw sgemm (inner dimension = rows) stays efficient.
static int chunk_rows(int V) {
    int r = (8 << 20) / (V > 0 ? V : 1);
    return r < 64 ? 64 : r > 256 ? 256 : r;
}

// Softmax statistics of one logits row, in place: row[j] becomes exp(z_j - max); returns
// log(sum_j exp(z_j - max)) + max = logsumexp(z). Sums in float over blocks of 1024 (SIMD
// lanes), blocks added in double.
FT_CPU_CLONES
static double row_exp_lse(float *row, int V, float *mx_out) {
    float mx = -INFINITY;
    #pragma omp simd reduction(max : mx)
    for (int j = 0; j < V; j++) mx = row[j] > mx ? row[j] : mx;
    double sum = 0.0;
    for (int j0 = 0; j0 < V; j0 += 1024) {
        int j1 = j0 + 1024 < V ? j0 + 1024 : V;
        float s = 0.0f;
        #pragma omp simd reduction(+ : s)
        for (int j = j0; j < j1; j++) {
            float e = ft_cpu_expf(row[j] - mx);
            row[j] = e;
            s += e;
        }
        sum += s;
    }
    *mx_out = mx;
    return sum;
}

// The head's three products: f32 sgemm, or bf16 operands with f32 accumulation (cpu_bf16.c).
static void head_gemm(int bf16, int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
                      const uint16_t *B16, int ldb, float beta, float *C, int ldc) {
    if (bf16) ft_cpu_gemm_bf16_auto(ta, tb, M, N, K, 1.0f, A, lda, B, B16, ldb, beta, C, ldc);
    else ft_cpu_sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

FT_CPU_CLONES
static double xent_rows(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                        const uint8_t *mask, int N, int C, int V, float grad_scale, const float *gweight,
                        const int32_t *row, double *row_logp, int n_rows, int bf16) {
    int grad = dh || dw, RC = chunk_rows(V);
    const uint16_t *w16 = bf16 ? ft_cpu_w16(w, (size_t)V * C) : NULL;
    if (row_logp) memset(row_logp, 0, (size_t)(row ? n_rows : N) * sizeof *row_logp);
    float *logits = malloc((size_t)RC * V * sizeof *logits);  // (RC, V)
    float *hc = malloc((size_t)RC * C * sizeof *hc);          // (RC, C) gathered rows of h
    float *dhc = grad ? malloc((size_t)RC * C * sizeof *dhc) : NULL;
    int *idx = malloc(RC * sizeof *idx);
    double *rl = malloc(RC * sizeof *rl);  // per-row losses, summed in row order (deterministic)
    double loss = 0.0;
    if (!logits || !hc || !idx || !rl || (grad && !dhc)) {
        ft_err("lm_head_xent: out of memory for a %d x %d logits chunk", RC, V);
        loss = NAN;
        goto done;
    }
    for (int n0 = 0; n0 < N;) {
        int R = 0;  // gather the next RC rows that are targets
        for (; n0 < N && R < RC; n0++) {
            if (mask && !mask[n0]) continue;
            if (target[n0] < 0 || target[n0] >= V) { loss = NAN; continue; }  // caller's bug: poison the loss
            if (row_logp && row && (row[n0] < 0 || row[n0] >= n_rows)) { loss = NAN; continue; }  // likewise
            idx[R] = n0;
            memcpy(hc + (size_t)R * C, h + (size_t)n0 * C, (size_t)C * sizeof *hc);
            R++;
        }
        if (R == 0) break;
        head_gemm(bf16, 0, 1, R, V, C, hc, C, w, w16, C, 0.0f, logits, V);
        #pragma omp parallel for schedule(static)
        for (int r = 0; r < R; r++) {
            float *z = logits + (size_t)r * V;
            int tgt = target[idx[r]];
            float zt = z[tgt], mx;
            double sum = row_exp_lse(z, V, &mx);
            rl[r] = log(sum) + mx - zt;  // -log softmax[tgt] = lse - z[tgt]
            if (grad) {  // d(loss*gs)/dz = gs * (softmax - onehot), gs = this position's weight
                float gs = gweight ? gweight[idx[r]] : grad_scale;
                float k = (float)(gs / sum);
                #pragma omp simd
                for (int j = 0; j < V; j++) z[j] *= k;
                z[tgt] -= gs;
            }
        }
        for (int r = 0; r < R; r++) loss += rl[r];
        if (row_logp)  // log softmax[tgt] = -rl, summed per row in position order
            for (int r = 0; r < R; r++) row_logp[row ? row[idx[r]] : idx[r]] -= rl[r];
        if (!grad) continue;
        if (dh) {
            head_gemm(bf16, 0, 0, R, C, V, logits, V, w, w16, C, 0.0f, dhc, C);
            for (int r = 0; r < R; r++) {
                float *d = dh + (size_t)idx[r] * C;
                const float *s = dhc + (size_t)r * C;
                for (int c = 0; c < C; c++) d[c] += s[c];
            }
        }
        if (dw) head_gemm(bf16, 1, 0, V, C, R, logits, V, hc, NULL, C, 1.0f, dw, C);
    }
done:
    free(logits); free(hc); free(dhc); free(idx); free(rl);
    return loss;
}

double ft_cpu_lm_head_xent_rows(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                                const uint8_t *mask, int N, int C, int V, float grad_scale, const float *gweight,
                                const int32_t *row, double *row_logp, int n_rows) {
    return xent_rows(dh, dw, h, w, target, mask, N, C, V, grad_scale, gweight, row, row_logp, n_rows, 0);
}

double ft_cpu_lm_head_xent_rows_bf16(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                                     const uint8_t *mask, int N, int C, int V, float grad_scale, const float *gweight,
                                     const int32_t *row, double *row_logp, int n_rows) {
    return xent_rows(dh, dw, h, w, target, mask, N, C, V, grad_scale, gweight, row, row_logp, n_rows, 1);
}

double ft_cpu_lm_head_xent_bf16(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                                const uint8_t *mask, int N, int C, int V, float grad_scale) {
    return xent_rows(dh, dw, h, w, target, mask, N, C, V, grad_scale, NULL, NULL, NULL, 0, 1);
}

double ft_cpu_lm_head_xent(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                           const uint8_t *mask, int N, int C, int V, float grad_scale) {
    return ft_cpu_lm_head_xent_rows(dh, dw, h, w, target, mask, N, C, V, grad_scale, NULL, NULL, NULL, 0);
}
