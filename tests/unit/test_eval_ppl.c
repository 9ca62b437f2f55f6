// test_eval_ppl.c — ft_ppl (lib/eval/eval_ppl.c) on a tiny random model against a reference that
// scores each record (or window) alone: -sum log softmax(logits at t)[token t+1] over its
// targets, in double from the model's logits of that sequence only. Records packed into one
// row (document masking, positions restarting) give the per-record sums; a record longer than
// the row is scored in windows [0,4) [3,7) [6,9) so each target counts once.
#include "testutil.h"
#include "core/err.h"
#include "eval/eval_ppl.h"

#include <math.h>
#include <stdlib.h>

// -sum over t in [0, n-1) with mask[t+1] (mask NULL: all) of log softmax(logits(seq)[t])[seq[t+1]]
static double ref_nll(ft_model *m, const uint32_t *seq, const uint8_t *mask, int n, uint64_t *targets) {
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, 1, n, 0), 0);
    int32_t ids[32];
    for (int i = 0; i < n; i++) ids[i] = (int32_t)seq[i];
    assert_int_equal(ft_model_forward(m, &a, ids, NULL, NULL, 1, n), 0);
    int V = m->cfg.vocab_size;
    float *lg = malloc((size_t)n * V * sizeof *lg);
    ft_model_logits(m, &a, NULL, n, lg);
    double nll = 0;
    for (int t = 0; t < n - 1; t++) {
        if (mask && !mask[t + 1]) continue;
        const float *z = lg + (size_t)t * V;
        double mx = z[0], s = 0;
        for (int j = 1; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        for (int j = 0; j < V; j++) s += exp(z[j] - mx);
        nll -= z[seq[t + 1]] - mx - log(s);
        ++*targets;
    }
    free(lg);
    ft_acts_free(&a);
    return nll;
}

static void close_to(double got, double want) { assert_true(fabs(got - want) < 1e-4 * (1 + fabs(want))); }

static void test_packed_records(void **st) {
    (void)st;
    ft_model *m = tu_tiny_model(&(tu_model_spec){0}, 11);
    uint32_t r0[] = {3, 4, 5, 6, 7};  uint8_t m0[] = {0, 0, 1, 1, 0};   // targets 5, 6
    uint32_t r1[] = {9, 1, 2};                                         // mask NULL: 1, 2
    uint32_t r2[] = {8};                                               // nothing to predict
    uint32_t r3[] = {2, 2, 3, 1};     uint8_t m3[] = {1, 1, 1, 1};
    ft_ppl *p = ft_ppl_new(m, 16, 1, NULL);
    assert_non_null(p);
    assert_int_equal(ft_ppl_add(p, r0, m0, 5, 0), 0);
    assert_int_equal(ft_ppl_add(p, r1, NULL, 3, 1), 0);
    assert_int_equal(ft_ppl_add(p, r2, NULL, 1, 2), 0);
    assert_int_equal(ft_ppl_add(p, r3, m3, 4, 3), 0);
    assert_int_equal(ft_ppl_finish(p), 0);
    uint64_t t[4] = {0};
    double want[4] = {ref_nll(m, r0, m0, 5, &t[0]), ref_nll(m, r1, NULL, 3, &t[1]), 0, ref_nll(m, r3, m3, 4, &t[3])};
    assert_int_equal(t[0], 2);
    assert_int_equal(ft_ppl_targets(p), 2 + 2 + 0 + 3);
    close_to(ft_ppl_loss_sum(p), want[0] + want[1] + want[3]);
    for (size_t k = 0; k < 4; k++) {
        double l;
        uint64_t n;
        ft_ppl_record(p, k, &l, &n);
        assert_int_equal(n, t[k]);
        close_to(l, want[k]);
    }
    ft_ppl_free(p);
    ft_model_free(m);
}

static void test_windows(void **st) {
    (void)st;
    ft_model *m = tu_tiny_model(&(tu_model_spec){0}, 12);
    uint32_t r[9] = {5, 4, 3, 2, 1, 6, 7, 8, 9};
    ft_ppl *p = ft_ppl_new(m, 4, 1, NULL);
    assert_non_null(p);
    assert_int_equal(ft_ppl_add(p, r, NULL, 9, 0), 0);
    assert_int_equal(ft_ppl_finish(p), 0);
    uint64_t t = 0;
    double want = ref_nll(m, r, NULL, 4, &t) + ref_nll(m, r + 3, NULL, 4, &t) + ref_nll(m, r + 6, NULL, 3, &t);
    assert_int_equal(t, 8);
    assert_int_equal(ft_ppl_targets(p), 8);
    close_to(ft_ppl_loss_sum(p), want);
    ft_ppl_free(p);
    assert_null(ft_ppl_new(m, 1, 0, NULL));
    ft_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packed_records),
        cmocka_unit_test(test_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
