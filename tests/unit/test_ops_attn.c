// test_ops_attn.c — causal attention of the CPU op table (GQA, document masks, several query
// tiles): output and log-sum-exp against a double-precision naive softmax attention, gradients of
// q, k, v against finite differences of it, accumulated into prefilled buffers.
// `test_ops_attn --dump attention|xent DIR SEED` writes random inputs and the op's outputs as raw
// little-endian arrays for tests/parity/ops-*.py (the NumPy reference).
#include "ops_check.h"
#include "ops.h"
#include "core/err.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define FWD_TOL 2e-5  // float32 forward vs double reference (see ops_check.h)

static const ft_ops *ops;

typedef struct { double *q, *k, *v, *g; const int32_t *doc; int B, T, Hq, Hkv, D; } at_ctx;

// out(B,T,Hq,D), lse(B,Hq,T); loss = sum out * g when g != NULL
static double at_ref(const at_ctx *c, double *out, double *lse) {
    int B = c->B, T = c->T, Hq = c->Hq, Hkv = c->Hkv, D = c->D;
    double L = 0, *p = malloc(T * sizeof *p), *o = malloc(D * sizeof *o);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < Hq; h++)
            for (int t = 0; t < T; t++) {
                int kh = h / (Hq / Hkv);
                const double *qr = c->q + (((size_t)b * T + t) * Hq + h) * D;
                double mx = -INFINITY;
                for (int s = 0; s <= t; s++) {
                    p[s] = -INFINITY;
                    if (c->doc && c->doc[b * T + s] != c->doc[b * T + t]) continue;
                    const double *kr = c->k + (((size_t)b * T + s) * Hkv + kh) * D;
                    double d = 0;
                    for (int i = 0; i < D; i++) d += qr[i] * kr[i];
                    p[s] = d / sqrt((double)D);
                    if (p[s] > mx) mx = p[s];
                }
                double sum = 0;
                for (int s = 0; s <= t; s++) { p[s] = exp(p[s] - mx); sum += p[s]; }
                for (int i = 0; i < D; i++) o[i] = 0;
                for (int s = 0; s <= t; s++) {
                    const double *vr = c->v + (((size_t)b * T + s) * Hkv + kh) * D;
                    for (int i = 0; i < D; i++) o[i] += p[s] / sum * vr[i];
                }
                size_t off = (((size_t)b * T + t) * Hq + h) * D;
                for (int i = 0; i < D; i++) {
                    if (out) out[off + i] = o[i];
                    if (c->g) L += o[i] * c->g[off + i];
                }
                if (lse) lse[((size_t)b * Hq + h) * T + t] = mx + log(sum);
            }
    free(p); free(o);
    return L;
}
static double at_loss(void *p) { return at_ref(p, NULL, NULL); }

static void check_attention(int B, int T, int Hq, int Hkv, int D, const int32_t *doc, size_t nsample) {
    size_t nq = (size_t)B * T * Hq * D, nk = (size_t)B * T * Hkv * D, nl = (size_t)B * Hq * T;
    float *q = oc_randf(nq, 1.5f), *k = oc_randf(nk, 1.5f), *v = oc_randf(nk, 1), *g = oc_randf(nq, 1);
    at_ctx c = {oc_todouble(q, nq), oc_todouble(k, nk), oc_todouble(v, nk), NULL, doc, B, T, Hq, Hkv, D};
    float *out = malloc(nq * sizeof *out), *lse = malloc(nl * sizeof *lse);
    double *oref = malloc(nq * sizeof *oref), *lref = malloc(nl * sizeof *lref);
    ops->attention(out, lse, q, k, v, doc, B, T, Hq, Hkv, D);
    at_ref(&c, oref, lref);
    printf("# attention B=%d T=%d Hq=%d Hkv=%d D=%d %s\n", B, T, Hq, Hkv, D, doc ? "doc-masked" : "causal");
    assert_true(oc_relerr("attention out", out, oref, nq, FWD_TOL) <= FWD_TOL);
    assert_true(oc_relerr("attention lse", lse, lref, nl, FWD_TOL) <= FWD_TOL);
    c.g = oc_todouble(g, nq);
    float *dq0 = oc_randf(nq, 1), *dk0 = oc_randf(nk, 1), *dv0 = oc_randf(nk, 1);
    float *dq = oc_copyf(dq0, nq), *dk = oc_copyf(dk0, nk), *dv = oc_copyf(dv0, nk);
    ops->attention_backward(dq, dk, dv, g, out, lse, q, k, v, doc, B, T, Hq, Hkv, D);
    oc_grad_check("attention dq", dq, dq0, c.q, nq, at_loss, &c, nsample);
    oc_grad_check("attention dk", dk, dk0, c.k, nk, at_loss, &c, nsample);
    oc_grad_check("attention dv", dv, dv0, c.v, nk, at_loss, &c, nsample);
    // NULL gradients are skipped; the others are unchanged by that
    float *dk2 = oc_copyf(dk0, nk);
    ops->attention_backward(NULL, dk2, NULL, g, out, lse, q, k, v, doc, B, T, Hq, Hkv, D);
    assert_memory_equal(dk2, dk, nk * sizeof *dk);
#ifdef _OPENMP
    // The backward picks its task split from the thread count (kv heads owned, or per query
    // head with a reduction): both must give the same gradients.
    int nt0 = omp_get_max_threads();
    for (int nt = 1; nt <= 4 * B * Hkv; nt *= 4 * B * Hkv) {
        omp_set_num_threads(nt);
        float *q3 = oc_copyf(dq0, nq), *k3 = oc_copyf(dk0, nk), *v3 = oc_copyf(dv0, nk);
        ops->attention_backward(q3, k3, v3, g, out, lse, q, k, v, doc, B, T, Hq, Hkv, D);
        double *rq = oc_todouble(dq, nq), *rk = oc_todouble(dk, nk), *rv = oc_todouble(dv, nk);
        assert_true(oc_relerr("dq other split", q3, rq, nq, 1e-6) <= 1e-6);
        assert_true(oc_relerr("dk other split", k3, rk, nk, 1e-6) <= 1e-6);
        assert_true(oc_relerr("dv other split", v3, rv, nk, 1e-6) <= 1e-6);
        free(q3); free(k3); free(v3); free(rq); free(rk); free(rv);
    }
    omp_set_num_threads(nt0);
#endif
    free(q); free(k); free(v); free(g); free(out); free(lse); free(oref); free(lref);
    free(c.q); free(c.k); free(c.v); free(c.g); free(dq0); free(dk0); free(dv0);
    free(dq); free(dk); free(dv); free(dk2);
}

static void test_attention_small(void **st) {
    (void)st;
    oc_seed(21);
    // row 0: three packed documents; row 1: ids that reappear (attention follows equality, not runs)
    int32_t doc[14] = {0, 0, 0, 1, 1, 2, 2, 7, 3, 3, 7, 7, 7, 4};
    check_attention(2, 7, 4, 2, 6, doc, 0);   // GQA group 2
    check_attention(1, 5, 3, 3, 4, NULL, 0);  // plain multi-head, causal only
    check_attention(1, 6, 3, 1, 5, NULL, 0);  // multi-query (one kv head)
}

static void test_attention_tiles(void **st) {
    (void)st;
    oc_seed(22);
    // T spans three 64-row query tiles; documents of lengths 1, 39, 70, 40 cross tile boundaries
    enum { T = 150 };
    int32_t doc[2 * T];
    for (int t = 0; t < T; t++) doc[t] = t < 1 ? 0 : t < 40 ? 1 : t < 110 ? 2 : 3;
    for (int t = 0; t < T; t++) doc[T + t] = 5;
    check_attention(2, T, 6, 2, 8, doc, 60);
    check_attention(1, 130, 1, 1, 5, NULL, 60);
}

// A head count that is not a multiple of the kv heads is refused (it would index past k/v):
// outputs become NaN, which the caller's non-finite check reports, with the reason in ft_errmsg.
static void test_attention_bad_heads(void **st) {
    (void)st;
    int B = 1, T = 3, Hq = 5, Hkv = 2, D = 4;
    float q[60] = {0}, k[24] = {0}, v[24] = {0}, out[60], lse[15], dq[60] = {0}, dk[24] = {0}, dv[24] = {0};
    ft_err_clear();
    ops->attention(out, lse, q, k, v, NULL, B, T, Hq, Hkv, D);
    assert_true(isnan(out[0]) && isnan(out[59]));
    assert_non_null(strstr(ft_errmsg(), "not a multiple"));
    ops->attention_backward(dq, dk, dv, out, out, lse, q, k, v, NULL, B, T, Hq, Hkv, D);
    assert_true(isnan(dq[0]) && isnan(dk[23]) && isnan(dv[0]));
}

// ------------------------------------------------ dump mode for the NumPy parity tests
static int dump(const char *dir, const char *name, const void *p, size_t bytes) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, bytes, f) != bytes) { perror(path); if (f) fclose(f); return 1; }
    return fclose(f) != 0;
}

static int dump_main(const char *what, const char *dir, unsigned seed) {
    oc_seed(seed);
    int rc = 0;
    FILE *meta;
    char path[4096];
    snprintf(path, sizeof path, "%s/meta.txt", dir);
    if (!(meta = fopen(path, "w"))) { perror(path); return 1; }
    if (!strcmp(what, "attention")) {
        int B = 2, T = 97, Hq = 6, Hkv = 2, D = 16;
        size_t nq = (size_t)B * T * Hq * D, nk = (size_t)B * T * Hkv * D;
        float *q = oc_randf(nq, 2), *k = oc_randf(nk, 2), *v = oc_randf(nk, 1);
        float *out = malloc(nq * sizeof *out), *lse = malloc((size_t)B * Hq * T * sizeof *lse);
        int32_t *doc = malloc((size_t)B * T * sizeof *doc);
        for (int t = 0, d = 0; t < B * T; t++) { if (oc_int(20) == 0) d++; doc[t] = d; }
        ops->attention(out, lse, q, k, v, doc, B, T, Hq, Hkv, D);
        fprintf(meta, "%d %d %d %d %d\n", B, T, Hq, Hkv, D);
        rc |= dump(dir, "q.f32", q, nq * 4) | dump(dir, "k.f32", k, nk * 4) | dump(dir, "v.f32", v, nk * 4);
        rc |= dump(dir, "doc.i32", doc, (size_t)B * T * 4) | dump(dir, "out.f32", out, nq * 4);
        rc |= dump(dir, "lse.f32", lse, (size_t)B * Hq * T * 4);
        free(q); free(k); free(v); free(out); free(lse); free(doc);
    } else if (!strcmp(what, "xent")) {
        int N = 203, C = 24, V = 517;
        float *h = oc_randf((size_t)N * C, 3), *w = oc_randf((size_t)V * C, 1);
        int32_t *tgt = malloc(N * sizeof *tgt);
        uint8_t *mask = malloc(N);
        for (int n = 0; n < N; n++) { tgt[n] = oc_int(V); mask[n] = oc_int(4) != 0; }
        float *dh = calloc((size_t)N * C, sizeof *dh), *dw = calloc((size_t)V * C, sizeof *dw);
        double loss = ops->lm_head_xent(dh, dw, h, w, tgt, mask, N, C, V, 1.0f);
        fprintf(meta, "%d %d %d %.17g\n", N, C, V, loss);
        rc |= dump(dir, "h.f32", h, (size_t)N * C * 4) | dump(dir, "w.f32", w, (size_t)V * C * 4);
        rc |= dump(dir, "target.i32", tgt, N * 4) | dump(dir, "mask.u8", mask, N);
        rc |= dump(dir, "dh.f32", dh, (size_t)N * C * 4) | dump(dir, "dw.f32", dw, (size_t)V * C * 4);
        free(h); free(w); free(tgt); free(mask); free(dh); free(dw);
    } else {
        fprintf(stderr, "unknown dump '%s'\n", what);
        rc = 2;
    }
    return fclose(meta) != 0 || rc;
}

int main(int argc, char **argv) {
    ops = ft_ops_cpu();
    if (argc == 5 && !strcmp(argv[1], "--dump")) return dump_main(argv[2], argv[3], (unsigned)atoi(argv[4]));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attention_small),
        cmocka_unit_test(test_attention_tiles),
        cmocka_unit_test(test_attention_bad_heads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
