// test_optim.c — AdamW against hand-computed steps, schedules against HF's formulas at
// hand-computed points, clipping and finiteness checks.
#include "testutil.h"
#include "core/err.h"
#include "optim/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


static void test_adamw_hand(void **st) {
    (void)st;
    ft_optim o;
    ft_adamw_cfg c = {0.9f, 0.999f, 1e-8f, 0.01f};
    assert_int_equal(ft_optim_init(&o, ft_ops_cpu(), 2, c), 0);
    float p[2] = {1.0f, -2.0f};
    float g[2] = {0.5f, 0.0f};
    ft_optim_step(&o, p, g, 0.1f);
    // step 1: m=0.05, v=0.00025, mhat=0.5, vhat=0.25 -> p = 1*(1-0.1*0.01) - 0.1*0.5/0.5 = 0.899
    assert_float_equal(p[0], 0.899f, 1e-6);
    // zero gradient: only decoupled decay, -2*(1-0.001)
    assert_float_equal(p[1], -1.998f, 1e-6);
    g[0] = -0.25f;
    ft_optim_step(&o, p, g, 0.1f);
    // step 2 by hand: m=0.02, v=0.00031225, mhat=0.02/0.19, vhat=0.00031225/0.001999
    double mh = 0.02 / 0.19, vh = 0.00031225 / 0.001999;
    double want = 0.899 * (1 - 0.001) - 0.1 * mh / (sqrt(vh) + 1e-8);
    assert_float_equal(p[0], want, 2e-6);
    assert_int_equal(o.t, 2);
    ft_optim_free(&o);
}

static void test_adamw_ranges(void **st) {
    (void)st;
    ft_optim o;
    ft_adamw_cfg c = {0.9f, 0.999f, 1e-8f, 0.5f};
    assert_int_equal(ft_optim_init(&o, ft_ops_cpu(), 4, c), 0);
    ft_param_range r[2] = {{0, 2, 1}, {2, 2, 0}};
    assert_int_equal(ft_optim_set_ranges(&o, r, 2), 0);
    ft_param_range bad = {3, 2, 1};
    assert_int_equal(ft_optim_set_ranges(&o, &bad, 1), -1);
    float p[4] = {1, 1, 1, 1}, g[4] = {0, 0, 0, 0};
    ft_optim_step(&o, p, g, 0.1f);
    assert_float_equal(p[0], 0.95f, 1e-7);   // decayed by lr*wd
    assert_float_equal(p[2], 1.0f, 0);        // exempt
    ft_optim_free(&o);
}

static void test_schedules(void **st) {
    (void)st;
    ft_sched s = {FT_SCHED_LINEAR, 1.0, 2, 10};
    assert_float_equal(ft_sched_lr(&s, 0), 0.0, 1e-12);
    assert_float_equal(ft_sched_lr(&s, 1), 0.5, 1e-12);
    assert_float_equal(ft_sched_lr(&s, 2), 1.0, 1e-12);
    assert_float_equal(ft_sched_lr(&s, 6), 0.5, 1e-12);
    assert_float_equal(ft_sched_lr(&s, 10), 0.0, 1e-12);
    s.kind = FT_SCHED_COSINE;
    assert_float_equal(ft_sched_lr(&s, 6), 0.5, 1e-12);
    assert_float_equal(ft_sched_lr(&s, 4), 0.5 * (1 + cos(M_PI / 4)), 1e-12);
    assert_float_equal(ft_sched_lr(&s, 10), 0.0, 1e-12);
    s.kind = FT_SCHED_CONSTANT;
    assert_float_equal(ft_sched_lr(&s, 1), 0.5, 1e-12);
    assert_float_equal(ft_sched_lr(&s, 9), 1.0, 1e-12);
    s.warmup_steps = 0;
    assert_float_equal(ft_sched_lr(&s, 0), 1.0, 1e-12);
    // warmup as a fraction rounds up; >= 1 is a step count
    assert_int_equal(ft_sched_resolve_warmup(0.1, 95), 10);
    assert_int_equal(ft_sched_resolve_warmup(5, 95), 5);
    assert_int_equal(ft_sched_resolve_warmup(0, 95), 0);
    ft_sched_kind k;
    assert_int_equal(ft_sched_parse("cosine", &k), 0);
    assert_int_equal(k, FT_SCHED_COSINE);
    assert_int_equal(ft_sched_parse("exp", &k), -1);
    assert_non_null(strstr(ft_errmsg(), "exp"));
}

static void test_clip_finite(void **st) {
    (void)st;
    float g[2] = {3, 4};
    double n = ft_grad_clip(g, 2, 1.0);
    assert_float_equal(n, 5.0, 1e-9);
    assert_float_equal(g[0], 0.6f * 5 / (5 + 1e-6), 1e-6);
    assert_float_equal(g[1], 0.8f * 5 / (5 + 1e-6), 1e-6);
    float h[2] = {0.3f, 0.4f};
    ft_grad_clip(h, 2, 1.0);   // below the limit: untouched
    assert_float_equal(h[0], 0.3f, 0);
    assert_true(ft_all_finite(h, 2));
    h[1] = NAN;
    assert_false(ft_all_finite(h, 2));
    h[1] = INFINITY;
    assert_false(ft_all_finite(h, 2));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adamw_hand),
        cmocka_unit_test(test_adamw_ranges),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_clip_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
