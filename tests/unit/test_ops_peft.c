// test_ops_peft.c — the op-table ops of DoRA, bottleneck adapters and prompt/prefix tuning
// (kernels/ops.h: dora_norm, div, dora_combine, dora_gain_backward, scale_cols,
// dora_norm_backward_B/A/W, fill, tanh_backward, act FT_ACT_TANH): the CPU reference against
// naive double-precision formulas written here from the math (V = W + s B A formed
// explicitly, its row norms, dV = diag(c) V and the chain rule to dA, dB, dW), "+=" on
// prefilled gradients, a rank above the 64-wide blocking of dora_norm_backward_A; and the
// guard table equal to the CPU table bit for bit on device buffers.
#include "ops_check.h"
#include "ops.h"

enum { BW, BA, BB, BP, BG, BN, BMAG, BGAIN, BOUT, BD, BBIAS, BZ, BDOUT, BDMAG, BC, BDB, BBC, BDA, BDW, BSC, BFILL,
       BTD, BTY, BTA, BTB, NBUF };

typedef struct { float *p[NBUF]; size_t n[NBUF]; int N, I, O, r; float s; } bufs;

static void sizes(bufs *b, int N, int I, int O, int r) {
    size_t no = (size_t)N * O;
    size_t n[NBUF] = {[BW] = (size_t)O * I, [BA] = (size_t)r * I, [BB] = (size_t)O * r, [BP] = (size_t)r * O,
                      [BG] = (size_t)r * r, [BN] = O, [BMAG] = O, [BGAIN] = O, [BOUT] = no, [BD] = no, [BBIAS] = O,
                      [BZ] = no, [BDOUT] = no, [BDMAG] = O, [BC] = O, [BDB] = (size_t)O * r, [BBC] = (size_t)O * r,
                      [BDA] = (size_t)r * I, [BDW] = (size_t)O * I, [BSC] = no, [BFILL] = 37, [BTD] = no, [BTY] = no,
                      [BTA] = no, [BTB] = no};
    memcpy(b->n, n, sizeof n);
    b->N = N; b->I = I; b->O = O; b->r = r; b->s = 0.75f;
}

// Every op in sequence on table o over the buffers of b (host or device, as o wants).
static void run(const ft_ops *o, bufs *b) {
    float **p = b->p;
    int N = b->N, I = b->I, O = b->O, r = b->r;
    float s = b->s;
    size_t no = (size_t)N * O;
    o->matmul(p[BP], p[BA], p[BW], NULL, r, I, O);
    o->dora_norm(p[BN], p[BG], p[BP], p[BW], p[BA], p[BB], s, r, I, O);
    o->div(p[BGAIN], p[BMAG], p[BN], (size_t)O);
    o->dora_combine(p[BOUT], p[BD], p[BGAIN], p[BBIAS], s, N, O);
    o->dora_gain_backward(p[BDMAG], p[BC], p[BDOUT], p[BZ], p[BN], p[BGAIN], N, O);
    o->scale_cols(p[BSC], p[BGAIN], p[BDOUT], N, O);
    o->dora_norm_backward_B(p[BDB], p[BBC], p[BB], p[BP], p[BG], p[BC], s, r, O);
    o->matmul_backward(NULL, p[BDA], NULL, p[BBC], p[BW], p[BA], O, I, r);
    o->dora_norm_backward_A(p[BDA], p[BBC], p[BB], p[BA], s, r, I, O);
    o->dora_norm_backward_W(p[BDW], p[BC], p[BW], p[BA], p[BB], s, r, I, O);
    o->fill(p[BFILL], 2.5f, b->n[BFILL]);
    o->act(p[BTA], p[BTY], no, FT_ACT_TANH);
    o->act_backward(p[BTB], p[BTD], p[BTY], no, FT_ACT_TANH);   // before tanh_backward changes BTD
    o->tanh_backward(p[BTD], p[BTY], no);
}

static void check_case(int N, int I, int O, int r) {
    bufs h, init;
    sizes(&h, N, I, O, r);
    oc_seed((uint64_t)(N * 1000 + r));
    for (int i = 0; i < NBUF; i++) h.p[i] = oc_randf(h.n[i], 1.0f);
    for (int j = 0; j < O; j++) h.p[BMAG][j] = 0.5f + 0.5f * (1.0f + h.p[BMAG][j]);
    init = h;
    for (int i = 0; i < NBUF; i++) init.p[i] = oc_copyf(h.p[i], h.n[i]);
    run(ft_ops_cpu(), &h);
    float **p = h.p, **p0 = init.p, s = h.s;
    // V = W + s B A and its row norms, in double
    double *V = malloc(sizeof(double) * O * I), *nref = malloc(sizeof(double) * O);
    for (int j = 0; j < O; j++) {
        double q = 0;
        for (int i = 0; i < I; i++) {
            double v = p0[BW][j * I + i];
            for (int k = 0; k < r; k++) v += (double)s * p0[BB][j * r + k] * p0[BA][k * I + i];
            V[j * I + i] = v;
            q += v * v;
        }
        nref[j] = sqrt(q);
    }
    assert_true(oc_relerr("dora_norm", p[BN], nref, O, 1e-5) <= 1e-5);
    double *Gref = malloc(sizeof(double) * r * r);
    for (int k = 0; k < r; k++)
        for (int l = 0; l < r; l++) {
            double t = 0;
            for (int i = 0; i < I; i++) t += (double)p0[BA][k * I + i] * p0[BA][l * I + i];
            Gref[k * r + l] = t;
        }
    assert_true(oc_relerr("dora_norm G", p[BG], Gref, (size_t)r * r, 1e-6) <= 1e-6);
    for (int j = 0; j < O; j++) assert_true(p[BGAIN][j] == p0[BMAG][j] / p[BN][j]);   // the float quotient
    // combine: out0 + (g - 1) (out0 - bias) + g s d
    size_t no = (size_t)N * O;
    double *ref = malloc(sizeof(double) * (no + (size_t)O * I + (size_t)r * I + (size_t)O * r));
    for (int n = 0; n < N; n++)
        for (int j = 0; j < O; j++) {
            double o0 = p0[BOUT][n * O + j], g = p[BGAIN][j];
            ref[n * O + j] = o0 + (g - 1) * (o0 - p0[BBIAS][j]) + g * s * p0[BD][n * O + j];
        }
    assert_true(oc_relerr("dora_combine", p[BOUT], ref, no, 1e-5) <= 1e-5);
    // gain backward: dg_j = sum_n dout z; dmag += dg / n; c = -dg g / n^2
    double *dg = malloc(sizeof(double) * O), *dm = malloc(sizeof(double) * O), *cr = malloc(sizeof(double) * O);
    for (int j = 0; j < O; j++) {
        dg[j] = 0;
        for (int n = 0; n < N; n++) dg[j] += (double)p0[BDOUT][n * O + j] * p0[BZ][n * O + j];
        dm[j] = dg[j] / p[BN][j];
        cr[j] = -dg[j] * p[BGAIN][j] / ((double)p[BN][j] * p[BN][j]);
    }
    double *got = oc_delta(p[BDMAG], p0[BDMAG], O);
    assert_true(oc_relerr_d("dora_gain_backward dmag", got, dm, O, 1e-5) <= 1e-5);
    free(got);
    assert_true(oc_relerr("dora_gain_backward c", p[BC], cr, O, 1e-5) <= 1e-5);
    for (size_t i = 0; i < no; i++) assert_true(p[BSC][i] == p[BGAIN][i % O] * p0[BDOUT][i]);
    // through the norm with the op's c: dV = diag(c) V; dB += s dV A^T, dA += s B^T dV, dW += dV
    const float *c = p[BC];
    for (int j = 0; j < O; j++)
        for (int k = 0; k < r; k++) {
            double t = 0;
            for (int i = 0; i < I; i++) t += c[j] * V[j * I + i] * p0[BA][k * I + i];
            ref[j * r + k] = s * t;
        }
    got = oc_delta(p[BDB], p0[BDB], (size_t)O * r);
    assert_true(oc_relerr_d("dora_norm_backward_B dB", got, ref, (size_t)O * r, 1e-5) <= 1e-5);
    free(got);
    for (int j = 0; j < O * r; j++) assert_true(p[BBC][j] == s * c[j / r] * p0[BB][j]);
    for (int k = 0; k < r; k++)
        for (int i = 0; i < I; i++) {
            double t = 0;
            for (int j = 0; j < O; j++) t += (double)p0[BB][j * r + k] * c[j] * V[j * I + i];
            ref[k * I + i] = s * t;
        }
    got = oc_delta(p[BDA], p0[BDA], (size_t)r * I);
    assert_true(oc_relerr_d("dora_norm_backward_A dA (with Bc^T W)", got, ref, (size_t)r * I, 1e-5) <= 1e-5);
    free(got);
    for (int j = 0; j < O; j++)
        for (int i = 0; i < I; i++) ref[j * I + i] = c[j] * V[j * I + i];
    got = oc_delta(p[BDW], p0[BDW], (size_t)O * I);
    assert_true(oc_relerr_d("dora_norm_backward_W dW", got, ref, (size_t)O * I, 1e-6) <= 1e-6);
    free(got);
    for (size_t i = 0; i < h.n[BFILL]; i++) assert_true(p[BFILL][i] == 2.5f);
    for (size_t i = 0; i < no; i++) {
        double y = p0[BTY][i], t = tanh(y);
        assert_true(fabs(p[BTA][i] - t) <= 2e-7 * (1 + fabs(t)));
        double want = p0[BTB][i] + p0[BTD][i] * (1 - t * t), wd = p0[BTD][i] * (1 - y * y);
        assert_true(fabs(p[BTB][i] - want) <= 1e-6 * (1 + fabs(want)));
        assert_true(fabs(p[BTD][i] - wd) <= 1e-6 * (1 + fabs(wd)));
    }
    // the guard table on device buffers: the CPU's results bit for bit
    const ft_ops *g = ft_ops_guard();
    assert_non_null(g);
    bufs d = init;
    for (int i = 0; i < NBUF; i++) {
        d.p[i] = g->alloc(d.n[i] * sizeof(float));
        assert_non_null(d.p[i]);
        assert_int_equal(g->upload(d.p[i], init.p[i], d.n[i] * sizeof(float)), 0);
    }
    run(g, &d);
    for (int i = 0; i < NBUF; i++) {
        float *back = malloc(d.n[i] * sizeof(float));
        assert_int_equal(g->download(back, d.p[i], d.n[i] * sizeof(float)), 0);
        if (memcmp(back, h.p[i], d.n[i] * sizeof(float))) fail_msg("guard buffer %d differs from the CPU's", i);
        free(back);
        g->free(d.p[i]);
    }
    for (int i = 0; i < NBUF; i++) {
        free(h.p[i]);
        free(init.p[i]);
    }
    free(V); free(nref); free(Gref); free(ref); free(dg); free(dm); free(cr);
}

static void test_small(void **st) { check_case(5, 7, 6, 3); }
static void test_rank_above_block(void **st) { check_case(3, 9, 5, 67); }   // dora_norm_backward_A's 64-blocks
static void test_zero_row_norm(void **st) {
    // W row 0 and B zero: the norm is clamped (sqrt(1e-60) = 1e-30), finite, so mag / n is too
    enum { I = 4, O = 2, R = 2 };
    float W[O * I] = {0, 0, 0, 0, 1, 2, 3, 4}, A[R * I] = {1, 0, 0, 1, 0, 1, 1, 0}, B[O * R] = {0}, P[R * O], G[R * R],
          n[O];
    const ft_ops *o = ft_ops_cpu();
    o->matmul(P, A, W, NULL, R, I, O);
    o->dora_norm(n, G, P, W, A, B, 1.0f, R, I, O);
    assert_true(n[0] == (float)1e-30 && n[1] == (float)sqrt(30.0));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small),
        cmocka_unit_test(test_rank_above_block),
        cmocka_unit_test(test_zero_row_norm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
