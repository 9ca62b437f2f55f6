// test_batch.c — FTOK into training rows: HF label shifting, packing with doc ids and
// per-record positions, padding, skipped/truncated counts, seeded shuffle, exact resume;
// preference pairs: each side its own record (truncated on its own), both sides of a pair in
// one micro-batch (packed into one row when they fit), the sequence map, the micro-batch
// count of an epoch, and the refusal of pair streams by SFT and plain streams by pairs.
#include "testutil.h"
#include "data/batch.h"
#include "core/err.h"
#include "format/ftok.h"

#include <stdlib.h>
#include <string.h>

static char *write_data(const char *dir) {
    char *p = tu_path(dir, "d.tok");
    ftok_header h = {FTOK_VERSION, FTOK_FLAG_MASK, 100, 0};
    ftok_writer *w = ftok_writer_open(p, &h);
    assert_non_null(w);
    uint32_t r0[] = {1, 2, 3, 4};  uint8_t m0[] = {0, 0, 1, 1};   // 2 shifted targets
    uint32_t r1[] = {5, 6};        uint8_t m1[] = {1, 0};         // none: skipped
    uint32_t r2[] = {7, 8, 9};                                    // mask NULL: all -> 2
    uint32_t r3[10];                                              // 10 > 8: truncated -> 7
    for (int i = 0; i < 10; i++) r3[i] = 20 + i;
    assert_int_equal(ftok_write(w, r0, m0, 4), 0);
    assert_int_equal(ftok_write(w, r1, m1, 2), 0);
    assert_int_equal(ftok_write(w, r2, NULL, 3), 0);
    assert_int_equal(ftok_write(w, r3, NULL, 10), 0);
    assert_int_equal(ftok_writer_commit(w), 0);
    return p;
}

static void test_pack_and_shift(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *p = write_data(d);
    ft_dataset ds;
    assert_int_equal(ft_dataset_load(&ds, p, 8), 0);
    assert_int_equal(ds.n_read, 4);
    assert_int_equal(ds.n_rec, 3);
    assert_int_equal(ds.n_no_target, 1);
    assert_int_equal(ds.n_truncated, 1);
    assert_int_equal(ds.n_targets, 11);
    ft_loader l;
    assert_int_equal(ft_loader_init(&l, &ds, 8, 1, 0, 1), 0);
    assert_int_equal(ft_loader_epoch_rows(&l, 0), 2);
    ft_batch b;
    assert_int_equal(ft_batch_alloc(&b, 4, 8), 0);
    assert_int_equal(ft_loader_fill(&l, &b), 2);
    int32_t ids[8] = {1, 2, 3, 4, 7, 8, 9, 0}, doc[8] = {0, 0, 0, 0, 1, 1, 1, -1};
    int32_t pos[8] = {0, 1, 2, 3, 0, 1, 2, 0}, tgt[8] = {0, 3, 4, 0, 8, 9, 0, 0};
    uint8_t mask[8] = {0, 1, 1, 0, 1, 1, 0, 0};
    assert_memory_equal(b.ids, ids, sizeof ids);
    assert_memory_equal(b.doc, doc, sizeof doc);
    assert_memory_equal(b.pos, pos, sizeof pos);
    assert_memory_equal(b.targets, tgt, sizeof tgt);
    assert_memory_equal(b.mask, mask, sizeof mask);
    // row 1: the truncated record, targets 21..27 at positions 0..6
    for (int i = 0; i < 8; i++) {
        assert_int_equal(b.ids[8 + i], 20 + i);
        assert_int_equal(b.mask[8 + i], i < 7);
        if (i < 7) assert_int_equal(b.targets[8 + i], 21 + i);
    }
    assert_int_equal(b.n_targets, 11);
    assert_int_equal(b.n_tokens, 15);
    assert_int_equal(b.doc[16], -1);   // row 2 is padding
    assert_int_equal(ft_loader_fill(&l, &b), 0);
    ft_loader_next_epoch(&l);
    assert_int_equal(l.pos.epoch, 1);
    // no packing: one record per row
    ft_loader_free(&l);
    assert_int_equal(ft_loader_init(&l, &ds, 8, 0, 0, 1), 0);
    assert_int_equal(ft_loader_epoch_rows(&l, 0), 3);
    assert_int_equal(ft_loader_fill(&l, &b), 3);
    assert_int_equal(b.ids[4], 0);
    assert_int_equal(b.doc[4], -1);
    assert_int_equal(b.ids[8], 7);
    ft_loader_free(&l);
    ft_batch_free(&b);
    ft_dataset_free(&ds);
    free(p);
    tu_rmdir(d); free(d);
}

static void test_errors(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *p = tu_path(d, "none.tok");
    ftok_header h = {FTOK_VERSION, FTOK_FLAG_MASK, 100, 0};
    ftok_writer *w = ftok_writer_open(p, &h);
    uint32_t r[] = {1, 2}; uint8_t m[] = {1, 0};
    ftok_write(w, r, m, 2);
    assert_int_equal(ftok_writer_commit(w), 0);
    ft_dataset ds;
    assert_int_equal(ft_dataset_load(&ds, p, 8), -1);
    assert_non_null(strstr(ft_errmsg(), "none.tok"));
    assert_non_null(strstr(ft_errmsg(), "no record with a training target"));
    tu_write_file(p, "FTOK", 4);
    assert_int_equal(ft_dataset_load(&ds, p, 8), -1);
    assert_non_null(strstr(ft_errmsg(), "none.tok"));
    free(p);
    tu_rmdir(d); free(d);
}

static void test_shuffle_resume(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *p = tu_path(d, "many.tok");
    ftok_header h = {FTOK_VERSION, 0, 1000, 0};
    ftok_writer *w = ftok_writer_open(p, &h);
    for (uint32_t i = 0; i < 50; i++) {
        uint32_t r[5] = {i, i + 1, i + 2, i + 3, i + 4};
        ftok_write(w, r, NULL, 2 + i % 4);
    }
    assert_int_equal(ftok_writer_commit(w), 0);
    ft_dataset ds;
    assert_int_equal(ft_dataset_load(&ds, p, 12), 0);
    ft_loader a, b2;
    assert_int_equal(ft_loader_init(&a, &ds, 12, 1, 1, 7), 0);
    // the order is a permutation, not the identity, and changes between epochs
    int seen[50] = {0}, ident = 1;
    for (int i = 0; i < 50; i++) { seen[a.order[i]]++; ident &= a.order[i] == (uint32_t)i; }
    for (int i = 0; i < 50; i++) assert_int_equal(seen[i], 1);
    assert_false(ident);
    uint32_t first[50];
    memcpy(first, a.order, sizeof first);
    ft_loader_next_epoch(&a);
    assert_memory_not_equal(first, a.order, sizeof first);
    // resume: rows after a saved position equal those of an uninterrupted loader
    ft_loader_free(&a);
    assert_int_equal(ft_loader_init(&a, &ds, 12, 1, 1, 7), 0);
    assert_int_equal(ft_loader_init(&b2, &ds, 12, 1, 1, 7), 0);
    ft_batch x, y;
    ft_batch_alloc(&x, 3, 12);
    ft_batch_alloc(&y, 3, 12);
    while (ft_loader_fill(&a, &x) == 3) {}
    ft_loader_next_epoch(&a);
    ft_loader_fill(&a, &x);
    ft_data_pos saved = a.pos;
    ft_loader_fill(&a, &x);
    assert_int_equal(ft_loader_seek(&b2, saved), 0);
    ft_loader_fill(&b2, &y);
    assert_memory_equal(x.ids, y.ids, 36 * sizeof(int32_t));
    assert_memory_equal(x.mask, y.mask, 36);
    ft_data_pos bad = {0, 51};
    assert_int_equal(ft_loader_seek(&b2, bad), -1);
    ft_batch_free(&x); ft_batch_free(&y);
    ft_loader_free(&a); ft_loader_free(&b2);
    ft_dataset_free(&ds);
    free(p);
    tu_rmdir(d); free(d);
}

// Pairs of (prompt + chosen, prompt + rejected): pair i has sides of len[i][0], len[i][1]
// tokens, the first 2 of each side the prompt (no target). Tokens: 100 * pair + 10 * side + pos.
static char *write_pairs(const char *dir, const int (*len)[2], int n) {
    char *p = tu_path(dir, "p.tok");
    ftok_header h = {FTOK_VERSION, FTOK_FLAG_MASK | FTOK_FLAG_PAIRS, 1000, 0};
    ftok_writer *w = ftok_writer_open(p, &h);
    assert_non_null(w);
    for (int i = 0; i < n; i++) {
        uint32_t t[64];
        uint8_t m[64];
        int k = 0;
        for (int s = 0; s < 2; s++)
            for (int j = 0; j < len[i][s]; j++, k++) {
                t[k] = (uint32_t)(100 * i + 10 * s + j);
                m[k] = j >= 2;
            }
        assert_int_equal(ftok_write(w, t, m, (uint32_t)k), -1);   // a pair stream takes pairs only
        assert_int_equal(ftok_write_pair(w, t, m, (uint32_t)k, (uint32_t)len[i][0]), 0);
    }
    assert_int_equal(ftok_writer_commit(w), 0);
    return p;
}

static void test_pairs(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    static const int len[][2] = {{4, 5}, {3, 2}, {12, 4}, {5, 5}, {6, 7}};   // pair 1: rejected has no target
    char *p = write_pairs(d, len, 5);
    ft_dataset ds;
    assert_int_equal(ft_dataset_load(&ds, p, 8), -1);   // SFT refuses a pair stream
    assert_non_null(strstr(ft_errmsg(), "a preference-pair stream"));
    assert_int_equal(ft_dataset_open(&ds, p, 8, 1), 0);
    assert_int_equal(ds.n_read, 5);
    assert_int_equal(ds.n_no_target, 1);
    assert_int_equal(ds.n_truncated, 1);   // pair 2's chosen side: 12 -> 8
    assert_int_equal(ds.n_units, 4);
    assert_int_equal(ds.n_rec, 8);
    assert_int_equal(ds.off[3] - ds.off[2], 8);   // pair 2 (unit 1): chosen cut to 8, rejected 4
    assert_int_equal(ds.off[4] - ds.off[3], 4);
    assert_int_equal(ds.tokens[ds.off[3]], 210);  // the rejected side starts with its own tokens
    // packed rows of 10: unit 0 (4 + 5) in row 0; unit 1 (8 + 4) in rows 1 and 2; unit 2 (5 + 5)
    // after it in row 2 and in row 3; unit 3 (6 + 7) needs two more rows: the first micro-batch
    // of 4 rows ends before it
    ft_loader l;
    ft_batch b;
    assert_int_equal(ft_batch_alloc(&b, 4, 10), 0);
    assert_int_equal(ft_loader_init(&l, &ds, 10, 1, 0, 0), 0);
    assert_int_equal(ft_loader_epoch_batches(&l, 0, 4), 2);
    assert_int_equal(ft_loader_fill(&l, &b), 4);
    assert_int_equal(b.n_seq, 6);
    assert_int_equal(l.pos.cursor, 3);
    assert_false(ft_loader_epoch_over(&l));
    static const uint32_t rec[] = {0, 1, 2, 3, 4, 5};
    assert_memory_equal(b.seq_rec, rec, sizeof rec);
    // row 0: pair 0's sides as documents 0 and 1; the sequence map follows the documents
    assert_int_equal(b.doc[3], 0);
    assert_int_equal(b.doc[4], 1);
    assert_int_equal(b.seq[3], 0);
    assert_int_equal(b.seq[4], 1);
    assert_int_equal(b.pos[4], 0);
    assert_int_equal(b.seq[9], -1);   // padding
    assert_int_equal(b.seq[10], 2);   // row 1: pair 2's chosen side alone, row 2 its rejected side
    assert_int_equal(b.seq[20], 3);
    assert_int_equal(b.seq_targets[0], 2);
    assert_int_equal(b.seq_targets[2], 6);
    assert_int_equal(b.seq[24], 4);
    assert_int_equal(b.doc[24], 1);
    assert_int_equal(b.seq[30], 5);
    assert_int_equal(ft_loader_fill(&l, &b), 2);   // the last pair: two rows
    assert_int_equal(b.n_seq, 2);
    assert_int_equal(b.seq_rec[0], 6);
    assert_true(ft_loader_epoch_over(&l));
    // --no-pack: a row per side, so 2 pairs per micro-batch of 4 rows
    ft_loader_free(&l);
    assert_int_equal(ft_loader_init(&l, &ds, 10, 0, 0, 0), 0);
    assert_int_equal(ft_loader_epoch_batches(&l, 0, 4), 2);
    assert_int_equal(ft_loader_fill(&l, &b), 4);
    assert_int_equal(b.n_seq, 4);
    ft_loader_free(&l);
    ft_batch_free(&b);
    ft_dataset_free(&ds);
    // a plain stream is refused where pairs are expected
    char *q = write_data(d);
    assert_int_equal(ft_dataset_open(&ds, q, 8, 1), -1);
    assert_non_null(strstr(ft_errmsg(), "not a preference-pair stream"));
    free(p); free(q);
    tu_rmdir(d); free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_and_shift),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_shuffle_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
