// test_rows.c — the row packer (lib/data/rows.h) against hand-computed rows: documents packed one
// after another (positions restart, document index per row, shifted targets that never cross
// a document), the mask of the target token deciding the loss, padding, and the windows of a
// record longer than the row (overlapping by one token: every target predicted exactly once).
#include "testutil.h"
#include "data/rows.h"

#include <string.h>

static void test_pack_documents(void **st) {
    (void)st;
    int32_t ids[8], tgt[8], pos[8], doc[8];
    uint8_t msk[8];
    ft_row r = ft_row_view(ids, tgt, msk, pos, doc, 8);
    ft_row_clear(&r);
    uint32_t a[] = {10, 11, 12};     uint8_t ma[] = {1, 0, 1};   // target 12 only (11 is masked)
    uint32_t b[] = {20, 21, 22, 23};                             // mask NULL: 21, 22, 23
    assert_int_equal(ft_row_add(&r, a, ma, 0, 3), 1);
    assert_int_equal(ft_row_room(&r), 5);
    assert_int_equal(ft_row_add(&r, b, NULL, 0, 4), 3);
    int32_t want_ids[8] = {10, 11, 12, 20, 21, 22, 23, 0};
    int32_t want_tgt[8] = {0, 12, 0, 21, 22, 23, 0, 0};          // 12 -> 20 crosses documents: none
    uint8_t want_msk[8] = {0, 1, 0, 1, 1, 1, 0, 0};
    int32_t want_pos[8] = {0, 1, 2, 0, 1, 2, 3, 0};
    int32_t want_doc[8] = {0, 0, 0, 1, 1, 1, 1, -1};
    assert_memory_equal(ids, want_ids, sizeof ids);
    assert_memory_equal(tgt, want_tgt, sizeof tgt);
    assert_memory_equal(msk, want_msk, sizeof msk);
    assert_memory_equal(pos, want_pos, sizeof pos);
    assert_memory_equal(doc, want_doc, sizeof doc);
    assert_int_equal(r.n, 7);
    assert_int_equal(r.n_docs, 2);
    assert_int_equal(r.n_targets, 4);
    // a window in the middle of a record: positions and targets relative to the window
    ft_row_clear(&r);
    uint32_t c[] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(ft_row_add(&r, c, NULL, 2, 5), 2);
    int32_t wi[3] = {3, 4, 5}, wt[3] = {4, 5, 0}, wp[3] = {0, 1, 2};
    assert_memory_equal(ids, wi, sizeof wi);
    assert_memory_equal(tgt, wt, sizeof wt);
    assert_memory_equal(pos, wp, sizeof wp);
    assert_int_equal(doc[0], 0);
    assert_int_equal(doc[3], -1);
    // reset keeps the arrays, starts the document count again
    ft_row_reset(&r);
    assert_int_equal(ft_row_add(&r, b, NULL, 0, 1), 0);   // one token: nothing to predict
    assert_int_equal(r.n_docs, 1);
    assert_int_equal(msk[0], 0);
}

static void test_record_targets(void **st) {
    (void)st;
    uint8_t m[] = {1, 0, 1, 1, 0};
    assert_int_equal(ft_record_targets(m, 5), 2);       // the first token is never a target
    assert_int_equal(ft_record_targets(NULL, 5), 4);
    assert_int_equal(ft_record_targets(NULL, 1), 0);
    assert_int_equal(ft_record_targets(NULL, 0), 0);
}

static void test_windows(void **st) {
    (void)st;
    // n = 10, cap = 4: [0,4) [3,7) [6,10): targets 1-3, 4-6, 7-9, each once
    assert_int_equal(ft_record_windows(10, 4), 3);
    size_t s, e, want[3][2] = {{0, 4}, {3, 7}, {6, 10}};
    for (size_t k = 0; k < 3; k++) {
        ft_record_window(10, 4, k, &s, &e);
        assert_int_equal(s, want[k][0]);
        assert_int_equal(e, want[k][1]);
    }
    // n = 11: a fourth, short window [9, 11)
    assert_int_equal(ft_record_windows(11, 4), 4);
    ft_record_window(11, 4, 3, &s, &e);
    assert_int_equal(s, 9);
    assert_int_equal(e, 11);
    assert_int_equal(ft_record_windows(4, 4), 1);
    assert_int_equal(ft_record_windows(1, 4), 1);
    assert_int_equal(ft_record_windows(0, 4), 0);
    assert_int_equal(ft_record_windows(5, 2), 4);   // [0,2) [1,3) [2,4) [3,5)
    // every target of a long record is scored once over its windows
    for (size_t n = 2; n < 40; n++)
        for (int cap = 2; cap < 9; cap++) {
            int hits[40] = {0};
            size_t nw = ft_record_windows(n, cap);
            for (size_t k = 0; k < nw; k++) {
                ft_record_window(n, cap, k, &s, &e);
                assert_true(e - s <= (size_t)cap && e > s);
                for (size_t t = s + 1; t < e; t++) hits[t]++;
                if (k + 1 == nw) assert_int_equal(e, n);
            }
            for (size_t t = 1; t < n; t++) assert_int_equal(hits[t], 1);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_documents),
        cmocka_unit_test(test_record_targets),
        cmocka_unit_test(test_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
