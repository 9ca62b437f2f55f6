// test_filter_ops.c — ft-filter's record operations on hand-built data: decontamination
// (planted overlaps found, near misses and cross-field n-grams not), Gopher quality measures
// (values computed by hand), and the pipeline's length/truncation/dedup counts on FTOK.
#include "testutil.h"
#include "core/err.h"
#include "data/filter.h"
#include "format/ftok.h"
#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *words(const char *prefix, int from, int to) {   // "prefixFROM ... prefixTO"
    static char buf[8][1024];
    static int k;
    char *b = buf[k++ & 7];
    b[0] = 0;
    for (int i = from; i <= to; i++) sprintf(b + strlen(b), "%s%s%d", i > from ? " " : "", prefix, i);
    return b;
}

static void test_decon_jsonl(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *ev = tu_path(d, "eval.jsonl"), *tr = tu_path(d, "train.jsonl"), *out = tu_path(d, "out.jsonl");
    FILE *f = fopen(ev, "w");
    fprintf(f, "{\"question\":\"%s\",\"answer\":\"%s\"}\n", words("q", 1, 20), words("a", 1, 10));
    fprintf(f, "{\"prompt\":[\"%s\"]}\n", words("p", 1, 15));
    fprintf(f, "{\"text\":\"a b c\"}\n");
    fclose(f);
    f = fopen(tr, "w");
    fprintf(f, "{\"text\":\"x y %s z\"}\n", words("q", 5, 17));             // 13 words of item 1: dropped
    fprintf(f, "{\"text\":\"x y %s z\"}\n", words("q", 5, 16));             // 12 words: kept
    fprintf(f, "{\"text\":\"P1, p2. P3 p4 p5 p6! p7 p8 p9 p10 p11 p12 (p13)\"}\n");   // normalised: item 2
    fprintf(f, "{\"text\":\"%s and %s\"}\n", words("q", 1, 13), words("p", 3, 15));   // items 1 and 2
    fprintf(f, "{\"text\":\"nothing to see here at all\"}\n");
    fprintf(f, "{\"text\":\"%s %s\"}\n", words("q", 15, 20), words("a", 1, 7));   // spans two fields: kept
    fclose(f);
    ft_filter_opts o;
    ft_filter_defaults(&o);
    const char *in[] = {tr}, *dc[] = {ev};
    o.inputs = in;
    o.n_inputs = 1;
    o.decon = dc;
    o.n_decon = 1;
    o.out = out;
    json_t *stats = NULL;
    assert_int_equal(ft_filter_run(&o, &stats), 0);
    json_t *r = json_object_get(stats, "decontamination");
    assert_int_equal(json_integer_value(json_object_get(r, "dropped")), 3);
    assert_int_equal(json_integer_value(json_object_get(r, "eval_items")), 3);
    assert_int_equal(json_integer_value(json_object_get(r, "eval_items_too_short")), 1);
    assert_int_equal(json_integer_value(json_object_get(r, "eval_items_touched")), 2);
    // eval n-grams: 8 (q) + 3 (p) + 0 (answer: 10 words) + 0 = 11
    assert_int_equal(json_integer_value(json_object_get(r, "eval_ngrams")), 11);
    json_t *t = json_object_get(r, "touched");
    assert_int_equal(json_array_size(t), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0), "item")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0), "records")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 1), "item")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 1), "records")), 2);
    assert_int_equal(json_integer_value(json_object_get(stats, "records_out")), 3);
    json_decref(stats);
    // the kept records are exactly lines 2, 5 and 6
    char *data;
    size_t len;
    assert_int_equal(ft_read_all(out, &data, &len), 0);
    assert_non_null(strstr(data, words("q", 5, 16)));
    assert_non_null(strstr(data, "nothing to see"));
    assert_non_null(strstr(data, words("a", 1, 7)));
    free(data);
    free(ev); free(tr); free(out);
    tu_rmdir(d); free(d);
}

static void write_ftok(const char *path, uint32_t vocab, uint64_t tokid, int mask, int nrec, const uint32_t **recs,
                       const uint32_t *lens, const uint8_t **masks) {
    ftok_header h = {FTOK_VERSION, mask ? FTOK_FLAG_MASK : 0, vocab, tokid};
    ftok_writer *w = ftok_writer_open(path, &h);
    assert_non_null(w);
    for (int i = 0; i < nrec; i++) assert_int_equal(ftok_write(w, recs[i], masks ? masks[i] : NULL, lens[i]), 0);
    assert_int_equal(ftok_writer_commit(w), 0);
}

static void test_ftok_pipeline(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *ev = tu_path(d, "eval.tok"), *tr = tu_path(d, "train.tok"), *out = tu_path(d, "out.tok");
    uint32_t e1[20];
    for (int i = 0; i < 20; i++) e1[i] = 100 + i;
    const uint32_t *erec[] = {e1};
    uint32_t elen[] = {20};
    write_ftok(ev, 1000, 77, 0, 1, erec, elen, NULL);
    // train: r0 = 4 eval tokens (ngram 4: contaminated), r1 = 3 eval tokens (clean),
    // r2 = r3 (exact dup), r4 long (truncated to 6: targets only after 6 -> dropped),
    // r5 short (min-len 2 drops it), r6 long with targets early (truncated, kept)
    uint32_t r0[] = {1, 105, 106, 107, 108, 2}, r1[] = {1, 105, 106, 107, 2, 3}, r2[] = {5, 6, 7}, r4[] = {1, 2, 3, 4, 5, 6, 7, 8},
             r5[] = {9}, r6[] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    uint8_t m0[] = {1, 1, 1, 1, 1, 1}, m1[] = {0, 0, 0, 0, 1, 1}, m2[] = {0, 1, 1}, m4[] = {0, 0, 0, 0, 0, 0, 1, 1}, m5[] = {1},
            m6[] = {0, 1, 1, 0, 0, 0, 0, 0, 1};
    const uint32_t *recs[] = {r0, r1, r2, r2, r4, r5, r6};
    const uint8_t *masks[] = {m0, m1, m2, m2, m4, m5, m6};
    uint32_t lens[] = {6, 6, 3, 3, 8, 1, 9};
    write_ftok(tr, 1000, 77, 1, 7, recs, lens, masks);
    ft_filter_opts o;
    ft_filter_defaults(&o);
    const char *in[] = {tr}, *dc[] = {ev};
    o.inputs = in;
    o.n_inputs = 1;
    o.decon = dc;
    o.n_decon = 1;
    o.ngram = 4;
    o.out = out;
    o.min_len = 2;
    o.truncate = 6;
    o.dedup = 1;
    json_t *stats = NULL;
    assert_int_equal(ft_filter_run(&o, &stats), 0);
    json_t *dr = json_object_get(stats, "dropped");
    assert_int_equal(json_integer_value(json_object_get(dr, "min_len")), 1);
    assert_int_equal(json_integer_value(json_object_get(dr, "truncated_no_target")), 1);
    assert_int_equal(json_integer_value(json_object_get(dr, "contaminated")), 1);
    assert_int_equal(json_integer_value(json_object_get(dr, "duplicate_exact")), 1);
    assert_int_equal(json_integer_value(json_object_get(stats, "truncated")), 2);
    assert_int_equal(json_integer_value(json_object_get(stats, "records_out")), 3);
    // kept: r1 (6 tokens, 2 trained), r2 (3, 2), r6 cut to 6 (2 trained)
    assert_int_equal(json_integer_value(json_object_get(stats, "tokens_out")), 15);
    assert_int_equal(json_integer_value(json_object_get(stats, "trained_tokens_out")), 6);
    json_decref(stats);
    ftok_reader *r = ftok_open(out);
    assert_non_null(r);
    assert_int_equal(ftok_reader_header(r)->tokenizer_id, 77);
    ftok_record rec = {0};
    assert_int_equal(ftok_next(r, &rec), 1);
    assert_memory_equal(rec.tokens, r1, sizeof r1);
    assert_int_equal(ftok_next(r, &rec), 1);
    assert_memory_equal(rec.tokens, r2, sizeof r2);
    assert_int_equal(ftok_next(r, &rec), 1);
    assert_int_equal(rec.n, 6);
    assert_memory_equal(rec.tokens, r6, 6 * 4);
    assert_memory_equal(rec.mask, m6, 6);
    assert_int_equal(ftok_next(r, &rec), 0);
    ftok_record_free(&rec);
    ftok_close(r);
    // a truncated input fails and leaves no output file
    char *bad = tu_path(d, "bad.tok"), *out2 = tu_path(d, "out2.tok");
    char *data;
    size_t len;
    assert_int_equal(ft_read_all(tr, &data, &len), 0);
    tu_write_file(bad, data, len - 3);
    free(data);
    in[0] = bad;
    o.out = out2;
    assert_int_equal(ft_filter_run(&o, NULL), -1);
    assert_non_null(strstr(ft_errmsg(), "bad.tok"));
    FILE *f = fopen(out2, "rb");
    assert_null(f);
    free(bad); free(out2);
    free(ev); free(tr); free(out);
    tu_rmdir(d); free(d);
}

static void check_measure(const char *text, int rule, double want) {
    double v[FT_Q_N];
    ft_quality_measure(text, strlen(text), v);
    if (fabs(v[rule] - want) > 1e-12) fail_msg("%s on %s: got %.6f, want %.6f", ft_quality_rules[rule].name, text, v[rule], want);
}

static void test_quality_measures(void **st) {
    (void)st;
    const char *t = "aa bb\naa bb\ncc dd...";   // 20 characters, 6 words, 3 lines
    check_measure(t, FT_Q_WORDS_MIN, 6);
    check_measure(t, FT_Q_MEAN_WORD_MIN, 15.0 / 6);
    check_measure(t, FT_Q_DUP_LINES, 1.0 / 3);
    check_measure(t, FT_Q_DUP_LINE_CHARS, 5.0 / 20);
    check_measure(t, FT_Q_ELLIPSIS_LINES, 1.0 / 3);
    check_measure(t, FT_Q_SYMBOL_RATIO, 1.0 / 6);
    check_measure(t, FT_Q_ALPHA_WORDS, 1.0);
    check_measure(t, FT_Q_STOPWORDS, 0);
    check_measure(t, FT_Q_DUP_PARAS, 0);
    check_measure(t, FT_Q_TOP2, 10.0 / 20);   // "aa bb" twice
    check_measure(t, FT_Q_TOP3, 8.0 / 20);    // every 3-gram once: the first, "aa bb aa"
    check_measure(t, FT_Q_TOP4, 11.0 / 20);   // "aa bb aa bb"
    check_measure(t, FT_Q_DUP5, 0);
    const char *p = "p one\n\np one\n\np two";   // 19 characters, 3 paragraphs
    check_measure(p, FT_Q_DUP_PARAS, 1.0 / 3);
    check_measure(p, FT_Q_DUP_PARA_CHARS, 5.0 / 19);
    check_measure("- a\n* b\nc", FT_Q_BULLET_LINES, 2.0 / 3);
    check_measure("\xE2\x80\xA2 a\nb", FT_Q_BULLET_LINES, 0.5);
    check_measure("The cat and the dog, with", FT_Q_STOPWORDS, 4);
    check_measure("abc 123 !! x1", FT_Q_ALPHA_WORDS, 0.5);
    check_measure("h\xC3\xA9llo w\xC3\xB6rld", FT_Q_MEAN_WORD_MIN, 5);   // characters, not bytes
    check_measure("# a # b", FT_Q_SYMBOL_RATIO, 0.5);
    check_measure("a b\xE2\x80\xA6", FT_Q_ELLIPSIS_LINES, 1);
    check_measure("a b c d e a b c d e x", FT_Q_DUP5, 5.0 / 21);
    check_measure("a b c d e f a b c d e f", FT_Q_DUP6, 6.0 / 23);
    check_measure("a b c d e f a b c d e f", FT_Q_DUP5, 5.0 / 23);   // a-e repeats at 6; the walk then jumps past it
    // the rules: defaults drop this short text for its word count first
    ft_quality q;
    ft_quality_defaults(&q);
    assert_int_equal(ft_quality_check(&q, t, strlen(t)), FT_Q_WORDS_MIN);
    q.thr[FT_Q_WORDS_MIN] = NAN;
    assert_int_equal(ft_quality_check(&q, t, strlen(t)), FT_Q_MEAN_WORD_MIN);
    assert_int_equal(ft_quality_find("max-dup-10gram"), FT_Q_DUP10);
    assert_int_equal(ft_quality_find("nope"), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decon_jsonl),
        cmocka_unit_test(test_ftok_pipeline),
        cmocka_unit_test(test_quality_measures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
