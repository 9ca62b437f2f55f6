// test_cuda_ops.c — every op of the CUDA op table (kernels/cuda/) against the CPU reference
// (kernels/cpu/), forward and backward, over several shapes including odd ones: inputs are
// generated on the host, copied to the device, run through both tables, copied back and
// compared. Backward ops are checked on gradient buffers pre-filled with random values, so the
// accumulate (+=) contract is checked too. Prints one line per check with the max difference
// (relative to the largest reference magnitude) and the tolerance of its precision.
// Exit: 0 all passed, 1 a check failed, 77 no CUDA device visible ("skip: ..." on stdout).
#include "ops.h"
#include "cuda/ft_cuda.h"
#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double TOL_F32 = 1e-4;   // f32 storage and accumulation on both sides
static const double TOL_BF16 = 2e-2;  // bf16 operands (8-bit mantissa) against f32 ones
static const ft_ops *cpu, *gpu;
static int n_checks, n_failed;
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static float frand(void) {  // uniform in [-1, 1)
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / (1ull << 23)) - 1.0);
}
static uint32_t urand(uint32_t n) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)((rng >> 32) % n);
}
static void die(const char *what) {
    fprintf(stderr, "test_cuda_ops: %s: %s\n", what, ft_errmsg());
    exit(1);
}
static float *rnd(size_t n, float scale) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) die("malloc");
    for (size_t i = 0; i < n; i++) p[i] = scale * frand();
    return p;
}
static void *up(const void *h, size_t bytes) {  // device copy of host bytes
    void *d = ft_cuda_malloc(bytes);
    if (!d || ft_cuda_upload(d, h, bytes) < 0) die("upload");
    return d;
}
static float *down(const float *d, size_t n) {  // host copy of n device floats
    float *h = malloc((n ? n : 1) * sizeof *h);
    if (!h || ft_cuda_download(h, d, n * sizeof *h) < 0) die("download");
    return h;
}

// Compares ref (CPU, host) with the device result; frees the downloaded copy.
static void check(const char *op, const char *shape, const float *ref, const float *dev, size_t n, double tol) {
    float *got = down(dev, n);
    double maxd = 0.0, maxa = 0.0;
    int nonfinite = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]) || !isfinite(ref[i])) { nonfinite++; continue; }
        double d = fabs((double)got[i] - ref[i]);
        if (d > maxd) maxd = d;
        if (fabs(ref[i]) > maxa) maxa = fabs(ref[i]);
    }
    double rel = maxd / (maxa > 1e-30 ? maxa : 1.0);
    int ok = !nonfinite && rel <= tol;
    n_checks++;
    if (!ok) n_failed++;
    printf("%-4s %-26s %-28s max|diff| %.3e  rel %.3e  tol %.0e%s\n", ok ? "ok" : "FAIL", op, shape, maxd, rel, tol,
           nonfinite ? "  (non-finite values)" : "");
    free(got);
}
static void check_scalar(const char *op, const char *shape, double ref, double got, double tol) {
    double rel = fabs(got - ref) / (fabs(ref) > 1e-30 ? fabs(ref) : 1.0);
    int ok = isfinite(got) && rel <= tol;
    n_checks++;
    if (!ok) n_failed++;
    printf("%-4s %-26s %-28s cpu %.9g cuda %.9g  rel %.3e  tol %.0e\n", ok ? "ok" : "FAIL", op, shape, ref, got, rel, tol);
}

static void test_matmul(int N, int I, int O, int bias) {
    char sh[64];
    snprintf(sh, sizeof sh, "N=%d I=%d O=%d%s", N, I, O, bias ? " +bias" : "");
    float *x = rnd((size_t)N * I, 1), *w = rnd((size_t)O * I, 0.5f), *b = rnd(O, 1), *out = rnd((size_t)N * O, 1);
    float *g = rnd((size_t)N * O, 1), *dx = rnd((size_t)N * I, 1), *dw = rnd((size_t)O * I, 1), *db = rnd(O, 1);
    float *x_d = up(x, N * I * 4ul), *w_d = up(w, O * I * 4ul), *b_d = up(b, O * 4ul), *out_d = up(out, N * O * 4ul);
    float *g_d = up(g, N * O * 4ul), *dx_d = up(dx, N * I * 4ul), *dw_d = up(dw, O * I * 4ul), *db_d = up(db, O * 4ul);
    cpu->matmul(out, x, w, bias ? b : NULL, N, I, O);
    gpu->matmul(out_d, x_d, w_d, bias ? b_d : NULL, N, I, O);
    check("matmul", sh, out, out_d, (size_t)N * O, TOL_F32);
    cpu->matmul_backward(dx, dw, bias ? db : NULL, g, x, w, N, I, O);
    gpu->matmul_backward(dx_d, dw_d, bias ? db_d : NULL, g_d, x_d, w_d, N, I, O);
    check("matmul_backward dx", sh, dx, dx_d, (size_t)N * I, TOL_F32);
    check("matmul_backward dw", sh, dw, dw_d, (size_t)O * I, TOL_F32);
    if (bias) check("matmul_backward dbias", sh, db, db_d, O, TOL_F32);
    cpu->matmul_backward(NULL, dw, NULL, g, x, w, N, I, O);  // frozen input: dx skipped
    gpu->matmul_backward(NULL, dw_d, NULL, g_d, x_d, w_d, N, I, O);
    check("matmul_backward dw only", sh, dw, dw_d, (size_t)O * I, TOL_F32);
    cpu->lm_head_logits(out, x, w, N, I, O);
    gpu->lm_head_logits(out_d, x_d, w_d, N, I, O);
    check("lm_head_logits", sh, out, out_d, (size_t)N * O, TOL_F32);
    float *hs[] = {x, w, b, out, g, dx, dw, db}, *ds[] = {x_d, w_d, b_d, out_d, g_d, dx_d, dw_d, db_d};
    for (int i = 0; i < 8; i++) { free(hs[i]); ft_cuda_free(ds[i]); }
}

// bf16 round to nearest even of a finite float, on the host (the independent reference)
static float bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
    memcpy(&f, &u, 4);
    return f;
}

// f32 -> bf16 on the device; checks the bits against bf16_round. Returns the bf16 device copy.
static uint16_t *to_bf16(const float *h, size_t n, const char *sh) {
    float *d = up(h, n * 4);
    uint16_t *b = ft_cuda_malloc(n * 2), *bh = malloc(n * 2);
    if (!b || !bh || ft_cuda_f32_to_bf16(b, d, n) < 0 || ft_cuda_download(bh, b, n * 2) < 0) die("to_bf16");
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        float r = bf16_round(h[i]);
        uint32_t u;
        memcpy(&u, &r, 4);
        bad += (u >> 16) != bh[i];
    }
    n_checks++;
    if (bad) n_failed++;
    printf("%-4s %-26s %-28s %zu of %zu values differ from round-to-nearest-even\n", bad ? "FAIL" : "ok",
           "f32_to_bf16", sh, bad, n);
    free(bh);
    ft_cuda_free(d);
    return b;
}

// bf16 linear layers: against the CPU op on the same bf16-rounded values (f32 accumulation on
// both sides: f32 tolerance) and on the unrounded f32 values (bf16 tolerance).
static void test_matmul_bf16(int N, int I, int O) {
    char sh[64];
    snprintf(sh, sizeof sh, "N=%d I=%d O=%d bf16", N, I, O);
    size_t nx = (size_t)N * I, nw = (size_t)O * I, no = (size_t)N * O;
    float *x = rnd(nx, 1), *w = rnd(nw, 0.5f), *b = rnd(O, 1), *g = rnd(no, 1), *dx = rnd(nx, 1), *dw = rnd(nw, 1);
    float *out = rnd(no, 1), *out32 = rnd(no, 1), *xr = malloc(nx * 4), *wr = malloc(nw * 4), *gr = malloc(no * 4);
    for (size_t i = 0; i < nx; i++) xr[i] = bf16_round(x[i]);
    for (size_t i = 0; i < nw; i++) wr[i] = bf16_round(w[i]);
    for (size_t i = 0; i < no; i++) gr[i] = bf16_round(g[i]);
    uint16_t *x_b = to_bf16(x, nx, sh), *w_b = to_bf16(w, nw, sh), *g_b = to_bf16(g, no, sh);
    float *b_d = up(b, O * 4ul), *out_d = up(out, no * 4), *dx_d = up(dx, nx * 4), *dw_d = up(dw, nw * 4);
    cpu->matmul(out, xr, wr, b, N, I, O);
    cpu->matmul(out32, x, w, b, N, I, O);
    if (ft_cuda_matmul_bf16(out_d, x_b, w_b, b_d, N, I, O) < 0) die("matmul_bf16");
    check("matmul_bf16 (same inputs)", sh, out, out_d, no, TOL_F32);
    check("matmul_bf16 (vs f32)", sh, out32, out_d, no, TOL_BF16);
    cpu->matmul_backward(dx, dw, NULL, gr, xr, wr, N, I, O);
    if (ft_cuda_matmul_backward_bf16(dx_d, dw_d, g_b, x_b, w_b, N, I, O) < 0) die("matmul_backward_bf16");
    check("matmul_backward_bf16 dx", sh, dx, dx_d, nx, TOL_F32);
    check("matmul_backward_bf16 dw", sh, dw, dw_d, nw, TOL_F32);
    float *hs[] = {x, w, b, g, dx, dw, out, out32, xr, wr, gr}, *ds[] = {b_d, out_d, dx_d, dw_d};
    for (int i = 0; i < 11; i++) free(hs[i]);
    for (int i = 0; i < 4; i++) ft_cuda_free(ds[i]);
    ft_cuda_free(x_b); ft_cuda_free(w_b); ft_cuda_free(g_b);
}

static void test_rmsnorm(int N, int C) {
    char sh[64];
    snprintf(sh, sizeof sh, "N=%d C=%d", N, C);
    size_t n = (size_t)N * C;
    float *x = rnd(n, 2), *w = rnd(C, 1), *out = rnd(n, 1), *rs = rnd(N, 1), *g = rnd(n, 1), *dx = rnd(n, 1), *dw = rnd(C, 1);
    float *x_d = up(x, n * 4), *w_d = up(w, C * 4ul), *out_d = up(out, n * 4), *rs_d = up(rs, N * 4ul);
    float *g_d = up(g, n * 4), *dx_d = up(dx, n * 4), *dw_d = up(dw, C * 4ul);
    cpu->rmsnorm(out, rs, x, w, N, C, 1e-5f);
    gpu->rmsnorm(out_d, rs_d, x_d, w_d, N, C, 1e-5f);
    check("rmsnorm", sh, out, out_d, n, TOL_F32);
    check("rmsnorm rstd", sh, rs, rs_d, N, TOL_F32);
    cpu->rmsnorm_backward(dx, dw, g, x, w, rs, N, C);
    gpu->rmsnorm_backward(dx_d, dw_d, g_d, x_d, w_d, rs_d, N, C);
    check("rmsnorm_backward dx", sh, dx, dx_d, n, TOL_F32);
    check("rmsnorm_backward dweight", sh, dw, dw_d, C, TOL_F32);
    float *hs[] = {x, w, out, rs, g, dx, dw}, *ds[] = {x_d, w_d, out_d, rs_d, g_d, dx_d, dw_d};
    for (int i = 0; i < 7; i++) { free(hs[i]); ft_cuda_free(ds[i]); }
}

static void test_rope(int N, int H, int D) {
    char sh[64];
    snprintf(sh, sizeof sh, "N=%d H=%d D=%d", N, H, D);
    size_t n = (size_t)N * H * D;
    int32_t *pos = malloc(N * sizeof *pos);
    float *inv = malloc(D / 2 * sizeof *inv);
    for (int i = 0; i < N; i++) pos[i] = (int32_t)urand(4096);
    for (int i = 0; i < D / 2; i++) inv[i] = (float)pow(10000.0, -2.0 * i / D);
    float *x = rnd(n, 1), *g = rnd(n, 1);
    float *x_d = up(x, n * 4), *g_d = up(g, n * 4), *inv_d = up(inv, D / 2 * 4ul);
    int32_t *pos_d = up(pos, N * 4ul);
    cpu->rope(x, pos, inv, N, H, D);
    gpu->rope(x_d, pos_d, inv_d, N, H, D);
    check("rope", sh, x, x_d, n, TOL_F32);
    cpu->rope_backward(g, pos, inv, N, H, D);
    gpu->rope_backward(g_d, pos_d, inv_d, N, H, D);
    check("rope_backward", sh, g, g_d, n, TOL_F32);
    free(pos); free(inv); free(x); free(g);
    ft_cuda_free(x_d); ft_cuda_free(g_d); ft_cuda_free(inv_d); ft_cuda_free(pos_d);
}

// docmode: 0 no documents, 1 contiguous documents, 2 ids that come back after a gap
static void test_attention(int B, int T, int Hq, int Hkv, int D, int docmode) {
    char sh[80];
    snprintf(sh, sizeof sh, "B=%d T=%d H=%d/%d D=%d doc=%s", B, T, Hq, Hkv, D,
             docmode == 0 ? "none" : docmode == 1 ? "runs" : "mixed");
    size_t nq = (size_t)B * T * Hq * D, nk = (size_t)B * T * Hkv * D, nl = (size_t)B * Hq * T;
    int32_t *doc = malloc((size_t)B * T * sizeof *doc);
    for (int b = 0; b < B; b++) {
        int id = 0;
        for (int t = 0; t < T; t++) {
            if (docmode == 1 && t > 0 && urand(23) == 0) id++;
            if (docmode == 2) id = (t / 5 + (int)urand(2)) % 3;
            doc[b * T + t] = id;
        }
    }
    float *q = rnd(nq, 1.5f), *k = rnd(nk, 1.5f), *v = rnd(nk, 1), *out = rnd(nq, 1), *lse = rnd(nl, 1);
    float *g = rnd(nq, 1), *dq = rnd(nq, 1), *dk = rnd(nk, 1), *dv = rnd(nk, 1);
    float *q_d = up(q, nq * 4), *k_d = up(k, nk * 4), *v_d = up(v, nk * 4), *out_d = up(out, nq * 4);
    float *lse_d = up(lse, nl * 4), *g_d = up(g, nq * 4), *dq_d = up(dq, nq * 4), *dk_d = up(dk, nk * 4);
    float *dv_d = up(dv, nk * 4);
    int32_t *doc_d = up(doc, (size_t)B * T * 4), *dh = docmode ? doc : NULL, *dd = docmode ? doc_d : NULL;
    cpu->attention(out, lse, q, k, v, dh, B, T, Hq, Hkv, D);
    gpu->attention(out_d, lse_d, q_d, k_d, v_d, dd, B, T, Hq, Hkv, D);
    check("attention out", sh, out, out_d, nq, TOL_F32);
    check("attention lse", sh, lse, lse_d, nl, TOL_F32);
    // the backward consumes the CPU forward's out/lse on both sides (each op checked alone)
    ft_cuda_upload(out_d, out, nq * 4);
    ft_cuda_upload(lse_d, lse, nl * 4);
    cpu->attention_backward(dq, dk, dv, g, out, lse, q, k, v, dh, B, T, Hq, Hkv, D);
    gpu->attention_backward(dq_d, dk_d, dv_d, g_d, out_d, lse_d, q_d, k_d, v_d, dd, B, T, Hq, Hkv, D);
    check("attention_backward dq", sh, dq, dq_d, nq, TOL_F32);
    check("attention_backward dk", sh, dk, dk_d, nk, TOL_F32);
    check("attention_backward dv", sh, dv, dv_d, nk, TOL_F32);
    free(doc); ft_cuda_free(doc_d);
    float *hs[] = {q, k, v, out, lse, g, dq, dk, dv}, *ds[] = {q_d, k_d, v_d, out_d, lse_d, g_d, dq_d, dk_d, dv_d};
    for (int i = 0; i < 9; i++) { free(hs[i]); ft_cuda_free(ds[i]); }
}

static void test_swiglu(int N, int F) {
    char sh[64];
    snprintf(sh, sizeof sh, "N=%d F=%d", N, F);
    size_t n = (size_t)N * F;
    float *a = rnd(n, 6), *u = rnd(n, 2), *o = rnd(n, 1), *g = rnd(n, 1), *da = rnd(n, 1), *du = rnd(n, 1);
    float *a_d = up(a, n * 4), *u_d = up(u, n * 4), *o_d = up(o, n * 4), *g_d = up(g, n * 4);
    float *da_d = up(da, n * 4), *du_d = up(du, n * 4);
    cpu->swiglu(o, a, u, N, F);
    gpu->swiglu(o_d, a_d, u_d, N, F);
    check("swiglu", sh, o, o_d, n, TOL_F32);
    cpu->swiglu_backward(da, du, g, a, u, N, F);
    gpu->swiglu_backward(da_d, du_d, g_d, a_d, u_d, N, F);
    check("swiglu_backward dgate", sh, da, da_d, n, TOL_F32);
    check("swiglu_backward dup", sh, du, du_d, n, TOL_F32);
    cpu->swiglu_backward(da, NULL, g, a, u, N, F);
    gpu->swiglu_backward(da_d, NULL, g_d, a_d, u_d, N, F);
    check("swiglu_backward dgate only", sh, da, da_d, n, TOL_F32);
    float *hs[] = {a, u, o, g, da, du}, *ds[] = {a_d, u_d, o_d, g_d, da_d, du_d};
    for (int i = 0; i < 6; i++) { free(hs[i]); ft_cuda_free(ds[i]); }
}

static void test_embedding(int N, int C, int V) {
    char sh[64];
    snprintf(sh, sizeof sh, "N=%d C=%d V=%d", N, C, V);
    int32_t *ids = malloc(N * sizeof *ids);
    for (int i = 0; i < N; i++) ids[i] = (int32_t)urand(V);  // N > V: ids repeat
    float *tab = rnd((size_t)V * C, 1), *o = rnd((size_t)N * C, 1), *g = rnd((size_t)N * C, 1), *dt = rnd((size_t)V * C, 1);
    float *tab_d = up(tab, V * C * 4ul), *o_d = up(o, N * C * 4ul), *g_d = up(g, N * C * 4ul), *dt_d = up(dt, V * C * 4ul);
    int32_t *ids_d = up(ids, N * 4ul);
    cpu->embedding(o, ids, tab, N, C);
    gpu->embedding(o_d, ids_d, tab_d, N, C);
    check("embedding", sh, o, o_d, (size_t)N * C, TOL_F32);
    cpu->embedding_backward(dt, ids, g, N, C);
    gpu->embedding_backward(dt_d, ids_d, g_d, N, C);
    check("embedding_backward", sh, dt, dt_d, (size_t)V * C, TOL_F32);
    free(ids); ft_cuda_free(ids_d);
    float *hs[] = {tab, o, g, dt}, *ds[] = {tab_d, o_d, g_d, dt_d};
    for (int i = 0; i < 4; i++) { free(hs[i]); ft_cuda_free(ds[i]); }
}

static void test_xent(int N, int C, int V, int masked) {
    char sh[64];
    snprintf(sh, sizeof sh, "N=%d C=%d V=%d%s", N, C, V, masked ? " mask" : "");
    int32_t *tg = malloc(N * sizeof *tg);
    uint8_t *mk = malloc(N);
    int cnt = 0;
    for (int i = 0; i < N; i++) {
        tg[i] = (int32_t)urand(V);
        mk[i] = masked ? urand(4) != 0 : 1;
        cnt += mk[i];
    }
    float *h = rnd((size_t)N * C, 1), *w = rnd((size_t)V * C, 0.5f), *dh = rnd((size_t)N * C, 1), *dw = rnd((size_t)V * C, 1);
    float *h_d = up(h, N * C * 4ul), *w_d = up(w, V * C * 4ul), *dh_d = up(dh, N * C * 4ul), *dw_d = up(dw, V * C * 4ul);
    int32_t *tg_d = up(tg, N * 4ul);
    uint8_t *mk_d = up(mk, N);
    float scale = 1.0f / (cnt ? cnt : 1);
    double lc = cpu->lm_head_xent(NULL, NULL, h, w, tg, masked ? mk : NULL, N, C, V, scale);
    double lg = gpu->lm_head_xent(NULL, NULL, h_d, w_d, tg_d, masked ? mk_d : NULL, N, C, V, scale);
    check_scalar("lm_head_xent loss", sh, lc, lg, 1e-5);
    lc = cpu->lm_head_xent(dh, dw, h, w, tg, masked ? mk : NULL, N, C, V, scale);
    lg = gpu->lm_head_xent(dh_d, dw_d, h_d, w_d, tg_d, masked ? mk_d : NULL, N, C, V, scale);
    check_scalar("lm_head_xent loss (grad)", sh, lc, lg, 1e-5);
    check("lm_head_xent dh", sh, dh, dh_d, (size_t)N * C, TOL_F32);
    check("lm_head_xent dw", sh, dw, dw_d, (size_t)V * C, TOL_F32);
    // lm_head_xent_rows: per-row log-probabilities (rows of 8 positions) and per-position
    // gradient weights, into the same (already accumulated) gradient buffers
    int R = (N + 7) / 8;
    int32_t *rw = malloc(N * sizeof *rw);
    float *gw = rnd(N, 1);
    for (int i = 0; i < N; i++) rw[i] = i / 8;
    int32_t *rw_d = up(rw, N * 4ul);
    float *gw_d = up(gw, N * 4ul);
    double *lpc = malloc(R * sizeof *lpc), *lpg = malloc(R * sizeof *lpg);
    lc = cpu->lm_head_xent_rows(dh, dw, h, w, tg, masked ? mk : NULL, N, C, V, scale, gw, rw, lpc, R);
    lg = gpu->lm_head_xent_rows(dh_d, dw_d, h_d, w_d, tg_d, masked ? mk_d : NULL, N, C, V, scale, gw_d, rw_d, lpg, R);
    check_scalar("lm_head_xent_rows loss", sh, lc, lg, 1e-5);
    for (int r = 0; r < R; r++) check_scalar("lm_head_xent_rows row_logp", sh, lpc[r], lpg[r], 1e-5);
    check("lm_head_xent_rows dh (gweight)", sh, dh, dh_d, (size_t)N * C, TOL_F32);
    check("lm_head_xent_rows dw (gweight)", sh, dw, dw_d, (size_t)V * C, TOL_F32);
    free(rw); free(gw); free(lpc); free(lpg); ft_cuda_free(rw_d); ft_cuda_free(gw_d);
    free(tg); free(mk); ft_cuda_free(tg_d); ft_cuda_free(mk_d);
    float *hs[] = {h, w, dh, dw}, *ds[] = {h_d, w_d, dh_d, dw_d};
    for (int i = 0; i < 4; i++) { free(hs[i]); ft_cuda_free(ds[i]); }
}

static void test_adamw(size_t n) {
    char sh[64];
    snprintf(sh, sizeof sh, "n=%zu 3 steps", n);
    float *p = rnd(n, 1), *m = rnd(n, 0.1f), *v = rnd(n, 0.1f), *g = rnd(n, 1);
    for (size_t i = 0; i < n; i++) v[i] = fabsf(v[i]);
    float *p_d = up(p, n * 4), *m_d = up(m, n * 4), *v_d = up(v, n * 4), *g_d = up(g, n * 4);
    for (int step = 1; step <= 3; step++) {
        cpu->adamw(p, g, m, v, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
        gpu->adamw(p_d, g_d, m_d, v_d, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
    }
    check("adamw p", sh, p, p_d, n, TOL_F32);
    check("adamw m", sh, m, m_d, n, TOL_F32);
    check("adamw v", sh, v, v_d, n, TOL_F32);
    float *a = rnd(n, 1), *a_d = up(a, n * 4);
    cpu->add(p, m, a, n);
    gpu->add(p_d, m_d, a_d, n);
    check("add", sh, p, p_d, n, TOL_F32);
    cpu->add_inplace(p, a, n);
    gpu->add_inplace(p_d, a_d, n);
    check("add_inplace", sh, p, p_d, n, TOL_F32);
    cpu->scale_add(p, a, -0.37f, n);
    gpu->scale_add(p_d, a_d, -0.37f, n);
    check("scale_add", sh, p, p_d, n, TOL_F32);
    float *hs[] = {p, m, v, g, a}, *ds[] = {p_d, m_d, v_d, g_d, a_d};
    for (int i = 0; i < 5; i++) { free(hs[i]); ft_cuda_free(ds[i]); }
}

int main(void) {
    cpu = ft_ops_cpu();
    gpu = ft_ops_cuda();
    if (!gpu) {
        printf("skip: no CUDA device (%s)\n", ft_errmsg());
        return 77;
    }
    printf("device: %s\n", ft_cuda_device_name());
    test_matmul(1, 1, 1, 1);
    test_matmul(7, 13, 5, 0);
    test_matmul(33, 257, 129, 1);
    test_matmul(256, 576, 1536, 1);
    test_matmul_bf16(7, 13, 5);
    test_matmul_bf16(130, 576, 1536);
    test_rmsnorm(1, 7);
    test_rmsnorm(13, 576);
    test_rmsnorm(300, 2049);
    test_rope(5, 3, 8);
    test_rope(17, 9, 64);
    test_rope(33, 4, 130);
    test_attention(1, 1, 1, 1, 8, 0);
    test_attention(2, 37, 4, 2, 24, 0);
    test_attention(1, 100, 6, 2, 64, 1);
    test_attention(2, 67, 9, 3, 64, 2);
    test_attention(1, 70, 2, 1, 128, 1);
    test_attention(1, 45, 2, 2, 200, 0);
    test_attention(2, 300, 4, 4, 33, 1);
    test_attention(1, 513, 9, 3, 64, 0);
    test_swiglu(1, 1);
    test_swiglu(17, 1537);
    test_embedding(50, 7, 11);
    test_embedding(300, 576, 97);
    test_xent(5, 8, 11, 0);
    test_xent(37, 64, 1000, 1);
    test_xent(300, 96, 5003, 1);
    test_xent(1100, 16, 70001, 0);  // more rows than one GPU chunk (958 at this V)
    test_adamw(1);
    test_adamw(1000003);
    if (ft_cuda_sync() < 0) {
        printf("FAIL cuda error: %s\n", ft_errmsg());
        n_failed++;
    }
    printf("%d checks, %d failed\n", n_checks, n_failed);
    return n_failed ? 1 : 0;
}
