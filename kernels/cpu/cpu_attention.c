// cpu_attention.c — causal self-attention with grouped-query heads (GQA) and document masking
// for packed sequences, forward and flash-style backward (probabilities recomputed from the
// saved log-sum-exp, never stored). Work is cut into tiles of BQ query rows; each tile's
// scores S = Q K^T and the products P V, dO V^T, dS K, dS^T Q are sgemm calls on strided
// views of the (B, T, H, D) tensors, so no transposed copies are made. A tile only looks at
// keys from the earliest document start of its rows, so packed documents cost what they use.
// The *_window variants (Gemma 3) add a sliding window — query t sees keys s > t - window — by
// moving each row's first visible key, and take the score scale as a parameter.
#pragma GCC optimize("no-trapping-math")  // lets GCC vectorise the clamps of ft_cpu_expf
#include "cpu_internal.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

enum { BQ = 64 };  // query rows per tile

typedef struct {
    int B, T, Hq, Hkv, D, group, ntiles;
    float scale;
    int window;          // 0: none
    const int32_t *doc;  // (B, T) or NULL
    int *lo;             // (B, T): first s with doc[b,s] == doc[b,t] (0 without documents)
    uint8_t *contig;     // (B): every document of row b is one contiguous run
} att_geom;

static int nthreads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// Document starts of every row, in O(T) per document boundary; a row whose boundary meets an
// id seen before is not contiguous (its masks are then checked element by element).
static int geom_init(att_geom *g, const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window,
                     float scale) {
    *g = (att_geom){B, T, Hq, Hkv, D, 1, (T + BQ - 1) / BQ, scale, window > 0 ? window : 0, doc, NULL, NULL};
    if (Hkv <= 0 || Hq % Hkv != 0 || D <= 0)
        return ft_err("attention: %d query heads are not a multiple of %d kv heads (head dim %d)", Hq, Hkv, D);
    g->group = Hq / Hkv;
    g->lo = malloc((size_t)B * T * sizeof *g->lo);
    g->contig = malloc((size_t)B);
    if (!g->lo || !g->contig) return ft_err("attention: out of memory (T=%d)", T);
    for (int b = 0; b < B; b++) {
        int *lo = g->lo + (size_t)b * T;
        const int32_t *d = doc ? doc + (size_t)b * T : NULL;
        g->contig[b] = 1;
        for (int t = 0; t < T; t++) {
            if (!d) { lo[t] = 0; continue; }
            if (t > 0 && d[t] == d[t - 1]) { lo[t] = lo[t - 1]; continue; }
            int s = 0;
            while (d[s] != d[t]) s++;
            lo[t] = s;
            if (s != t) g->contig[b] = 0;
        }
        if (g->window)   // documents stay contiguous runs: the window only moves their starts
            for (int t = 0; t < T; t++)
                if (lo[t] < t - g->window + 1) lo[t] = t - g->window + 1;
    }
    return 0;
}

static void geom_free(att_geom *g) { free(g->lo); free(g->contig); }

// Query rows [t0, t0+R) of a tile and the keys [s0, s0+L) they may see.
static void tile_range(const att_geom *g, int b, int tile, int *t0, int *R, int *s0, int *L) {
    *t0 = tile * BQ;
    *R = g->T - *t0 < BQ ? g->T - *t0 : BQ;
    const int *lo = g->lo + (size_t)b * g->T;
    int s = *t0;
    for (int r = 0; r < *R; r++) if (lo[*t0 + r] < s) s = lo[*t0 + r];
    *s0 = s;
    *L = *t0 + *R - s;
}

// Scores of one tile: S(R, L) = scale * Q[t0:t0+R] @ K[s0:s0+L]^T for query head hq of row b;
// masked entries (s > t or another document) are set to -INFINITY.
static void tile_scores(float *S, const att_geom *g, const float *q, const float *k, int b, int hq,
                        int t0, int R, int s0, int L) {
    int T = g->T, Hq = g->Hq, Hkv = g->Hkv, D = g->D, kvh = hq / g->group;
    const float *qt = q + (((size_t)b * T + t0) * Hq + hq) * D;  // (R, D), row stride Hq*D
    const float *ks = k + (((size_t)b * T + s0) * Hkv + kvh) * D; // (L, D), row stride Hkv*D
    ft_cpu_sgemm(0, 1, R, L, D, g->scale, qt, Hq * D, ks, Hkv * D, 0.0f, S, L);
    const int *lo = g->lo + (size_t)b * T;
    const int32_t *doc = g->doc ? g->doc + (size_t)b * T : NULL;
    for (int r = 0; r < R; r++) {
        int t = t0 + r;
        float *row = S + (size_t)r * L;
        if (g->contig[b]) {  // allowed keys are exactly [lo[t], t]
            for (int j = 0; j < lo[t] - s0; j++) row[j] = -INFINITY;
            for (int j = t - s0 + 1; j < L; j++) row[j] = -INFINITY;
        } else {
            for (int j = 0; j < L; j++)
                if (s0 + j > t || s0 + j < lo[t] || doc[s0 + j] != doc[t]) row[j] = -INFINITY;
        }
    }
}

// In place: row(L) = exp(row - max), unnormalised; returns the row's sum of those (so the
// softmax is row / sum, applied to the much shorter P V output row) and sets *lse. A function
// of its own so the SIMD reductions vectorise (inside the OpenMP-outlined loop GCC does not).
FT_CPU_CLONES
static float exp_row(float *row, int L, float *lse) {
    float mx = -INFINITY, sum = 0.0f;
    #pragma omp simd reduction(max : mx)
    for (int j = 0; j < L; j++) mx = row[j] > mx ? row[j] : mx;
    #pragma omp simd reduction(+ : sum)
    for (int j = 0; j < L; j++) { row[j] = ft_cpu_expf(row[j] - mx); sum += row[j]; }
    *lse = mx + logf(sum);
    return sum;
}

FT_CPU_CLONES
void ft_cpu_attention_window(float *out, float *lse, const float *q, const float *k, const float *v,
                             const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window, float scale) {
    if (B <= 0 || T <= 0) return;
    att_geom g;
    if (geom_init(&g, doc, B, T, Hq, Hkv, D, window, scale) < 0) {  // message set by geom_init
        geom_free(&g);
        ft_cpu_fill_nan(out, (size_t)B * T * Hq * D);
        return;
    }
    int failed = 0;
    long ntask = (long)B * Hq * g.ntiles;
    #pragma omp parallel reduction(| : failed) if (ntask > 1)
    {
        float *S = malloc((size_t)BQ * T * sizeof *S);  // (BQ, T) scores, then probabilities
        if (!S && ntask) failed = 1;
        #pragma omp for schedule(dynamic, 1)
        for (long task = 0; task < ntask; task++) {
            if (!S) continue;
            int tile = (int)(task % g.ntiles), hq = (int)(task / g.ntiles % Hq), b = (int)(task / g.ntiles / Hq);
            int t0, R, s0, L;
            tile_range(&g, b, tile, &t0, &R, &s0, &L);
            tile_scores(S, &g, q, k, b, hq, t0, R, s0, L);
            float inv[BQ], *lrow = lse + ((size_t)b * Hq + hq) * T + t0;  // (R) of lse(B, Hq, T)
            for (int r = 0; r < R; r++) inv[r] = 1.0f / exp_row(S + (size_t)r * L, L, &lrow[r]);
            float *ot = out + (((size_t)b * T + t0) * Hq + hq) * D;
            const float *vs = v + (((size_t)b * T + s0) * Hkv + hq / g.group) * D;
            ft_cpu_sgemm(0, 0, R, D, L, 1.0f, S, L, vs, Hkv * D, 0.0f, ot, Hq * D);
            for (int r = 0; r < R; r++) {
                float *o = ot + (size_t)r * Hq * D;
                for (int d = 0; d < D; d++) o[d] *= inv[r];
            }
        }
        free(S);
    }
    geom_free(&g);
    if (!failed) return;
    ft_err("attention: out of memory for scratch (T=%d)", T);
    ft_cpu_fill_nan(out, (size_t)B * T * Hq * D);
}

// Backward of one query head hq of row b over all its tiles, with P = exp(S - lse) and
// Di = sum_d dO[t,d] * O[t,d]:  dV += P^T dO,  dS = P * (dO V^T - Di),  dQ += scale dS K,
// dK += scale dS^T Q.  dkh/dvh point at row 0 of this head's key gradients, row stride ldkv
// (the kv head's slice of dk/dv, or a private (T, D) buffer). P, dS: (BQ, T); Di: (BQ).
FT_CPU_CLONES
static void head_backward(const att_geom *g, int b, int hq, float *dq, float *dkh, float *dvh, int ldkv,
                          const float *dout, const float *out, const float *lse, const float *q,
                          const float *k, const float *v, float *P, float *dS, float *Di) {
    int T = g->T, Hq = g->Hq, Hkv = g->Hkv, D = g->D, kvh = hq / g->group;
    for (int tile = 0; tile < g->ntiles; tile++) {
        int t0, R, s0, L;
        tile_range(g, b, tile, &t0, &R, &s0, &L);
        size_t qoff = (((size_t)b * T + t0) * Hq + hq) * D;    // rows of (B,T,Hq,D)
        size_t koff = (((size_t)b * T + s0) * Hkv + kvh) * D;  // rows of (B,T,Hkv,D)
        tile_scores(P, g, q, k, b, hq, t0, R, s0, L);
        for (int r = 0; r < R; r++) {
            float l = lse[((size_t)b * Hq + hq) * T + t0 + r];
            float *row = P + (size_t)r * L;
            #pragma omp simd
            for (int j = 0; j < L; j++) row[j] = ft_cpu_expf(row[j] - l);  // exp(-inf) = 0
            const float *o = out + qoff + (size_t)r * Hq * D, *gr = dout + qoff + (size_t)r * Hq * D;
            float s = 0.0f;
            for (int d = 0; d < D; d++) s += o[d] * gr[d];
            Di[r] = s;
        }
        if (dvh) ft_cpu_sgemm(1, 0, L, D, R, 1.0f, P, L, dout + qoff, Hq * D, 1.0f, dvh + (size_t)s0 * ldkv, ldkv);
        if (!dq && !dkh) continue;
        ft_cpu_sgemm(0, 1, R, L, D, 1.0f, dout + qoff, Hq * D, v + koff, Hkv * D, 0.0f, dS, L);
        for (int r = 0; r < R; r++) {
            float *ds = dS + (size_t)r * L, di = Di[r];
            const float *p = P + (size_t)r * L;
            #pragma omp simd
            for (int j = 0; j < L; j++) ds[j] = p[j] * (ds[j] - di);
        }
        if (dq) ft_cpu_sgemm(0, 0, R, D, L, g->scale, dS, L, k + koff, Hkv * D, 1.0f, dq + qoff, Hq * D);
        if (dkh) ft_cpu_sgemm(1, 0, L, D, R, g->scale, dS, L, q + qoff, Hq * D, 1.0f, dkh + (size_t)s0 * ldkv, ldkv);
    }
}

// Tasks: with enough (b, kv head) pairs to fill the threads, each owns its kv head's dK/dV
// slices and accumulates in place. Otherwise (few kv heads, e.g. one sequence of a 3-kv-head
// model on 16 cores) each (b, query head) is a task writing into its own (T, D) buffers,
// summed over the group afterwards.
void ft_cpu_attention_window_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                                      const float *lse, const float *q, const float *k, const float *v,
                                      const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window,
                                      float scale) {
    if (B <= 0 || T <= 0) return;
    att_geom g;
    if (geom_init(&g, doc, B, T, Hq, Hkv, D, window, scale) < 0) {  // message set by geom_init
        geom_free(&g);
        goto fail;
    }
    int failed = 0, nt = nthreads();
    size_t hd = (size_t)T * D;
    float *part = NULL;  // (B, Hq, 2, T, D) private dK, dV per query head, split mode only
    if (g.group > 1 && B * Hkv < 2 * nt && (dk || dv)) part = calloc((size_t)B * Hq * 2 * hd, sizeof *part);
    long ntask = part ? (long)B * Hq : (long)B * Hkv;
    #pragma omp parallel reduction(| : failed) if (ntask > 1)
    {
        float *P = malloc((size_t)BQ * T * sizeof *P);   // (BQ, T) probabilities
        float *dS = malloc((size_t)BQ * T * sizeof *dS); // (BQ, T) dP, then dS
        float *Di = malloc((size_t)BQ * sizeof *Di);
        int ok = P && dS && Di;
        if (!ok && ntask) failed = 1;
        #pragma omp for schedule(dynamic, 1)
        for (long task = 0; task < ntask; task++) {
            if (!ok) continue;
            if (part) {
                int b = (int)(task / Hq), hq = (int)(task % Hq);
                float *pk = part + ((size_t)b * Hq + hq) * 2 * hd;
                head_backward(&g, b, hq, dq, dk ? pk : NULL, dv ? pk + hd : NULL, D, dout, out, lse, q, k, v, P, dS, Di);
            } else {
                int b = (int)(task / Hkv), kvh = (int)(task % Hkv);
                size_t off = (size_t)b * T * Hkv * D + (size_t)kvh * D;
                for (int hq = kvh * g.group; hq < (kvh + 1) * g.group; hq++)
                    head_backward(&g, b, hq, dq, dk ? dk + off : NULL, dv ? dv + off : NULL, Hkv * D, dout, out,
                                  lse, q, k, v, P, dS, Di);
            }
        }
        free(P); free(dS); free(Di);
        if (part) {  // dk/dv[b, s, kvh, :] += sum over the group of the private buffers
            #pragma omp for schedule(static)
            for (long bs = 0; bs < (long)B * T; bs++) {
                int b = (int)(bs / T), s = (int)(bs % T);
                for (int hq = 0; hq < Hq; hq++) {
                    const float *pk = part + ((size_t)b * Hq + hq) * 2 * hd + (size_t)s * D;
                    size_t off = ((size_t)bs * Hkv + hq / g.group) * D;
                    if (dk) for (int d = 0; d < D; d++) dk[off + d] += pk[d];
                    if (dv) for (int d = 0; d < D; d++) dv[off + d] += pk[hd + d];
                }
            }
        }
    }
    free(part);
    geom_free(&g);
    if (!failed) return;
    ft_err("attention backward: out of memory for scratch (T=%d)", T);
fail:
    ft_cpu_fill_nan(dq, (size_t)B * T * Hq * D);
    ft_cpu_fill_nan(dk, (size_t)B * T * Hkv * D);
    ft_cpu_fill_nan(dv, (size_t)B * T * Hkv * D);
}

void ft_cpu_attention(float *out, float *lse, const float *q, const float *k, const float *v,
                      const int32_t *doc, int B, int T, int Hq, int Hkv, int D) {
    ft_cpu_attention_window(out, lse, q, k, v, doc, B, T, Hq, Hkv, D, 0, 1.0f / sqrtf((float)D));
}

void ft_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                               const float *lse, const float *q, const float *k, const float *v,
                               const int32_t *doc, int B, int T, int Hq, int Hkv, int D) {
    ft_cpu_attention_window_backward(dq, dk, dv, dout, out, lse, q, k, v, doc, B, T, Hq, Hkv, D, 0,
                                     1.0f / sqrtf((float)D));
}
