// test_filter.c — ft-filter building blocks: hash containers, MinHash/LSH drop probabilities
// against the banding formula, the seeded external shuffle, length statistics.
#include "testutil.h"
#include "core/err.h"
#include "data/filter.h"
#include "core/hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_hash_containers(void **st) {
    (void)st;
    ft_hset128 s = {0};
    uint64_t z[2] = {0, 0}, one[2] = {0, 1};
    assert_int_equal(ft_hset128_add(&s, z), 1);
    assert_int_equal(ft_hset128_add(&s, z), 0);
    // {0,0} is stored as {0,1}: documented aliasing, the only one
    assert_int_equal(ft_hset128_add(&s, one), 0);
    for (uint64_t i = 1; i <= 100000; i++) {
        uint64_t h[2] = {i * 0x9e3779b97f4a7c15ULL, i};
        assert_int_equal(ft_hset128_add(&s, h), 1);
    }
    for (uint64_t i = 1; i <= 100000; i += 7) {
        uint64_t h[2] = {i * 0x9e3779b97f4a7c15ULL, i};
        assert_int_equal(ft_hset128_add(&s, h), 0);
    }
    assert_int_equal(s.n, 100001);
    ft_hset128_free(&s);

    ft_hmap64 m = {0};
    for (uint32_t i = 0; i < 50000; i++) assert_int_equal(ft_hmap64_put(&m, (uint64_t)i << 20, i), 1);
    assert_int_equal(ft_hmap64_put(&m, 5ULL << 20, 99), 0);   // first value kept
    uint32_t v;
    assert_int_equal(ft_hmap64_get(&m, 5ULL << 20, &v), 1);
    assert_int_equal(v, 5);
    assert_int_equal(ft_hmap64_get(&m, 12345, &v), 0);
    ft_hmap64_free(&m);
}

static void test_hash_and_rng(void **st) {
    (void)st;
    // every length 0..64 of one buffer hashes differently, and differently under another seed
    uint8_t buf[64];
    for (int i = 0; i < 64; i++) buf[i] = (uint8_t)(i * 37);
    ft_hmap64 seen = {0};
    seen.set_only = 1;
    for (int n = 0; n <= 64; n++) {
        assert_int_equal(ft_hmap64_put(&seen, ft_hash64(buf, n, 1), 0), 1);
        assert_int_equal(ft_hmap64_put(&seen, ft_hash64(buf, n, 2), 0), 1);
    }
    ft_hmap64_free(&seen);
    // avalanche: flipping one input bit flips about half of the 128 output bits
    double flips = 0;
    int trials = 0;
    for (int bit = 0; bit < 8 * 24; bit++) {
        uint64_t a[2], b[2];
        uint8_t x[24] = {0};
        ft_hash128(x, sizeof x, 7, a);
        x[bit / 8] ^= (uint8_t)(1 << (bit % 8));
        ft_hash128(x, sizeof x, 7, b);
        flips += __builtin_popcountll(a[0] ^ b[0]) + __builtin_popcountll(a[1] ^ b[1]);
        trials++;
    }
    double mean = flips / trials;   // expected 64, sd of the mean ~ 5.66/sqrt(192) = 0.41
    assert_true(fabs(mean - 64) < 2.0);
    // ft_rng_below is uniform: chi-square over 10 cells, 100000 draws (df 9; p = 1e-4 at 33.7)
    ft_rng r;
    ft_rng_seed(&r, 42);
    long cnt[10] = {0};
    for (int i = 0; i < 100000; i++) cnt[ft_rng_below(&r, 10)]++;
    double chi = 0;
    for (int i = 0; i < 10; i++) chi += (cnt[i] - 10000.0) * (cnt[i] - 10000.0) / 10000.0;
    assert_true(chi < 33.7);
}

// Hand-checked banding: P(s) = 1 - (1 - s^r)^b.
static void test_lsh_formula(void **st) {
    (void)st;
    assert_true(fabs(ft_lsh_prob(0.5, 2, 2) - (1 - 0.75 * 0.75)) < 1e-12);   // 0.4375
    assert_true(fabs(ft_lsh_prob(1.0, 9, 13) - 1.0) < 1e-12);
    assert_true(fabs(ft_lsh_prob(0.0, 9, 13)) < 1e-12);
    int b, r;
    ft_lsh_params(0.8, 128, &b, &r);
    assert_true(b * r <= 128);
    // the optimum puts the steep part of the S-curve at the threshold
    assert_true(ft_lsh_prob(0.7, b, r) < 0.5);
    assert_true(ft_lsh_prob(0.9, b, r) > 0.9);
}

// Pairs of shingle sets with exact Jaccard s: MinHash agreement estimates s, and the share of
// pairs flagged as near duplicates matches P(s) within 4.5 binomial standard deviations.
static void test_near_dup_probability(void **st) {
    (void)st;
    ft_minhash m;
    assert_int_equal(ft_minhash_init(&m, 0.8, 128, 5, 1234), 0);
    const int U = 200, pairs = 1000;
    const double ss[] = {0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95};
    ft_rng r;
    ft_rng_seed(&r, 99);
    uint64_t A[200], B[200];
    uint32_t sa[128], sb[128];
    for (size_t k = 0; k < sizeof ss / sizeof *ss; k++) {
        int I = (int)lround(ss[k] * U);
        double s = (double)I / U;
        int own = (U - I) / 2;
        s = (double)I / (I + 2 * own);   // exact Jaccard of the sets built below
        long flagged = 0;
        double agree = 0;
        for (int p = 0; p < pairs; p++) {
            for (int i = 0; i < I; i++) A[i] = B[i] = ft_rng_next(&r);
            for (int i = 0; i < own; i++) {
                A[I + i] = ft_rng_next(&r);
                B[I + i] = ft_rng_next(&r);
            }
            ft_minhash_sign(&m, A, (size_t)(I + own), sa);
            ft_minhash_sign(&m, B, (size_t)(I + own), sb);
            for (int i = 0; i < 128; i++) agree += sa[i] == sb[i];
            assert_int_equal(ft_minhash_seen_sig(&m, sa), 0);   // unrelated to everything before
            int d = ft_minhash_seen_sig(&m, sb);
            assert_true(d >= 0);
            flagged += d;
        }
        double est = agree / (128.0 * pairs);
        double sd_est = sqrt(s * (1 - s) / (128.0 * pairs));
        double P = ft_lsh_prob(s, m.bands, m.rows), sd = sqrt(pairs * P * (1 - P));
        printf("# s=%.3f  minhash estimate %.4f  flagged %ld/%d  P(s)=%.4f (b=%d r=%d)\n", s, est, flagged, pairs, P, m.bands, m.rows);
        assert_true(fabs(est - s) <= 4.5 * sd_est + 1e-9);
        assert_true(fabs(flagged - pairs * P) <= 4.5 * sd + 1.0);
    }
    ft_minhash_free(&m);
}

static int collect(void *ctx, const uint8_t *blob, uint32_t len) {
    uint32_t **p = ctx;
    assert_int_equal(len, 4);
    memcpy(*p, blob, 4);
    (*p)++;
    return 0;
}

static void run_shuffle(uint64_t seed, size_t mem, uint32_t n, uint32_t *out) {
    ft_shuffle *s = ft_shuffle_new(seed, mem, NULL);
    assert_non_null(s);
    for (uint32_t i = 0; i < n; i++) assert_int_equal(ft_shuffle_add(s, &i, 4), 0);
    uint32_t *p = out;
    assert_int_equal(ft_shuffle_finish(s, collect, &p), 0);
    assert_int_equal(p - out, n);
    if (mem < 1024 * 1024) assert_true(ft_shuffle_spilled(s));
    ft_shuffle_free(s);
}

static void test_shuffle(void **st) {
    (void)st;
    enum { N = 200000 };
    uint32_t *a = malloc(N * 4), *b = malloc(N * 4), *c = malloc(N * 4);
    run_shuffle(7, 1 << 30, N, a);
    run_shuffle(7, 100000, N, b);   // spills to temporary files many times
    run_shuffle(8, 1 << 30, N, c);
    assert_memory_equal(a, b, N * 4);   // same seed, same order, whatever the memory budget
    assert_true(memcmp(a, c, N * 4) != 0);
    // a permutation of 0..N-1
    uint8_t *seen = calloc(N, 1);
    long fixed = 0;
    for (uint32_t i = 0; i < N; i++) {
        assert_true(a[i] < N);
        assert_false(seen[a[i]]);
        seen[a[i]] = 1;
        fixed += a[i] == i;
    }
    assert_true(fixed < 10);   // a uniform permutation has 1 fixed point on average
    free(seen);
    // uniform over the 6 orders of 3 records: chi-square over 6000 seeds (df 5; p = 1e-4 at 25.7)
    long cnt[6] = {0};
    for (uint64_t seed = 0; seed < 6000; seed++) {
        uint32_t o[3];
        run_shuffle(seed, 1 << 30, 3, o);
        int code = (int)(o[0] * 2 + (o[1] > o[2]));   // first element and the order of the rest
        cnt[code]++;
    }
    double chi = 0;
    for (int i = 0; i < 6; i++) chi += (cnt[i] - 1000.0) * (cnt[i] - 1000.0) / 1000.0;
    assert_true(chi < 25.7);
    free(a); free(b); free(c);
}

static void test_stats_percentiles(void **st) {
    (void)st;
    ft_fstats s = {0};
    for (uint32_t i = 100; i >= 1; i--) {   // lengths 1..100, in reverse
        assert_int_equal(ft_fstats_add_len(&s, i), 0);
        s.out++;
    }
    json_t *j = ft_fstats_json(&s);
    json_t *l = json_object_get(j, "length");
    // nearest rank on 1..100: the p-th percentile is p itself
    assert_int_equal(json_integer_value(json_object_get(l, "min")), 1);
    assert_int_equal(json_integer_value(json_object_get(l, "p5")), 5);
    assert_int_equal(json_integer_value(json_object_get(l, "p50")), 50);
    assert_int_equal(json_integer_value(json_object_get(l, "p95")), 95);
    assert_int_equal(json_integer_value(json_object_get(l, "max")), 100);
    assert_true(fabs(json_real_value(json_object_get(l, "mean")) - 50.5) < 1e-9);
    // bins [1,2) [2,4) [4,8) ... [64,128): 1,2,4,8,16,32,37
    json_t *h = json_object_get(j, "histogram");
    assert_int_equal(json_array_size(h), 7);
    long want[] = {1, 2, 4, 8, 16, 32, 37};
    for (int i = 0; i < 7; i++) assert_int_equal(json_integer_value(json_object_get(json_array_get(h, i), "count")), want[i]);
    json_decref(j);
    ft_fstats_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_containers),
        cmocka_unit_test(test_hash_and_rng),
        cmocka_unit_test(test_lsh_formula),
        cmocka_unit_test(test_near_dup_probability),
        cmocka_unit_test(test_shuffle),
        cmocka_unit_test(test_stats_percentiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
