// cpu_attention.c — causal self-attention with grouped-query heads (GQA) and document masking
// for packed sequences, forward and flash-style backward (probabilities recomputed from the
// saved log-sum-exp, never stored). Work is cut into tiles of BQ query rows; each tile's
// scores S = Q K^T and the products P V, dO V^T, dS K, dS^T Q are sgemm calls on strided
// views of the (B, T, H, D) tensors, so no transposed copies are made.
#pragma GCC optimize("no-trapping-math")  // lets GCC vectorise the clamps of ft_cpu_expf
#include "cpu_internal.h"
#include "err.h"

#include <math.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

enum { BQ = 64 };  // query rows per tile

// lo(T): for each t of batch row b, the first s with doc[s] == doc[t] (0 without documents).
// Keys before lo[t] can never be attended by t. Costs O(T) per document boundary.
static void doc_starts(int *lo, const int32_t *doc, int T) {
    for (int t = 0; t < T; t++) {
        if (!doc) { lo[t] = 0; continue; }
        if (t > 0 && doc[t] == doc[t - 1]) { lo[t] = lo[t - 1]; continue; }
        int s = 0;
        while (doc[s] != doc[t]) s++;
        lo[t] = s;
    }
}

static int nthreads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// Scores of one tile: S(R, L) = scale * Q[t0:t0+R] @ K[s0:s0+L]^T for query head hq of row b;
// masked entries (s > t or another document) are set to -INFINITY.
static void tile_scores(float *S, const float *q, const float *k, const int32_t *docb, int b, int T,
                        int Hq, int Hkv, int D, int hq, int kvh, int t0, int R, int s0, int L, float scale) {
    const float *qt = q + (((size_t)b * T + t0) * Hq + hq) * D;  // (R, D), row stride Hq*D
    const float *ks = k + (((size_t)b * T + s0) * Hkv + kvh) * D; // (L, D), row stride Hkv*D
    ft_cpu_sgemm(0, 1, R, L, D, scale, qt, Hq * D, ks, Hkv * D, 0.0f, S, L);
    for (int r = 0; r < R; r++) {
        int t = t0 + r;
        float *row = S + (size_t)r * L;
        for (int j = 0; j < L; j++) {
            int s = s0 + j;
            if (s > t || (docb && docb[s] != docb[t])) row[j] = -INFINITY;
        }
    }
}

FT_CPU_CLONES
void ft_cpu_attention(float *out, float *lse, const float *q, const float *k, const float *v,
                      const int32_t *doc, int B, int T, int Hq, int Hkv, int D) {
    int group = Hq / Hkv, ntiles = (T + BQ - 1) / BQ;
    float scale = 1.0f / sqrtf((float)D);
    int *lo = malloc((size_t)B * T * sizeof *lo);
    if (!lo) goto oom;
    for (int b = 0; b < B; b++) doc_starts(lo + (size_t)b * T, doc ? doc + (size_t)b * T : NULL, T);
    long ntask = (long)B * Hq * ntiles;
    int failed = 0;
    #pragma omp parallel reduction(| : failed)
    {
        float *S = malloc((size_t)BQ * T * sizeof *S);  // (BQ, T) scores, then probabilities
        if (!S) failed = 1;
        #pragma omp for schedule(dynamic, 1)
        for (long task = 0; task < ntask; task++) {
            if (!S) continue;
            int tile = (int)(task % ntiles), hq = (int)(task / ntiles % Hq), b = (int)(task / ntiles / Hq);
            int kvh = hq / group, t0 = tile * BQ, R = T - t0 < BQ ? T - t0 : BQ;
            const int *lob = lo + (size_t)b * T;
            const int32_t *docb = doc ? doc + (size_t)b * T : NULL;
            int s0 = t0;
            for (int r = 0; r < R; r++) if (lob[t0 + r] < s0) s0 = lob[t0 + r];
            int L = t0 + R - s0;
            tile_scores(S, q, k, docb, b, T, Hq, Hkv, D, hq, kvh, t0, R, s0, L, scale);
            for (int r = 0; r < R; r++) {
                float *row = S + (size_t)r * L, mx = -INFINITY, sum = 0.0f;
                #pragma omp simd reduction(max : mx)
                for (int j = 0; j < L; j++) mx = row[j] > mx ? row[j] : mx;
                #pragma omp simd reduction(+ : sum)
                for (int j = 0; j < L; j++) { row[j] = ft_cpu_expf(row[j] - mx); sum += row[j]; }
                float inv = 1.0f / sum;
                #pragma omp simd
                for (int j = 0; j < L; j++) row[j] *= inv;
                lse[((size_t)b * Hq + hq) * T + t0 + r] = mx + logf(sum);
            }
            float *ot = out + (((size_t)b * T + t0) * Hq + hq) * D;
            const float *vs = v + (((size_t)b * T + s0) * Hkv + kvh) * D;
            ft_cpu_sgemm(0, 0, R, D, L, 1.0f, S, L, vs, Hkv * D, 0.0f, ot, Hq * D);
        }
        free(S);
    }
    free(lo);
    if (!failed) return;
oom:
    ft_err("attention: out of memory for scratch (T=%d)", T);
    ft_cpu_fill_nan(out, (size_t)B * T * Hq * D);
}

// With P = softmax(S) recomputed as exp(S - lse) and Di = sum_d dO[t,d] * O[t,d]:
//   dV += P^T dO,  dS = P * (dO V^T - Di),  dQ += scale dS K,  dK += scale dS^T Q.
// One task per (b, kv head) owns that head's dK/dV slices, so accumulation needs no atomics;
// it walks the query heads of its group and all query tiles.
FT_CPU_CLONES
void ft_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                               const float *lse, const float *q, const float *k, const float *v,
                               const int32_t *doc, int B, int T, int Hq, int Hkv, int D) {
    int group = Hq / Hkv, ntiles = (T + BQ - 1) / BQ;
    float scale = 1.0f / sqrtf((float)D);
    int *lo = malloc((size_t)B * T * sizeof *lo);
    if (!lo) goto oom;
    for (int b = 0; b < B; b++) doc_starts(lo + (size_t)b * T, doc ? doc + (size_t)b * T : NULL, T);
    int ntask = B * Hkv, failed = 0;
    #pragma omp parallel reduction(| : failed) if (ntask >= nthreads())
    {
        float *P = malloc((size_t)BQ * T * sizeof *P);   // (BQ, T) probabilities
        float *dS = malloc((size_t)BQ * T * sizeof *dS); // (BQ, T) dP, then dS
        float *Di = malloc((size_t)BQ * sizeof *Di);
        if (!P || !dS || !Di) failed = 1;
        #pragma omp for schedule(dynamic, 1)
        for (int task = 0; task < ntask; task++) {
            if (failed) continue;
            int b = task / Hkv, kvh = task % Hkv;
            const int *lob = lo + (size_t)b * T;
            const int32_t *docb = doc ? doc + (size_t)b * T : NULL;
            for (int hq = kvh * group; hq < (kvh + 1) * group; hq++) {
                for (int tile = 0; tile < ntiles; tile++) {
                    int t0 = tile * BQ, R = T - t0 < BQ ? T - t0 : BQ, s0 = t0;
                    for (int r = 0; r < R; r++) if (lob[t0 + r] < s0) s0 = lob[t0 + r];
                    int L = t0 + R - s0;
                    size_t qoff = (((size_t)b * T + t0) * Hq + hq) * D;    // rows of (B,T,Hq,D)
                    size_t koff = (((size_t)b * T + s0) * Hkv + kvh) * D;  // rows of (B,T,Hkv,D)
                    tile_scores(P, q, k, docb, b, T, Hq, Hkv, D, hq, kvh, t0, R, s0, L, scale);
                    for (int r = 0; r < R; r++) {
                        float l = lse[((size_t)b * Hq + hq) * T + t0 + r];
                        float *row = P + (size_t)r * L;
                        #pragma omp simd
                        for (int j = 0; j < L; j++) row[j] = ft_cpu_expf(row[j] - l);  // exp(-inf) = 0
                        const float *o = out + qoff + (size_t)r * Hq * D, *g = dout + qoff + (size_t)r * Hq * D;
                        float s = 0.0f;
                        for (int d = 0; d < D; d++) s += o[d] * g[d];
                        Di[r] = s;
                    }
                    if (dv) ft_cpu_sgemm(1, 0, L, D, R, 1.0f, P, L, dout + qoff, Hq * D, 1.0f, dv + koff, Hkv * D);
                    if (!dq && !dk) continue;
                    ft_cpu_sgemm(0, 1, R, L, D, 1.0f, dout + qoff, Hq * D, v + koff, Hkv * D, 0.0f, dS, L);
                    for (int r = 0; r < R; r++) {
                        float *ds = dS + (size_t)r * L;
                        const float *p = P + (size_t)r * L;
                        float di = Di[r];
                        #pragma omp simd
                        for (int j = 0; j < L; j++) ds[j] = p[j] * (ds[j] - di);
                    }
                    if (dq) ft_cpu_sgemm(0, 0, R, D, L, scale, dS, L, k + koff, Hkv * D, 1.0f, dq + qoff, Hq * D);
                    if (dk) ft_cpu_sgemm(1, 0, L, D, R, scale, dS, L, q + qoff, Hq * D, 1.0f, dk + koff, Hkv * D);
                }
            }
        }
        free(P); free(dS); free(Di);
    }
    free(lo);
    if (!failed) return;
oom:
    ft_err("attention backward: out of memory for scratch (T=%d)", T);
    ft_cpu_fill_nan(dq, (size_t)B * T * Hq * D);
    ft_cpu_fill_nan(dk, (size_t)B * T * Hkv * D);
    ft_cpu_fill_nan(dv, (size_t)B * T * Hkv * D);
}
