// cpu_xent.c — the LM head fused with cross-entropy: logits for a chunk of RC target rows
// at a time (sgemm), a numerically stable log-softmax (max subtracted), the loss summed in
// double, and the gradient softmax - onehot pushed back through the head by two more sgemms.
// Only rows whose mask is set are gathered into chunks, so the (N, V) logits never exist.
#include "cpu_internal.h"
#include "err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RC = 128 };  // rows per chunk: logits scratch is RC*V floats (24 MiB at V=49152)

double ft_cpu_lm_head_xent(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                           const uint8_t *mask, int N, int C, int V, float grad_scale) {
    int grad = dh || dw;
    float *logits = malloc((size_t)RC * V * sizeof *logits);  // (RC, V)
    float *hc = malloc((size_t)RC * C * sizeof *hc);          // (RC, C) gathered rows of h
    float *dhc = grad ? malloc((size_t)RC * C * sizeof *dhc) : NULL;
    int *idx = malloc(RC * sizeof *idx);
    double loss = 0.0;
    if (!logits || !hc || !idx || (grad && !dhc)) {
        ft_err("lm_head_xent: out of memory for a %d x %d logits chunk", RC, V);
        loss = NAN;
        goto done;
    }
    for (int n0 = 0; n0 < N;) {
        int R = 0;  // gather the next RC rows that are targets
        for (; n0 < N && R < RC; n0++) {
            if (mask && !mask[n0]) continue;
            if (target[n0] < 0 || target[n0] >= V) { loss = NAN; continue; }  // caller's bug: poison the loss
            idx[R] = n0;
            memcpy(hc + (size_t)R * C, h + (size_t)n0 * C, (size_t)C * sizeof *hc);
            R++;
        }
        if (R == 0) break;
        ft_cpu_sgemm(0, 1, R, V, C, 1.0f, hc, C, w, C, 0.0f, logits, V);
        double chunk_loss = 0.0;
        #pragma omp parallel for schedule(static) reduction(+ : chunk_loss)
        for (int r = 0; r < R; r++) {
            float *row = logits + (size_t)r * V;
            int tgt = target[idx[r]];
            float mx = -INFINITY;
            for (int j = 0; j < V; j++) mx = row[j] > mx ? row[j] : mx;
            float zt = row[tgt] - mx;
            double sum = 0.0;
            for (int j = 0; j < V; j++) { row[j] = expf(row[j] - mx); sum += row[j]; }
            chunk_loss += log(sum) - zt;  // -log softmax[tgt] = lse - z[tgt]
            if (grad) {  // d(loss*grad_scale)/dz = grad_scale * (softmax - onehot)
                float k = (float)(grad_scale / sum);
                for (int j = 0; j < V; j++) row[j] *= k;
                row[tgt] -= grad_scale;
            }
        }
        loss += chunk_loss;
        if (!grad) continue;
        if (dh) {
            ft_cpu_sgemm(0, 0, R, C, V, 1.0f, logits, V, w, C, 0.0f, dhc, C);
            for (int r = 0; r < R; r++) {
                float *d = dh + (size_t)idx[r] * C;
                const float *s = dhc + (size_t)r * C;
                for (int c = 0; c < C; c++) d[c] += s[c];
            }
        }
        if (dw) ft_cpu_sgemm(1, 0, V, C, R, 1.0f, logits, V, hc, C, 1.0f, dw, C);
    }
done:
    free(logits); free(hc); free(dhc); free(idx);
    return loss;
}
