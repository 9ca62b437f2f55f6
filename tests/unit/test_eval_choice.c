// test_eval_choice.c — ft_choice_loglik (lib/eval/eval_choice.c) on a tiny random model: the score
// of a continuation is the sum of log softmax(logits at t)[token t+1] over its tokens, computed
// here in double from the model's logits of the whole sequence; a sequence longer than the
// model's context is cut on the left (equal to scoring the kept tokens); a continuation that
// cannot fit is refused.
#include "testutil.h"
#include "core/err.h"
#include "eval/eval_choice.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Reference: sum over t in [from, n-1) of log softmax(logits(seq)[t])[seq[t+1]].
static double ref_loglik(ft_model *m, const uint32_t *seq, int n, int from) {
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, 1, n, 0), 0);
    int32_t ids[16];
    for (int i = 0; i < n; i++) ids[i] = (int32_t)seq[i];
    assert_int_equal(ft_model_forward(m, &a, ids, NULL, NULL, 1, n), 0);
    int V = m->cfg.vocab_size;
    float *lg = malloc((size_t)n * V * sizeof *lg);
    ft_model_logits(m, &a, NULL, n, lg);
    double ll = 0;
    for (int t = from; t < n - 1; t++) {
        const float *z = lg + (size_t)t * V;
        double mx = z[0], s = 0;
        for (int j = 1; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        for (int j = 0; j < V; j++) s += exp(z[j] - mx);
        ll += z[seq[t + 1]] - mx - log(s);
    }
    free(lg);
    ft_acts_free(&a);
    return ll;
}

static void test_loglik(void **st) {
    (void)st;
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-gpt-2.gguf", tu_testdata());
    ft_tokenizer *tok = ft_tokenizer_load(path);
    assert_non_null(tok);
    tu_model_spec sp = {.max_pos = 4};
    ft_model *m = tu_tiny_model(&sp, 7);
    ft_choice_scorer *c = ft_choice_scorer_new(m, tok);
    assert_non_null(c);
    // fits: ctx [1,2], cont [4,5] -> predicted at positions 1 and 2 of [1,2,4,5]
    uint32_t ctx[] = {1, 2}, cont[] = {4, 5}, seq[] = {1, 2, 4, 5};
    double ll;
    assert_int_equal(ft_choice_loglik(c, ctx, 2, cont, 2, &ll), 0);
    double want = ref_loglik(m, seq, 4, 1);
    assert_true(fabs(ll - want) < 1e-4 * (1 + fabs(want)));
    assert_true(ll < 0);
    // too long for max_pos 4: [9,8,1,2] + [4,5] keeps [1,2,4,5] -> the same score, bit for bit
    uint32_t long_ctx[] = {9, 8, 1, 2};
    double ll2;
    assert_int_equal(ft_choice_loglik(c, long_ctx, 4, cont, 2, &ll2), 0);
    assert_true(ll2 == ll);
    // ctx [3] + cont [4,5,6] fills the 4 positions exactly
    uint32_t c3[] = {3}, k3[] = {4, 5, 6}, s3[] = {3, 4, 5, 6};
    assert_int_equal(ft_choice_loglik(c, c3, 1, k3, 3, &ll), 0);
    want = ref_loglik(m, s3, 4, 0);
    assert_true(fabs(ll - want) < 1e-4 * (1 + fabs(want)));
    // a continuation of 4 tokens leaves no context token in 4 positions: refused
    uint32_t k4[] = {4, 5, 6, 7};
    assert_int_equal(ft_choice_loglik(c, c3, 1, k4, 4, &ll), -1);
    assert_non_null(strstr(ft_errmsg(), "does not fit the context of 4"));
    ft_choice_scorer_free(c);
    ft_model_free(m);
    ft_tokenizer_free(tok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loglik),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
