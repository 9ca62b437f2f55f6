// test_dist.c — the pure parts of lib/train/dist.c: the ranks' shares of a step's rows
// partition the rows (each once, in rank order, whole examples, sizes within one example of
// each other), the ZeRO-1 shards partition the parameters, and a shard's optimizer (its decay
// table cut and shifted) updates exactly as the full optimizer does on those elements; the
// one-process world's collectives leave buffers alone.
#include "testutil.h"
#include "core/err.h"
#include "optim/optim.h"
#include "train/dist.h"

#include <stdlib.h>
#include <string.h>

// Micro-batches of sizes mb[0..k) forming a step of total rows.
static void check_rows(const int *mb, int k, int unit, int size) {
    uint64_t total = 0;
    for (int i = 0; i < k; i++) total += (uint64_t)mb[i];
    int *owner = malloc(total * sizeof *owner);
    for (uint64_t i = 0; i < total; i++) owner[i] = -1;
    uint64_t count[64] = {0};
    for (int r = 0; r < size; r++) {
        uint64_t first = 0;
        for (int i = 0; i < k; i++) {
            int r0 = -1, nr = -1;
            ft_dist_rows(first, mb[i], total, unit, r, size, &r0, &nr);
            assert_true(nr >= 0 && r0 >= 0 && r0 + nr <= mb[i]);
            for (int j = 0; j < nr; j++) {
                assert_int_equal(owner[first + (uint64_t)r0 + (uint64_t)j], -1);   // each row once
                owner[first + (uint64_t)r0 + (uint64_t)j] = r;
            }
            count[r] += (uint64_t)nr;
            first += (uint64_t)mb[i];
        }
    }
    for (uint64_t i = 0; i < total; i++) {
        assert_true(owner[i] >= 0);                           // every row
        if (i) assert_true(owner[i] >= owner[i - 1]);         // contiguous, in rank order
        if (i % (uint64_t)unit) assert_int_equal(owner[i], owner[i - 1]);   // whole examples
    }
    uint64_t lo = total, hi = 0;
    for (int r = 0; r < size; r++) {
        if (count[r] < lo) lo = count[r];
        if (count[r] > hi) hi = count[r];
    }
    if (total % (uint64_t)unit == 0) assert_true(hi - lo <= (uint64_t)unit);
    free(owner);
}

static void test_rows_partition(void **st) {
    (void)st;
    int a[] = {4, 4}, b[] = {1, 1, 1, 1}, c[] = {8, 8, 3}, d[] = {2}, e[] = {6, 6, 6};
    for (int size = 1; size <= 7; size++) {
        check_rows(a, 2, 1, size);
        check_rows(b, 4, 1, size);
        check_rows(c, 3, 1, size);
        check_rows(d, 1, 1, size);
        check_rows(e, 3, 2, size);   // preference pairs stay on one rank
    }
    // by hand: 8 rows (2 x 4) over 3 ranks: rows 0-1, 2-4, 5-7
    int r0, nr;
    ft_dist_rows(0, 4, 8, 1, 1, 3, &r0, &nr);
    assert_int_equal(r0, 2);
    assert_int_equal(nr, 2);
    ft_dist_rows(4, 4, 8, 1, 1, 3, &r0, &nr);
    assert_int_equal(r0, 0);
    assert_int_equal(nr, 1);
    ft_dist_rows(4, 4, 8, 1, 0, 3, &r0, &nr);
    assert_int_equal(nr, 0);
}

static void test_shards(void **st) {
    (void)st;
    size_t ns[] = {0, 5, 16, 100, 1000, 123457};
    for (size_t t = 0; t < sizeof ns / sizeof *ns; t++)
        for (int size = 1; size <= 5; size++) {
            size_t prev = 0;
            for (int r = 0; r < size; r++) {
                size_t lo, hi;
                ft_dist_shard(ns[t], r, size, &lo, &hi);
                assert_int_equal(lo, prev);           // contiguous from 0
                assert_true(hi >= lo && hi <= ns[t]);
                if (r + 1 < size) assert_int_equal(hi % 16, 0);
                prev = hi;
            }
            assert_int_equal(prev, ns[t]);            // up to n
        }
}

// The shard optimizers of 3 ranks together update as the full one (decay table with gaps).
static void test_zero_optim(void **st) {
    (void)st;
    enum { N = 200 };
    ft_adamw_cfg c = {0.9f, 0.999f, 1e-8f, 0.1f};
    ft_param_range ranges[] = {{0, 40, 1}, {40, 10, 0}, {60, 100, 1}, {160, 40, 0}};   // 50..59: not trained
    float p_full[N], g[N], p_sh[N];
    for (int i = 0; i < N; i++) {
        p_full[i] = p_sh[i] = 0.01f * (float)(i % 17) - 0.05f;
        g[i] = 0.003f * (float)((i * 7) % 11) - 0.015f;
    }
    ft_optim full;
    assert_int_equal(ft_optim_init(&full, ft_ops_cpu(), N, c), 0);
    assert_int_equal(ft_optim_set_ranges(&full, ranges, 4), 0);
    for (int s = 0; s < 3; s++) ft_optim_step(&full, p_full, g, 0.01f);
    for (int r = 0; r < 3; r++) {
        size_t lo, hi;
        ft_dist_shard(N, r, 3, &lo, &hi);
        ft_optim o;
        assert_int_equal(ft_optim_init(&o, ft_ops_cpu(), N, c), 0);
        assert_int_equal(ft_optim_set_ranges(&o, ranges, 4), 0);
        assert_int_equal(ft_dist_zero_optim(&o, lo, hi), 0);
        assert_int_equal(o.n, hi - lo);
        for (int s = 0; s < 3; s++) ft_optim_step(&o, p_sh + lo, g + lo, 0.01f);
        for (size_t i = 0; i < hi - lo; i++) {   // the moments are the full optimizer's
            assert_memory_equal(&o.m[i], &full.m[lo + i], sizeof(float));
            assert_memory_equal(&o.v[i], &full.v[lo + i], sizeof(float));
        }
        ft_optim_free(&o);
    }
    assert_memory_equal(p_sh, p_full, sizeof p_full);
    ft_optim_free(&full);
}

static void test_one_process(void **st) {
    (void)st;
    assert_int_equal(ft_dist_init(), 0);   // no launcher in the test's environment
    assert_int_equal(ft_dist_size(), 1);
    assert_int_equal(ft_dist_rank(), 0);
    float x[3] = {1, 2, 3};
    double y[2] = {4, 5};
    assert_int_equal(ft_dist_allreduce_f32(x, 3), 0);
    assert_int_equal(ft_dist_allreduce_f64(y, 2), 0);
    assert_int_equal(ft_dist_bcast(x, sizeof x, 0), 0);
    assert_true(x[0] == 1 && x[1] == 2 && x[2] == 3 && y[0] == 4 && y[1] == 5);
    assert_int_equal(ft_dist_same_u64(42), 1);
    ft_dist_finalize();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_partition),
        cmocka_unit_test(test_shards),
        cmocka_unit_test(test_zero_optim),
        cmocka_unit_test(test_one_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
