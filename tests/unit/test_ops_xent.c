// test_ops_xent.c — the fused LM head + cross-entropy of the CPU op table: loss against a
// double-precision log-sum-exp reference (masked rows, chunk boundaries, large logits that
// overflow a naive exp), gradients against finite differences, and a tied-embedding chain
// (embedding -> rmsnorm -> xent sharing one weight matrix) checking that gradients from two
// ops accumulate into the same buffer. lm_head_xent_rows: per-row summed log-probabilities
// against the same double reference, gradients with per-position weights (and a DPO-shaped
// loss over row log-probabilities, chained through them) against finite differences.
#include "ops_check.h"
#include "ops.h"

static const ft_ops *ops;

typedef struct { double *h, *w; const int32_t *tgt; const uint8_t *mask; int N, C, V; double scale; } xe_ctx;

// scale * sum over masked rows of (logsumexp(z) - z[target]), z = h @ w^T, in double
static double xe_ref(const double *h, const double *w, const int32_t *tgt, const uint8_t *mask, int N, int C,
                     int V) {
    double L = 0, *z = malloc(V * sizeof *z);
    for (int n = 0; n < N; n++) {
        if (mask && !mask[n]) continue;
        double mx = -INFINITY;
        for (int v = 0; v < V; v++) {
            double s = 0;
            for (int i = 0; i < C; i++) s += h[(size_t)n * C + i] * w[(size_t)v * C + i];
            z[v] = s;
            if (s > mx) mx = s;
        }
        double sum = 0;
        for (int v = 0; v < V; v++) sum += exp(z[v] - mx);
        L += mx + log(sum) - z[tgt[n]];
    }
    free(z);
    return L;
}
static double xe_loss(void *p) {
    xe_ctx *c = p;
    return c->scale * xe_ref(c->h, c->w, c->tgt, c->mask, c->N, c->C, c->V);
}

// nsample = 0: check every element; else that many random coordinates of h and of w.
static void check_xent(int N, int C, int V, float hscale, int masked_every, size_t nsample) {
    size_t nh = (size_t)N * C, nw = (size_t)V * C;
    float *h = oc_randf(nh, hscale), *w = oc_randf(nw, 1);
    int32_t *tgt = malloc(N * sizeof *tgt);
    uint8_t *mask = malloc(N);
    for (int n = 0; n < N; n++) { tgt[n] = oc_int(V); mask[n] = masked_every ? (n % masked_every != 0) : 1; }
    tgt[N - 1] = V - 1;
    float scale = 0.37f;
    xe_ctx c = {oc_todouble(h, nh), oc_todouble(w, nw), tgt, mask, N, C, V, scale};
    double ref = xe_ref(c.h, c.w, tgt, mask, N, C, V);
    // loss only, no gradients
    double loss = ops->lm_head_xent(NULL, NULL, h, w, tgt, mask, N, C, V, scale);
    printf("# xent N=%d C=%d V=%d loss %.9g ref %.9g\n", N, C, V, loss, ref);
    assert_true(isfinite(loss));
    assert_true(fabs(loss - ref) <= 1e-5 * fabs(ref) + 1e-6);
    // with gradients, into prefilled buffers
    float *dh0 = oc_randf(nh, 1), *dw0 = oc_randf(nw, 1), *dh = oc_copyf(dh0, nh), *dw = oc_copyf(dw0, nw);
    double loss2 = ops->lm_head_xent(dh, dw, h, w, tgt, mask, N, C, V, scale);
    assert_true(fabs(loss2 - loss) <= 1e-9 * fabs(loss));
    for (int n = 0; n < N; n++)  // rows that are not targets get no gradient at all
        if (!mask[n]) assert_memory_equal(dh + (size_t)n * C, dh0 + (size_t)n * C, C * sizeof *dh);
    oc_grad_check("xent dh", dh, dh0, c.h, nh, xe_loss, &c, nsample);
    oc_grad_check("xent dw", dw, dw0, c.w, nw, xe_loss, &c, nsample);
    // dh alone equals the dh of the combined call
    float *dh2 = oc_copyf(dh0, nh);
    ops->lm_head_xent(dh2, NULL, h, w, tgt, mask, N, C, V, scale);
    assert_memory_equal(dh2, dh, nh * sizeof *dh);
    free(h); free(w); free(tgt); free(mask); free(c.h); free(c.w);
    free(dh0); free(dw0); free(dh); free(dw); free(dh2);
}

static void test_xent_small(void **st) {
    (void)st;
    oc_seed(11);
    check_xent(11, 6, 37, 1, 3, 0);
}

static void test_xent_chunks(void **st) {
    (void)st;
    oc_seed(12);
    check_xent(300, 16, 1001, 1, 4, 40);  // 225 target rows: two chunks of 128
    check_xent(129, 5, 3, 1, 0, 0);       // every row a target, tiny vocabulary
}

static void test_xent_large_logits(void **st) {
    (void)st;
    oc_seed(13);
    // logits of several hundred: exp() overflows float32 without max subtraction
    check_xent(7, 6, 50, 40, 0, 0);
}

static void test_xent_no_targets(void **st) {
    (void)st;
    oc_seed(14);
    int N = 5, C = 4, V = 9;
    float *h = oc_randf((size_t)N * C, 1), *w = oc_randf((size_t)V * C, 1);
    int32_t tgt[5] = {1, 2, 3, 4, 5};
    uint8_t mask[5] = {0};
    float *dh = calloc((size_t)N * C, sizeof *dh), *dw = calloc((size_t)V * C, sizeof *dw);
    assert_true(ops->lm_head_xent(dh, dw, h, w, tgt, mask, N, C, V, 1.0f) == 0.0);
    for (int i = 0; i < N * C; i++) assert_true(dh[i] == 0.0f);
    for (int i = 0; i < V * C; i++) assert_true(dw[i] == 0.0f);
    free(h); free(w); free(dh); free(dw);
}

// Bitwise-identical results on repeated calls (exact --resume relies on it): the loss is summed
// in row order, not in whatever order threads finish.
static void test_xent_deterministic(void **st) {
    (void)st;
    oc_seed(16);
    int N = 700, C = 8, V = 301;
    float *h = oc_randf((size_t)N * C, 2), *w = oc_randf((size_t)V * C, 1);
    int32_t *tgt = malloc(N * sizeof *tgt);
    for (int n = 0; n < N; n++) tgt[n] = oc_int(V);
    float *dh1 = calloc((size_t)N * C, 4), *dh2 = calloc((size_t)N * C, 4);
    float *dw1 = calloc((size_t)V * C, 4), *dw2 = calloc((size_t)V * C, 4);
    double l1 = ops->lm_head_xent(dh1, dw1, h, w, tgt, NULL, N, C, V, 0.5f);
    for (int rep = 0; rep < 5; rep++) {
        memset(dh2, 0, (size_t)N * C * 4);
        memset(dw2, 0, (size_t)V * C * 4);
        double l2 = ops->lm_head_xent(dh2, dw2, h, w, tgt, NULL, N, C, V, 0.5f);
        assert_memory_equal(&l1, &l2, sizeof l1);
        assert_memory_equal(dh1, dh2, (size_t)N * C * 4);
        assert_memory_equal(dw1, dw2, (size_t)V * C * 4);
    }
    free(h); free(w); free(tgt); free(dh1); free(dh2); free(dw1); free(dw2);
}

// ------------------------------------------------ tied embedding chain
// x = W[ids]; h = rmsnorm(x) * g; loss = scale * xent(h, W): W gets gradient from both ends.
typedef struct { double *W, *g; const int32_t *ids, *tgt; const uint8_t *mask; int N, C, V; float eps; double scale; } tie_ctx;
static double tie_loss(void *p) {
    tie_ctx *c = p;
    double *h = malloc((size_t)c->N * c->C * sizeof *h);
    for (int n = 0; n < c->N; n++) {
        const double *x = c->W + (size_t)c->ids[n] * c->C;
        double ss = 0;
        for (int i = 0; i < c->C; i++) ss += x[i] * x[i];
        double r = 1 / sqrt(ss / c->C + c->eps);
        for (int i = 0; i < c->C; i++) h[(size_t)n * c->C + i] = x[i] * r * c->g[i];
    }
    double L = c->scale * xe_ref(h, c->W, c->tgt, c->mask, c->N, c->C, c->V);
    free(h);
    return L;
}

static void test_tied_embedding_chain(void **st) {
    (void)st;
    oc_seed(15);
    enum { N = 9, C = 7, V = 13 };
    int32_t ids[N], tgt[N];
    uint8_t mask[N];
    for (int n = 0; n < N; n++) { ids[n] = oc_int(V); tgt[n] = oc_int(V); mask[n] = n != 2; }
    ids[4] = ids[1];  // a repeated id
    float eps = 1e-5f, scale = 1.0f / 8;
    float *W = oc_randf(V * C, 1), *g = oc_randf(C, 1);
    tie_ctx c = {oc_todouble(W, V * C), oc_todouble(g, C), ids, tgt, mask, N, C, V, eps, scale};
    float x[N * C], h[N * C], rstd[N], dh[N * C] = {0}, dx[N * C] = {0};
    ops->embedding(x, ids, W, N, C);
    ops->rmsnorm(h, rstd, x, g, N, C, eps);
    float *dW0 = oc_randf(V * C, 1), *dW = oc_copyf(dW0, V * C), *dg0 = oc_randf(C, 1), *dg = oc_copyf(dg0, C);
    double loss = ops->lm_head_xent(dh, dW, h, W, tgt, mask, N, C, V, scale);
    assert_true(fabs(scale * loss - tie_loss(&c)) <= 1e-5 * fabs(tie_loss(&c)));
    ops->rmsnorm_backward(dx, dg, dh, x, g, rstd, N, C);
    ops->embedding_backward(dW, ids, dx, N, C);
    oc_grad_check("tied W (emb + head)", dW, dW0, c.W, V * C, tie_loss, &c, 0);
    oc_grad_check("tied chain rmsnorm g", dg, dg0, c.g, C, tie_loss, &c, 0);
    free(W); free(g); free(c.W); free(c.g); free(dW0); free(dW); free(dg0); free(dg);
}

// ------------------------------------------------ lm_head_xent_rows
// nll[n] = logsumexp(z_n) - z_n[target] for every counted n (0 elsewhere), in double
static void xe_pos(const double *h, const double *w, const int32_t *tgt, const uint8_t *mask, int N, int C, int V,
                   double *nll) {
    for (int n = 0; n < N; n++) {
        uint8_t one = 1;
        nll[n] = (mask && !mask[n]) ? 0.0 : xe_ref(h + (size_t)n * C, w, tgt + n, &one, 1, C, V);
    }
}

// loss = sum_n gw[n] * nll[n]: what a per-position gradient weight back-propagates
typedef struct { double *h, *w; const int32_t *tgt; const uint8_t *mask; const float *gw; int N, C, V; } gw_ctx;
static double gw_loss(void *p) {
    gw_ctx *c = p;
    double *nll = malloc(c->N * sizeof *nll), L = 0;
    xe_pos(c->h, c->w, c->tgt, c->mask, c->N, c->C, c->V, nll);
    for (int n = 0; n < c->N; n++) L += (double)c->gw[n] * nll[n];
    free(nll);
    return L;
}

static double *rows_ref(const double *h, const double *w, const int32_t *tgt, const uint8_t *mask, const int32_t *row,
                        int N, int C, int V, int R) {
    double *nll = malloc(N * sizeof *nll), *lp = calloc(R, sizeof *lp);
    xe_pos(h, w, tgt, mask, N, C, V, nll);
    for (int n = 0; n < N; n++)
        if (!mask || mask[n]) lp[row[n]] -= nll[n];
    free(nll);
    return lp;
}

static void test_xent_rows_logp(void **st) {
    (void)st;
    oc_seed(21);
    int N = 300, C = 16, V = 1001, R = 7;   // 225 counted positions: two chunks; row 6 gets none
    float *h = oc_randf((size_t)N * C, 1), *w = oc_randf((size_t)V * C, 1);
    int32_t *tgt = malloc(N * sizeof *tgt), *row = malloc(N * sizeof *row), *row0 = calloc(N, sizeof *row0);
    uint8_t *mask = malloc(N);
    for (int n = 0; n < N; n++) { tgt[n] = oc_int(V); mask[n] = n % 4 != 0; row[n] = oc_int(R - 1); }
    double *hd = oc_todouble(h, (size_t)N * C), *wd = oc_todouble(w, (size_t)V * C);
    double *ref = rows_ref(hd, wd, tgt, mask, row, N, C, V, R);
    double lp[7], plain = ops->lm_head_xent(NULL, NULL, h, w, tgt, mask, N, C, V, 1.0f);
    for (int r = 0; r < R; r++) lp[r] = 1e300;   // overwritten, not accumulated
    double loss = ops->lm_head_xent_rows(NULL, NULL, h, w, tgt, mask, N, C, V, 1.0f, NULL, row, lp, R);
    assert_memory_equal(&loss, &plain, sizeof loss);
    double amax = 0, emax = 0;
    for (int r = 0; r < R; r++) {
        printf("# row %d logp %.9g ref %.9g\n", r, lp[r], ref[r]);
        amax = fmax(amax, fabs(ref[r]));
        emax = fmax(emax, fabs(lp[r] - ref[r]));
    }
    assert_true(emax <= 1e-6 * amax);
    assert_true(lp[R - 1] == 0.0);
    // one row: its log-probability is minus the summed loss, bit for bit (same order of sums)
    double one;
    ops->lm_head_xent_rows(NULL, NULL, h, w, tgt, mask, N, C, V, 1.0f, NULL, row0, &one, 1);
    assert_true(one == -plain);
    // row == NULL: one row per position (0 where not counted)
    double *pos = malloc(N * sizeof *pos), *nll = malloc(N * sizeof *nll);
    ops->lm_head_xent_rows(NULL, NULL, h, w, tgt, mask, N, C, V, 1.0f, NULL, NULL, pos, N);
    xe_pos(hd, wd, tgt, mask, N, C, V, nll);
    for (int n = 0; n < N; n++) {
        if (!mask[n]) assert_true(pos[n] == 0.0);
        assert_true(fabs(pos[n] + nll[n]) <= 1e-6 * fabs(nll[n]) + 1e-7);
    }
    // a row index outside [0, n_rows) is the caller's bug: NaN, as a bad target
    row[5] = R;
    assert_true(isnan(ops->lm_head_xent_rows(NULL, NULL, h, w, tgt, mask, N, C, V, 1.0f, NULL, row, lp, R)));
    free(h); free(w); free(tgt); free(row); free(row0); free(mask); free(hd); free(wd); free(ref); free(pos); free(nll);
}

// Per-position gradient weights (positive, negative, zero) against finite differences of
// sum_n gw[n] * nll[n]; weights all equal to grad_scale give lm_head_xent's bits.
static void check_gweight(int N, int C, int V, size_t nsample) {
    size_t nh = (size_t)N * C, nw = (size_t)V * C;
    float *h = oc_randf(nh, 1), *w = oc_randf(nw, 1), *gw = oc_randf(N, 1.5f);
    int32_t *tgt = malloc(N * sizeof *tgt);
    uint8_t *mask = malloc(N);
    for (int n = 0; n < N; n++) { tgt[n] = oc_int(V); mask[n] = n % 3 != 1; }
    gw[0] = 0.0f;
    gw_ctx c = {oc_todouble(h, nh), oc_todouble(w, nw), tgt, mask, gw, N, C, V};
    float *dh0 = oc_randf(nh, 1), *dw0 = oc_randf(nw, 1), *dh = oc_copyf(dh0, nh), *dw = oc_copyf(dw0, nw);
    ops->lm_head_xent_rows(dh, dw, h, w, tgt, mask, N, C, V, 123.0f /* ignored */, gw, NULL, NULL, 0);
    oc_grad_check("xent_rows gweight dh", dh, dh0, c.h, nh, gw_loss, &c, nsample);
    oc_grad_check("xent_rows gweight dw", dw, dw0, c.w, nw, gw_loss, &c, nsample);
    float scale = 0.37f, *same = malloc(N * sizeof *same);
    for (int n = 0; n < N; n++) same[n] = scale;
    float *dh1 = oc_copyf(dh0, nh), *dw1 = oc_copyf(dw0, nw), *dh2 = oc_copyf(dh0, nh), *dw2 = oc_copyf(dw0, nw);
    double l1 = ops->lm_head_xent(dh1, dw1, h, w, tgt, mask, N, C, V, scale);
    double l2 = ops->lm_head_xent_rows(dh2, dw2, h, w, tgt, mask, N, C, V, 0.0f, same, NULL, NULL, 0);
    assert_memory_equal(&l1, &l2, sizeof l1);
    assert_memory_equal(dh1, dh2, nh * sizeof *dh1);
    assert_memory_equal(dw1, dw2, nw * sizeof *dw1);
    free(h); free(w); free(gw); free(tgt); free(mask); free(c.h); free(c.w); free(dh0); free(dw0); free(dh); free(dw);
    free(same); free(dh1); free(dw1); free(dh2); free(dw2);
}

static void test_xent_rows_gweight(void **st) {
    (void)st;
    oc_seed(22);
    check_gweight(11, 6, 37, 0);
    check_gweight(300, 16, 1001, 40);   // chunk boundaries
}

// A sequence-level loss the way a preference objective uses the op: rows 2p (chosen) and
// 2p+1 (rejected), L = sum_p -log sigmoid(beta * (logp[2p] - logp[2p+1])). A first call gives
// the row log-probabilities, the weights are gweight[n] = -dL/dlogp[row[n]], and the second
// call's gradient must be dL/dh and dL/dw (finite differences of the double reference).
typedef struct { double *h, *w; const int32_t *tgt, *row; const uint8_t *mask; int N, C, V, R; double beta; } pair_ctx;
static double pair_loss(void *p) {
    pair_ctx *c = p;
    double *lp = rows_ref(c->h, c->w, c->tgt, c->mask, c->row, c->N, c->C, c->V, c->R), L = 0;
    for (int k = 0; k < c->R / 2; k++) L += log1p(exp(-c->beta * (lp[2 * k] - lp[2 * k + 1])));
    free(lp);
    return L;
}

static void test_xent_rows_pair_loss(void **st) {
    (void)st;
    oc_seed(23);
    enum { N = 24, C = 6, V = 29, R = 4 };   // 4 rows of 6 positions, the first of each not counted
    size_t nh = (size_t)N * C, nw = (size_t)V * C;
    float *h = oc_randf(nh, 1), *w = oc_randf(nw, 1);
    int32_t tgt[N], row[N];
    uint8_t mask[N];
    for (int n = 0; n < N; n++) { tgt[n] = oc_int(V); row[n] = n / 6; mask[n] = n % 6 != 0; }
    pair_ctx c = {oc_todouble(h, nh), oc_todouble(w, nw), tgt, row, mask, N, C, V, R, 0.5};
    double lp[R];
    ops->lm_head_xent_rows(NULL, NULL, h, w, tgt, mask, N, C, V, 0.0f, NULL, row, lp, R);
    float dlp[R], gw[N];
    for (int k = 0; k < R / 2; k++) {   // d/dx log1p(exp(-beta x)) = -beta * sigmoid(-beta x)
        double x = lp[2 * k] - lp[2 * k + 1], g = -c.beta / (1 + exp(c.beta * x));
        dlp[2 * k] = (float)g;
        dlp[2 * k + 1] = (float)-g;
    }
    for (int n = 0; n < N; n++) gw[n] = -dlp[row[n]];
    float *dh0 = oc_randf(nh, 1), *dw0 = oc_randf(nw, 1), *dh = oc_copyf(dh0, nh), *dw = oc_copyf(dw0, nw);
    ops->lm_head_xent_rows(dh, dw, h, w, tgt, mask, N, C, V, 0.0f, gw, row, lp, R);
    oc_grad_check("pair loss dh", dh, dh0, c.h, nh, pair_loss, &c, 0);
    oc_grad_check("pair loss dw", dw, dw0, c.w, nw, pair_loss, &c, 0);
    free(h); free(w); free(c.h); free(c.w); free(dh0); free(dw0); free(dh); free(dw);
}

int main(void) {
    ops = ft_ops_cpu();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xent_small),        cmocka_unit_test(test_xent_chunks),
        cmocka_unit_test(test_xent_large_logits), cmocka_unit_test(test_xent_no_targets),
        cmocka_unit_test(test_xent_deterministic), cmocka_unit_test(test_tied_embedding_chain),
        cmocka_unit_test(test_xent_rows_logp),     cmocka_unit_test(test_xent_rows_gweight),
        cmocka_unit_test(test_xent_rows_pair_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
