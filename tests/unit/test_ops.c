// test_ops.c — the CPU op table, op by op: forward against a double-precision naive reference,
// backward against central finite differences of that reference (ops_check.h explains the
// tolerances), "+=" accumulation into prefilled gradients, and AdamW against the PyTorch update
// rule written out by hand. Attention has its own file (test_ops_attn.c).
#include "ops_check.h"
#include "ops.h"
#include "cpu/cpu_internal.h"

#define FWD_TOL 2e-5  // float32 forward vs double reference (see ops_check.h)

static const ft_ops *ops;

// ---------------------------------------------------------------- matmul
typedef struct { double *x, *w, *b, *g; int N, I, O; } mm_ctx;
static double mm_loss(void *p) {
    mm_ctx *c = p;
    double L = 0;
    for (int n = 0; n < c->N; n++)
        for (int o = 0; o < c->O; o++) {
            double s = c->b ? c->b[o] : 0;
            for (int i = 0; i < c->I; i++) s += c->x[n * c->I + i] * c->w[o * c->I + i];
            L += s * c->g[n * c->O + o];
        }
    return L;
}

static void check_matmul(int N, int I, int O, int bias) {
    size_t nx = (size_t)N * I, nw = (size_t)O * I, no = (size_t)N * O;
    float *x = oc_randf(nx, 1), *w = oc_randf(nw, 1), *b = bias ? oc_randf(O, 1) : NULL, *g = oc_randf(no, 1);
    mm_ctx c = {oc_todouble(x, nx), oc_todouble(w, nw), bias ? oc_todouble(b, O) : NULL, NULL, N, I, O};
    // forward: out[n,o] is the loss with g = onehot(n,o)
    float *out = malloc(no * sizeof *out);
    ops->matmul(out, x, w, b, N, I, O);
    double *ref = malloc(no * sizeof *ref), *onehot = calloc(no, sizeof *onehot);
    c.g = onehot;
    for (size_t j = 0; j < no; j++) { onehot[j] = 1; ref[j] = mm_loss(&c); onehot[j] = 0; }
    assert_true(oc_relerr("matmul fwd", out, ref, no, FWD_TOL) <= FWD_TOL);
    // backward into prefilled buffers
    c.g = oc_todouble(g, no);
    float *dx0 = oc_randf(nx, 1), *dw0 = oc_randf(nw, 1), *db0 = oc_randf(O, 1);
    float *dx = oc_copyf(dx0, nx), *dw = oc_copyf(dw0, nw), *db = oc_copyf(db0, O);
    ops->matmul_backward(dx, dw, bias ? db : NULL, g, x, w, N, I, O);
    oc_grad_check("matmul dx", dx, dx0, c.x, nx, mm_loss, &c, 0);
    oc_grad_check("matmul dw", dw, dw0, c.w, nw, mm_loss, &c, 0);
    if (bias) oc_grad_check("matmul dbias", db, db0, c.b, O, mm_loss, &c, 0);
    else assert_memory_equal(db, db0, O * sizeof *db);
    // NULL gradients are skipped, the others still computed
    float *dw2 = oc_copyf(dw0, nw);
    ops->matmul_backward(NULL, dw2, NULL, g, x, w, N, I, O);
    assert_memory_equal(dw2, dw, nw * sizeof *dw);
    free(x); free(w); free(b); free(g); free(out); free(ref); free(onehot);
    free(c.x); free(c.w); free(c.b); free(c.g);
    free(dx0); free(dw0); free(db0); free(dx); free(dw); free(db); free(dw2);
}

static void test_matmul(void **st) {
    (void)st;
    oc_seed(1);
    check_matmul(7, 13, 5, 1);
    check_matmul(1, 3, 17, 0);
    check_matmul(33, 9, 2, 1);
}

static void test_lm_head_logits(void **st) {
    (void)st;
    oc_seed(2);
    int N = 3, C = 11, V = 29;
    float *h = oc_randf((size_t)N * C, 1), *w = oc_randf((size_t)V * C, 1), *lg = malloc(sizeof(float) * N * V);
    double *ref = malloc(sizeof(double) * N * V);
    ops->lm_head_logits(lg, h, w, N, C, V);
    for (int n = 0; n < N; n++)
        for (int v = 0; v < V; v++) {
            double s = 0;
            for (int i = 0; i < C; i++) s += (double)h[n * C + i] * w[v * C + i];
            ref[n * V + v] = s;
        }
    assert_true(oc_relerr("lm_head_logits", lg, ref, (size_t)N * V, FWD_TOL) <= FWD_TOL);
    free(h); free(w); free(lg); free(ref);
}

// The loop sgemm (the fallback of builds without BLAS), all four transpose cases, strided
// operands, beta 0 over a NaN-filled C (must be ignored) and beta 1 (accumulate), row
// counts that are not multiples of the 4x4 and 16-row blocks.
static void test_sgemm_loops(void **st) {
    (void)st;
    oc_seed(8);
    int N = 29, K = 41, pad = 3;
    for (int M = 5; M <= 37; M += 32)  // 5 rows: the row-panel kernel; 37: transposed-B dot products
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int acc = 0; acc < 2; acc++) {
                int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
                float *A = oc_randf((size_t)(ta ? K : M) * lda, 1), *B = oc_randf((size_t)(tb ? N : K) * ldb, 1);
                float *C = oc_randf((size_t)M * ldc, 1);
                double *want = malloc(sizeof(double) * M * N);
                float *got = malloc(sizeof(float) * M * N);
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++) {
                        double s = 0;
                        for (int k = 0; k < K; k++)
                            s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
                        want[i * N + j] = 0.5 * s + (acc ? C[i * ldc + j] : 0.0);
                        if (!acc) C[i * ldc + j] = NAN;
                    }
                ft_cpu_sgemm_loops(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, acc ? 1.0f : 0.0f, C, ldc);
                for (int i = 0; i < M; i++) memcpy(got + i * N, C + i * ldc, N * sizeof *got);
                assert_true(oc_relerr("sgemm loops", got, want, (size_t)M * N, FWD_TOL) <= FWD_TOL);
                free(A); free(B); free(C); free(want); free(got);
            }
}

// The vectorisable exp used by softmax, xent and swiglu: within 2 ulp of exp over its range,
// exact 0 at -inf and below the normal range, inf above, NaN kept.
static void test_expf(void **st) {
    (void)st;
    oc_seed(9);
    double worst = 0;
    for (int i = 0; i < 1000000; i++) {
        float x = (float)(oc_unif() * 86.0) + 0.5f;  // [-85.5, 86.5)
        if (i < 1000) x = (float)i * 1e-3f - 0.5f;  // around 0, where n = 0 and r = x
        double e = fabs(ft_cpu_expf(x) - exp((double)x)) / exp((double)x);
        if (e > worst) worst = e;
    }
    printf("# expf max rel err %.3g (%.2f ulp of 2^-24)\n", worst, worst / 5.96e-8);
    assert_true(worst < 2 * 1.2e-7);
    assert_true(ft_cpu_expf(-INFINITY) == 0.0f);
    assert_true(ft_cpu_expf(-100.0f) == 0.0f);
    assert_true(ft_cpu_expf(0.0f) == 1.0f);
    assert_true(isinf(ft_cpu_expf(89.0f)) && isinf(ft_cpu_expf(INFINITY)));
    assert_true(isnan(ft_cpu_expf(NAN)));
    assert_true(fabs(ft_cpu_expf(88.7f) - exp((double)88.7f)) / exp((double)88.7f) < 2.4e-7);
}

// ---------------------------------------------------------------- rmsnorm
typedef struct { double *x, *w, *g; int N, C; float eps; } rn_ctx;
static void rn_ref(double *out, double *rstd, const rn_ctx *c) {
    for (int n = 0; n < c->N; n++) {
        double ss = 0;
        for (int i = 0; i < c->C; i++) ss += c->x[n * c->C + i] * c->x[n * c->C + i];
        double r = 1.0 / sqrt(ss / c->C + c->eps);
        if (rstd) rstd[n] = r;
        for (int i = 0; i < c->C; i++) out[n * c->C + i] = c->x[n * c->C + i] * r * c->w[i];
    }
}
static double rn_loss(void *p) {
    rn_ctx *c = p;
    size_t n = (size_t)c->N * c->C;
    double *out = malloc(n * sizeof *out), L = 0;
    rn_ref(out, NULL, c);
    for (size_t i = 0; i < n; i++) L += out[i] * c->g[i];
    free(out);
    return L;
}

static void test_rmsnorm(void **st) {
    (void)st;
    oc_seed(3);
    int N = 5, C = 19;
    size_t n = (size_t)N * C;
    float *x = oc_randf(n, 2), *w = oc_randf(C, 1), *g = oc_randf(n, 1), eps = 1e-5f;
    x[3] *= 0.001f;  // one tiny row element; the row as a whole stays well-conditioned
    rn_ctx c = {oc_todouble(x, n), oc_todouble(w, C), oc_todouble(g, n), N, C, eps};
    float *out = malloc(n * sizeof *out), *rstd = malloc(N * sizeof *rstd);
    double *ref = malloc(n * sizeof *ref), *rref = malloc(N * sizeof *rref);
    ops->rmsnorm(out, rstd, x, w, N, C, eps);
    rn_ref(ref, rref, &c);
    assert_true(oc_relerr("rmsnorm fwd", out, ref, n, FWD_TOL) <= FWD_TOL);
    assert_true(oc_relerr("rmsnorm rstd", rstd, rref, N, FWD_TOL) <= FWD_TOL);
    float *dx0 = oc_randf(n, 1), *dw0 = oc_randf(C, 1), *dx = oc_copyf(dx0, n), *dw = oc_copyf(dw0, C);
    ops->rmsnorm_backward(dx, dw, g, x, w, rstd, N, C);
    oc_grad_check("rmsnorm dx", dx, dx0, c.x, n, rn_loss, &c, 0);
    oc_grad_check("rmsnorm dweight", dw, dw0, c.w, C, rn_loss, &c, 0);
    free(x); free(w); free(g); free(out); free(rstd); free(ref); free(rref);
    free(c.x); free(c.w); free(c.g); free(dx0); free(dw0); free(dx); free(dw);
}

// ---------------------------------------------------------------- rope
typedef struct { double *x, *g; const int32_t *pos; const float *inv_freq; int N, H, D; } rp_ctx;
// HF: q*cos + rotate_half(q)*sin, rotate_half(q) = cat(-q[D/2:], q[:D/2]), cos = cat(cos f, cos f),
// with the angle pos*inv_freq formed in float32 as HF does.
static void rp_ref(double *out, const rp_ctx *c) {
    int half = c->D / 2;
    for (int n = 0; n < c->N; n++)
        for (int h = 0; h < c->H; h++) {
            const double *x = c->x + ((size_t)n * c->H + h) * c->D;
            double *o = out + ((size_t)n * c->H + h) * c->D;
            for (int j = 0; j < c->D; j++) {
                int i = j % half;
                double a = (double)((float)c->pos[n] * c->inv_freq[i]);
                double rot = j < half ? -x[j + half] : x[j - half];
                o[j] = x[j] * cos(a) + rot * sin(a);
            }
        }
}
static double rp_loss(void *p) {
    rp_ctx *c = p;
    size_t n = (size_t)c->N * c->H * c->D;
    double *out = malloc(n * sizeof *out), L = 0;
    rp_ref(out, c);
    for (size_t i = 0; i < n; i++) L += out[i] * c->g[i];
    free(out);
    return L;
}

static void test_rope(void **st) {
    (void)st;
    oc_seed(4);
    // hand-computed: x = e0 at pos 1 with inv_freq[0] = 1 rotates into (cos 1, 0, sin 1, 0)
    {
        float x[4] = {1, 0, 0, 0}, f[2] = {1.0f, 0.01f};
        int32_t pos[1] = {1};
        ops->rope(x, pos, f, 1, 1, 4);
        assert_float_equal(x[0], cos(1.0), 1e-6);
        assert_float_equal(x[1], 0, 1e-6);
        assert_float_equal(x[2], sin(1.0), 1e-6);
        assert_float_equal(x[3], 0, 1e-6);
    }
    int N = 6, H = 3, D = 8;
    int32_t pos[6] = {0, 1, 2, 0, 1, 4097};  // packed documents restart at 0; one large position
    float inv_freq[4];
    for (int i = 0; i < D / 2; i++) inv_freq[i] = (float)pow(10000.0, -2.0 * i / D);
    size_t n = (size_t)N * H * D;
    float *x = oc_randf(n, 1), *g = oc_randf(n, 1);
    rp_ctx c = {oc_todouble(x, n), oc_todouble(g, n), pos, inv_freq, N, H, D};
    double *ref = malloc(n * sizeof *ref);
    rp_ref(ref, &c);
    float *y = oc_copyf(x, n);
    ops->rope(y, pos, inv_freq, N, H, D);
    assert_true(oc_relerr("rope fwd", y, ref, n, FWD_TOL) <= FWD_TOL);
    // backward: in place on the incoming gradient (a rotation: its transpose)
    float *zero = calloc(n, sizeof *zero), *dx = oc_copyf(g, n);
    ops->rope_backward(dx, pos, inv_freq, N, H, D);
    oc_grad_check("rope dx", dx, zero, c.x, n, rp_loss, &c, 0);
    // rope_backward inverts rope
    ops->rope_backward(y, pos, inv_freq, N, H, D);
    double *xd = oc_todouble(x, n);
    assert_true(oc_relerr("rope inverse", y, xd, n, FWD_TOL) <= FWD_TOL);
    free(x); free(g); free(c.x); free(c.g); free(ref); free(y); free(zero); free(dx); free(xd);
}

// ---------------------------------------------------------------- swiglu
typedef struct { double *gate, *up, *g; size_t n; } sw_ctx;
static double sw_loss(void *p) {
    sw_ctx *c = p;
    double L = 0;
    for (size_t i = 0; i < c->n; i++) L += c->gate[i] / (1 + exp(-c->gate[i])) * c->up[i] * c->g[i];
    return L;
}

static void test_swiglu(void **st) {
    (void)st;
    oc_seed(5);
    int N = 4, F = 23;
    size_t n = (size_t)N * F;
    float *gate = oc_randf(n, 6), *up = oc_randf(n, 2), *g = oc_randf(n, 1);
    sw_ctx c = {oc_todouble(gate, n), oc_todouble(up, n), oc_todouble(g, n), n};
    float *out = malloc(n * sizeof *out);
    double *ref = malloc(n * sizeof *ref);
    ops->swiglu(out, gate, up, N, F);
    for (size_t i = 0; i < n; i++) ref[i] = c.gate[i] / (1 + exp(-c.gate[i])) * c.up[i];
    assert_true(oc_relerr("swiglu fwd", out, ref, n, FWD_TOL) <= FWD_TOL);
    float *dg0 = oc_randf(n, 1), *du0 = oc_randf(n, 1), *dg = oc_copyf(dg0, n), *du = oc_copyf(du0, n);
    ops->swiglu_backward(dg, du, g, gate, up, N, F);
    oc_grad_check("swiglu dgate", dg, dg0, c.gate, n, sw_loss, &c, 0);
    oc_grad_check("swiglu dup", du, du0, c.up, n, sw_loss, &c, 0);
    free(gate); free(up); free(g); free(out); free(ref);
    free(c.gate); free(c.up); free(c.g); free(dg0); free(du0); free(dg); free(du);
}

// ---------------------------------------------------------------- embedding
typedef struct { double *table, *g; const int32_t *ids; int N, C; } em_ctx;
static double em_loss(void *p) {
    em_ctx *c = p;
    double L = 0;
    for (int n = 0; n < c->N; n++)
        for (int i = 0; i < c->C; i++) L += c->table[(size_t)c->ids[n] * c->C + i] * c->g[n * c->C + i];
    return L;
}

static void test_embedding(void **st) {
    (void)st;
    oc_seed(6);
    int V = 9, C = 70, N = 12;  // C > one 64-column block; ids repeat
    int32_t ids[12] = {3, 0, 8, 3, 3, 5, 1, 8, 0, 2, 7, 3};
    float *table = oc_randf((size_t)V * C, 1), *g = oc_randf((size_t)N * C, 1);
    float *out = malloc(sizeof(float) * N * C);
    ops->embedding(out, ids, table, N, C);
    for (int n = 0; n < N; n++) assert_memory_equal(out + n * C, table + ids[n] * C, C * sizeof(float));
    em_ctx c = {oc_todouble(table, (size_t)V * C), oc_todouble(g, (size_t)N * C), ids, N, C};
    float *d0 = oc_randf((size_t)V * C, 1), *d = oc_copyf(d0, (size_t)V * C);
    ops->embedding_backward(d, ids, g, N, C);
    oc_grad_check("embedding dtable", d, d0, c.table, (size_t)V * C, em_loss, &c, 0);
    free(table); free(g); free(out); free(c.table); free(c.g); free(d0); free(d);
}

// ---------------------------------------------------------------- AdamW
static void test_adamw(void **st) {
    (void)st;
    // One step by hand: p=1, g=0.5, lr=0.1, wd=0.01, b1=.9, b2=.999, eps=1e-8:
    //   p = 1 - 0.1*0.01*1 = 0.999; m = 0.05, v = 0.00025; mhat = 0.5, vhat = 0.25
    //   p = 0.999 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.89900000200
    float p = 1, g = 0.5f, m = 0, v = 0;
    ops->adamw(&p, &g, &m, &v, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);
    assert_float_equal(p, 0.899000002, 1e-7);
    // m and v carry the float32 rounding of the betas: 1 - 0.9f = 0.1 * (1 + 2.4e-7) and
    // 1 - 0.999f = 0.001 * (1 - 1.3e-5) (bias correction cancels it out of p above).
    assert_float_equal(m, 0.05, 0.05 * 5e-7);
    assert_float_equal(v, 0.00025, 0.00025 * 2e-5);
    // Several steps against the textbook formula in double (torch.optim.AdamW semantics).
    oc_seed(7);
    enum { n = 37, steps = 5 };
    float *pf = oc_randf(n, 1), *mf = calloc(n, sizeof(float)), *vf = calloc(n, sizeof(float));
    double pd[n], md[n] = {0}, vd[n] = {0};
    for (int i = 0; i < n; i++) pd[i] = pf[i];
    float lr = 3e-3f, b1 = 0.9f, b2 = 0.95f, eps = 1e-6f, wd = 0.1f;
    for (int t = 1; t <= steps; t++) {
        float *gf = oc_randf(n, t == 3 ? 1e-4f : 1.0f);  // a step of tiny gradients too
        ops->adamw(pf, gf, mf, vf, n, lr, b1, b2, eps, wd, t);
        for (int i = 0; i < n; i++) {
            double gi = gf[i];
            pd[i] -= (double)lr * wd * pd[i];
            md[i] = b1 * md[i] + (1 - (double)b1) * gi;
            vd[i] = b2 * vd[i] + (1 - (double)b2) * gi * gi;
            double mhat = md[i] / (1 - pow(b1, t)), vhat = vd[i] / (1 - pow(b2, t));
            pd[i] -= lr * mhat / (sqrt(vhat) + eps);
        }
        free(gf);
    }
    for (int i = 0; i < n; i++) {
        assert_float_equal(pf[i], pd[i], 1e-6);
        assert_float_equal(mf[i], md[i], 1e-6);
        assert_float_equal(vf[i], vd[i], 1e-6);
    }
    free(pf); free(mf); free(vf);
}

static void test_elementwise(void **st) {
    (void)st;
    enum { n = 100003 };  // above the threading threshold
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)), *o = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++) { a[i] = (float)i; b[i] = 0.5f * (float)(i % 7); }
    ops->add(o, a, b, n);
    for (int i = 0; i < n; i++) assert_true(o[i] == (float)i + 0.5f * (float)(i % 7));
    ops->add_inplace(o, a, n);
    for (int i = 0; i < n; i++) assert_true(o[i] == 2.0f * (float)i + 0.5f * (float)(i % 7));
    ops->scale_add(o, b, -2.0f, n);
    for (int i = 0; i < n; i++) assert_true(o[i] == 2.0f * (float)i - 0.5f * (float)(i % 7));
    free(a); free(b); free(o);
}


// Every entry of the table is filled (the model glue calls them unchecked) and the CUDA
// entry point exists (NULL in builds without a CUDA op table).
static void test_table_complete(void **st) {
    (void)st;
    assert_string_equal(ops->name, "cpu");
    assert_true(ops->matmul && ops->matmul_backward && ops->rmsnorm && ops->rmsnorm_backward);
    assert_true(ops->rope && ops->rope_backward && ops->attention && ops->attention_backward);
    assert_true(ops->swiglu && ops->swiglu_backward && ops->embedding && ops->embedding_backward);
    assert_true(ops->lm_head_xent && ops->lm_head_logits && ops->adamw);
    assert_true(ops->add && ops->add_inplace && ops->scale_add);
    const ft_ops *cu = ft_ops_cuda();
    if (cu) assert_non_null(cu->attention);
}

int main(void) {
    ops = ft_ops_cpu();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul),   cmocka_unit_test(test_lm_head_logits),
        cmocka_unit_test(test_sgemm_loops), cmocka_unit_test(test_expf),
        cmocka_unit_test(test_rmsnorm),  cmocka_unit_test(test_rope),
        cmocka_unit_test(test_swiglu),   cmocka_unit_test(test_embedding),
        cmocka_unit_test(test_adamw),    cmocka_unit_test(test_elementwise),
        cmocka_unit_test(test_table_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
