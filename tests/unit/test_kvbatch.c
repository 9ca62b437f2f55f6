// test_kvbatch.c — batched decoding (model.h ft_kvbatch, ft_model_decode_batch) on a tiny random
// model with compact weights: sequences prefilled into slots, then decoded as the rows of shared
// steps, one of them finishing and its slot refilled by a new sequence (continuous batching).
// Every row's logits against the training forward over the whole sequence (1e-4, as the KV-cache
// test in test_model.c: f32 sums in another order), and bit for bit against the same sequence
// decoded alone (the property ft-eval generate --batch relies on for identical outputs).
#include "testutil.h"
#include "core/err.h"
#include "format/gguf.h"
#include "model/qweight.h"

#include <stdlib.h>
#include <string.h>

enum { NSEQ = 4, MAXT = 12 };
static const int32_t SEQ[NSEQ][MAXT] = {{3, 9, 41 % 23, 0, 7, 7, 22, 19, 1, 3, 12, 5},
                                         {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
                                         {22, 21, 20, 0, 0, 5, 13, 17, 2, 4, 6, 8},
                                         {5, 5, 5, 14, 15, 16, 9, 9, 1, 0, 22, 3}};
static const int PLEN[NSEQ] = {5, 1, 7, 3};   // prompt lengths; then decoded one by one to MAXT

static void full_logits(ft_model *m, const int32_t *tok, int T, float *out) {
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, 1, T, 1), 0);
    assert_int_equal(ft_model_forward(m, &a, tok, NULL, NULL, 1, T), 0);
    ft_model_logits(m, &a, NULL, T, out);
    ft_acts_free(&a);
}

// Logits of positions PLEN-1 .. MAXT-2 of sequence q decoded alone (slot 0 of a 1-slot cache).
static void alone(ft_model *m, int q, float *out) {
    ft_kvbatch kb;
    int V = m->cfg.vocab_size;
    assert_int_equal(ft_kvbatch_init(&kb, m, 1, MAXT, 4), 0);
    int32_t slots[MAXT] = {0};
    int last = PLEN[q] - 1;
    assert_int_equal(ft_model_decode_batch(m, &kb, SEQ[q], slots, PLEN[q], out, &last, 1), 0);
    for (int t = PLEN[q]; t < MAXT - 1; t++) {
        int r = 0;
        assert_int_equal(ft_model_decode_batch(m, &kb, &SEQ[q][t], slots, 1, out + (size_t)(t - PLEN[q] + 1) * V, &r, 1), 0);
    }
    ft_kvbatch_free(&kb);
}

static void run(uint32_t type) {
    tu_model_spec sp = {0};
    ft_model *m = tu_tiny_model(&sp, 5);
    int V = m->cfg.vocab_size;
    float *full = malloc(sizeof(float) * NSEQ * MAXT * V);
    if (type != GGML_F32) assert_int_equal(ft_model_compact(m, type), 0);
    else assert_int_equal(ft_model_compact(m, GGML_F32), 0);
    for (int q = 0; q < NSEQ; q++) full_logits(m, SEQ[q], MAXT, full + (size_t)q * MAXT * V);
    float *solo = malloc(sizeof(float) * NSEQ * MAXT * V);
    for (int q = 0; q < NSEQ; q++) alone(m, q, solo + (size_t)q * MAXT * V);
    // 3 slots: sequences 0, 1, 2 start; when one ends its slot takes sequence 3
    ft_kvbatch kb;
    assert_int_equal(ft_kvbatch_init(&kb, m, 3, MAXT, 4), 0);   // prompts of 7 go in chunks of 4
    int seq_of[3] = {0, 1, 2}, t_of[3], started = 3;
    float lg[3 * 64];
    for (int s = 0; s < 3; s++) {
        int q = seq_of[s], last = PLEN[q] - 1;
        int32_t sl[MAXT];
        for (int i = 0; i < PLEN[q]; i++) sl[i] = s;
        ft_kvbatch_reset(&kb, s);
        assert_int_equal(ft_model_decode_batch(m, &kb, SEQ[q], sl, PLEN[q], lg, &last, 1), 0);
        assert_memory_equal(lg, solo + (size_t)q * MAXT * V, sizeof(float) * V);
        t_of[s] = PLEN[q];
    }
    int checked = 0;
    for (int step = 0; step < 40; step++) {
        int32_t tok[3], sl[3];
        int rows[3], who[3], n = 0;
        for (int s = 0; s < 3; s++)
            if (seq_of[s] >= 0) { tok[n] = SEQ[seq_of[s]][t_of[s]]; sl[n] = s; rows[n] = n; who[n++] = s; }
        if (!n) break;
        assert_int_equal(ft_model_decode_batch(m, &kb, tok, sl, n, lg, rows, n), 0);
        for (int r = 0; r < n; r++) {
            int s = who[r], q = seq_of[s], t = t_of[s];
            const float *ref = full + ((size_t)q * MAXT + t) * V;
            for (int v = 0; v < V; v++) assert_float_equal(lg[r * V + v], ref[v], 1e-4);
            if (type != GGML_F32)   // compact rows: the same bits as alone
                assert_memory_equal(lg + r * V, solo + ((size_t)q * MAXT + t - PLEN[q] + 1) * V, sizeof(float) * V);
            checked++;
            if (++t_of[s] == MAXT - 1) {   // finished: refill with the next sequence
                seq_of[s] = -1;
                if (started < NSEQ) {
                    int nq = started++, last = PLEN[nq] - 1;
                    int32_t ps[MAXT];
                    for (int i = 0; i < PLEN[nq]; i++) ps[i] = s;
                    ft_kvbatch_reset(&kb, s);
                    assert_int_equal(ft_model_decode_batch(m, &kb, SEQ[nq], ps, PLEN[nq], lg + r * V, &last, 1), 0);
                    seq_of[s] = nq;
                    t_of[s] = PLEN[nq];
                }
            }
        }
    }
    assert_int_equal(checked, (MAXT - 1 - 5) + (MAXT - 1 - 1) + (MAXT - 1 - 7) + (MAXT - 1 - 3));
    // errors: a slot out of range, a full slot
    int32_t t0 = 1, bad = 3, s0 = 0;
    assert_int_equal(ft_model_decode_batch(m, &kb, &t0, &bad, 1, NULL, NULL, 0), -1);
    kb.len[0] = MAXT;
    assert_int_equal(ft_model_decode_batch(m, &kb, &t0, &s0, 1, NULL, NULL, 0), -1);
    assert_non_null(strstr(ft_errmsg(), "context full"));
    ft_kvbatch_free(&kb);
    free(full);
    free(solo);
    ft_model_free(m);
}

static void test_batch_f32(void **st) { (void)st; run(GGML_F32); }
static void test_batch_bf16(void **st) { (void)st; run(GGML_BF16); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_f32),
        cmocka_unit_test(test_batch_bf16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
