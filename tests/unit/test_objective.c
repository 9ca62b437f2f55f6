// test_objective.c — the objective table (lib/train/objective.h): lookup and refusal with the list,
// SFT's step arithmetic (the gradient weight 1/targets and the mean loss, as the step used to
// compute them inline), and the model-level per-row pieces a sequence-level objective builds
// on: ft_model_backward_rows with every weight equal to grad_scale is ft_model_backward bit for
// bit, its row log-probabilities are each row's own loss (the row alone in the mask, negated),
// and per-row gradient weights give the gradient of the weighted sum of the rows' losses
// (central finite differences through the whole tiny model).
#include "testutil.h"
#include "core/err.h"
#include "model/model.h"
#include "model/model_backward.h"
#include "train/objective.h"
#include "core/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_table(void **st) {
    (void)st;
    const ft_objective *o = ft_objective_find("sft");
    assert_non_null(o);
    assert_string_equal(o->name, "sft");
    assert_int_equal(o->rows_per_example, 1);
    assert_int_equal(o->needs_reference, 0);
    assert_null(o->row_grad);
    assert_int_equal(o->n_metric, 0);
    assert_string_equal(ft_objective_names(), "sft, dpo, simpo, orpo, kto");
    assert_null(ft_objective_find("ppo"));
    assert_string_equal(ft_errmsg(), "--objective ppo: expected sft, dpo, simpo, orpo, kto");
    const ft_objective *k = ft_objective_find("kto");
    assert_non_null(k);
    assert_int_equal(k->rows_per_example, 1);
    assert_int_equal(k->labeled, 1);
    const ft_objective *d = ft_objective_find("dpo");
    assert_non_null(d);
    assert_int_equal(d->rows_per_example, 2);
    assert_int_equal(d->needs_reference, 1);
    assert_non_null(d->row_grad);
    assert_null(ft_objective_find("SFT"));   // names are exact
}

static void test_sft_step(void **st) {
    (void)st;
    const ft_objective *o = ft_objective_find("sft");
    ft_obj_step s = {.targets = 7, .examples = 2};
    o->begin(&s);
    assert_true(s.grad_scale == (float)(1.0 / 7.0));
    o->add(&s, 3.5, NULL);
    o->add(&s, 1.25, NULL);
    double m[FT_OBJ_MAX_METRICS];
    assert_true(o->end(&s, m) == 4.75 / 7.0);
    ft_obj_step z = {.targets = 0};
    o->begin(&z);
    assert_true(z.grad_scale == 0.0f);
    assert_true(o->end(&z, m) == 0.0);
}

enum { B = 2, T = 8, N = B * T };

typedef struct {
    ft_model *m;
    ft_acts a;
    int32_t ids[N], tgt[N];
    uint8_t mask[N];
    double c[B];   // weight of each row's summed loss
} rows_ctx;

// L = sum_b c[b] * (summed loss of row b), each row's loss from the mask with that row alone
static double weighted_loss(rows_ctx *x) {
    assert_int_equal(ft_model_forward(x->m, &x->a, x->ids, NULL, NULL, B, T), 0);
    double L = 0;
    for (int b = 0; b < B; b++) {
        uint8_t mk[N] = {0};
        memcpy(mk + b * T, x->mask + b * T, T);
        L += x->c[b] * ft_model_loss(x->m, &x->a, x->tgt, mk, N);
    }
    return L;
}

static void test_model_rows(void **st) {
    (void)st;
    tu_model_spec spec = {0};
    rows_ctx x = {.m = tu_tiny_model(&spec, 31)};
    ft_model *m = x.m;
    ft_rng r;
    ft_rng_seed(&r, 7);
    int targets = 0;
    for (int n = 0; n < N; n++) {
        x.ids[n] = (int32_t)ft_rng_below(&r, 23);
        x.tgt[n] = (int32_t)ft_rng_below(&r, 23);
        x.mask[n] = n % T != 0 && ft_rng_below(&r, 5) != 0;
        targets += x.mask[n];
    }
    ft_backward_ws ws;
    assert_int_equal(ft_acts_alloc(&x.a, &m->cfg, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&ws, &m->cfg, B, T), 0);
    size_t P = m->n_params;
    float *g1 = calloc(P, sizeof *g1), *g2 = calloc(P, sizeof *g2), *g3 = calloc(P, sizeof *g3);
    float scale = (float)(1.0 / targets), gw[N];
    int32_t row[N];
    for (int n = 0; n < N; n++) { gw[n] = scale; row[n] = n / T; }
    // every weight = grad_scale: the plain backward, bit for bit
    assert_int_equal(ft_model_forward(m, &x.a, x.ids, NULL, NULL, B, T), 0);
    double l1 = ft_model_backward(m, &x.a, &ws, x.ids, NULL, x.tgt, x.mask, B, T, g1, scale);
    double lp[B], lp_fwd[B];
    ft_loss_rows rows = {gw, row, lp, B};
    assert_int_equal(ft_model_forward(m, &x.a, x.ids, NULL, NULL, B, T), 0);
    double l2 = ft_model_backward_rows(m, &x.a, &ws, x.ids, NULL, x.tgt, x.mask, B, T, g2, 0.0f, &rows);
    assert_memory_equal(&l1, &l2, sizeof l1);
    assert_memory_equal(g1, g2, P * sizeof *g1);
    // the forward-only head gives the same row log-probabilities; each is its row's own loss
    ft_loss_rows fwd = {NULL, row, lp_fwd, B};
    assert_true(ft_model_loss_rows(m, &x.a, x.tgt, x.mask, N, &fwd) == l1);
    assert_memory_equal(lp, lp_fwd, sizeof lp);
    for (int b = 0; b < B; b++) {
        uint8_t mk[N] = {0};
        memcpy(mk + b * T, x.mask + b * T, T);
        double lb = ft_model_loss(m, &x.a, x.tgt, mk, N);
        printf("# row %d logp %.9g own loss %.9g\n", b, lp[b], lb);
        assert_true(lp[b] < 0 && fabs(lp[b] + lb) <= 1e-6 * lb);
    }
    // per-row weights (of opposite signs): the gradient of sum_b c[b] * loss_b
    x.c[0] = 0.7 / targets;
    x.c[1] = -0.3 / targets;
    for (int n = 0; n < N; n++) gw[n] = (float)x.c[row[n]];
    rows.row_logp = NULL;
    assert_int_equal(ft_model_forward(m, &x.a, x.ids, NULL, NULL, B, T), 0);
    assert_true(isfinite(ft_model_backward_rows(m, &x.a, &ws, x.ids, NULL, x.tgt, x.mask, B, T, g3, 0.0f, &rows)));
    int bad = 0, checked = 0;
    double worst = 0;
    for (int t = 0; t < m->n_tensors; t++) {
        const ft_tensor_info *ti = &m->tensors[t];
        for (int k = 0; k < 3; k++, checked++) {
            size_t i = ti->offset + (size_t)ft_rng_below(&r, ti->numel);
            float *p = &m->params[i], keep = *p, eps = 1e-2f;
            *p = keep + eps;
            double lp_ = weighted_loss(&x);
            *p = keep - eps;
            double lm_ = weighted_loss(&x);
            *p = keep;
            double num = (lp_ - lm_) / (2.0 * ((double)(keep + eps) - (double)keep)), g = g3[i];
            double err = fabs(num - g) / (fabs(num) + fabs(g) + 1e-3);
            if (err > worst) worst = err;
            if (err > 2e-2) {
                fprintf(stderr, "  %s[%zu]: analytic %.6g numeric %.6g (rel %.3g)\n", ti->name, i - ti->offset, g, num, err);
                bad++;
            }
        }
    }
    printf("# per-row weights: %d parameters checked, worst relative error %.2g\n", checked, worst);
    assert_int_equal(bad, 0);
    free(g1); free(g2); free(g3);
    ft_backward_free(&ws);
    ft_acts_free(&x.a);
    ft_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_sft_step),
        cmocka_unit_test(test_model_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
