// test_metrics.c — hand-computed checks of the metrics (SQuAD EM/F1, BLEU arithmetic and
// 13a tokenization, ROUGE, Porter steps, bootstrap). The parity tests compare against the
// Python references on a large corpus; `test_metrics --porter` stems stdin words for them.
#include "testutil.h"
#include "eval/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ft_str S(const char *s) { return (ft_str){s, strlen(s)}; }

static void squad(const char *pred, const char *ref, double want_em, double want_f1) {
    ft_str r = S(ref);
    double em, f1;
    assert_int_equal(ft_squad_scores(S(pred), &r, 1, &em, &f1), 0);
    if (fabs(em - want_em) > 1e-9 || fabs(f1 - want_f1) > 1e-9) {
        fprintf(stderr, "pred '%s' ref '%s': em %g f1 %g, want %g %g\n", pred, ref, em, f1, want_em, want_f1);
        fail();
    }
}

static void test_squad_normalize(void **st) {
    (void)st;
    size_t n;
    char *s = ft_squad_normalize("  The  Cat's   \"mat\", an apple!\tA  ", strlen("  The  Cat's   \"mat\", an apple!\tA  "), &n);
    assert_string_equal(s, "cats mat apple");
    free(s);
    s = ft_squad_normalize("théa the_end", strlen("théa the_end"), &n);   // é is a word char: no article boundary; '_' is punctuation
    assert_string_equal(s, "théa theend");
    free(s);
}

static void test_squad_em_f1(void **st) {
    (void)st;
    squad("The Cat sat.", "a cat sat", 100, 100);
    // pred tokens {cat, sat, on, mat}, gold {cat, sat}: p = 2/4, r = 1 -> F1 = 2/3
    squad("the cat sat on the mat", "the cat sat", 0, 100.0 * 2 * 0.5 / 1.5);
    // repeated tokens: pred {a1 x x}, gold {x y}: common 1 -> p 1/3, r 1/2 -> F1 0.4
    squad("a1 x x", "x y", 0, 40);
    squad("", "", 100, 100);
    squad("", "something", 0, 0);
    squad("the", "", 100, 100);   // only an article: normalizes to empty
    squad("Paris", "London", 0, 0);
    // multiple references: the max of each
    ft_str refs[3] = {S("New York City"), S("NYC"), S("new york")};
    double em, f1;
    assert_int_equal(ft_squad_scores(S("New York"), refs, 3, &em, &f1), 0);
    assert_float_equal(em, 100, 1e-12);
    assert_float_equal(f1, 100, 1e-12);
    assert_int_equal(ft_squad_scores(S("york city hall"), refs, 2, &em, &f1), 0);
    assert_float_equal(em, 0, 1e-12);
    assert_float_equal(f1, 100.0 * 2 * (2.0 / 3) * (2.0 / 3) / (4.0 / 3), 1e-9);   // vs "new york city"
}

static void tok13a(const char *in, const char *want) {
    size_t n;
    char *t = ft_bleu_tokenize(FT_BLEU_TOK_13A, in, strlen(in), &n);
    assert_non_null(t);
    assert_string_equal(t, want);
    free(t);
}

static void test_bleu_tokenize(void **st) {
    (void)st;
    tok13a("Hello, world!", "Hello , world !");
    tok13a("It costs 1,000.50 dollars.", "It costs 1,000.50 dollars .");
    tok13a("pages 10-20 and e-mail", "pages 10 - 20 and e-mail");
    tok13a("a &amp; b &lt;c&gt; &quot;q&quot;", "a & b < c > \" q \"");
    tok13a("<skipped>word line-\nbreak\nnext  ", "word linebreak next");
    tok13a("(x)[y]{z}", "( x ) [ y ] { z }");
    size_t n;
    char *t = ft_bleu_tokenize(FT_BLEU_TOK_CHAR, "ab c\xc3\xa9", 6, &n);
    assert_string_equal(t, "a b c \xc3\xa9");
    free(t);
    t = ft_bleu_tokenize(FT_BLEU_TOK_INTL, "\xc2\xbfQu\xc3\xa9? 3.5 \xe2\x82\xac" "5", strlen("\xc2\xbfQu\xc3\xa9? 3.5 \xe2\x82\xac" "5"), &n);
    assert_string_equal(t, "\xc2\xbf Qu\xc3\xa9 ? 3.5 \xe2\x82\xac 5");   // ¿ ? split, 3.5 kept, € a symbol
    free(t);
}

static void test_bleu_arithmetic(void **st) {
    (void)st;
    ft_bleu *b = ft_bleu_new(FT_BLEU_TOK_13A);
    ft_str ref = S("a b c e");
    double s[FT_BLEU_NSTATS];
    assert_int_equal(ft_bleu_segment(b, S("a b c d"), &ref, 1, s), 0);
    double want_st[FT_BLEU_NSTATS] = {4, 4, 3, 2, 1, 0, 4, 3, 2, 1};
    for (int i = 0; i < FT_BLEU_NSTATS; i++) assert_float_equal(s[i], want_st[i], 0);
    // exp smoothing: the 4-gram precision 0/1 becomes 100 / (2 * 1)
    double want = exp((log(75.0) + log(200.0 / 3) + log(50.0) + log(50.0)) / 4);
    assert_float_equal(ft_bleu_from_stats(s, 0, NULL), want, 1e-9);
    // brevity penalty: hyp 2 tokens, closest ref length 4 (refs of 4 and 6 tokens)
    ft_str refs[2] = {S("x y z w"), S("x y q r s t")};
    assert_int_equal(ft_bleu_segment(b, S("x y"), refs, 2, s), 0);
    assert_float_equal(s[1], 4, 0);
    ft_bleu_result r;
    ft_bleu_from_stats(s, 0, &r);
    assert_float_equal(r.bp, exp(1 - 4.0 / 2), 1e-12);
    // two orders never observed (total 0): corpus BLEU floors their log; effective order skips them
    double sent = ft_bleu_from_stats(s, 1, NULL);
    assert_float_equal(sent, exp(1 - 2.0) * 100.0, 1e-9);   // p1 = 2/2, p2 = 1/1
    assert_true(ft_bleu_from_stats(s, 0, NULL) < 1e-100);
    // ties in closest length go to the shorter reference
    ft_str refs2[2] = {S("a b c d e f"), S("a b")};
    assert_int_equal(ft_bleu_segment(b, S("a b c d"), refs2, 2, s), 0);
    assert_float_equal(s[1], 2, 0);
    char sig[200];
    ft_bleu_signature(sig, sizeof sig, -1, FT_BLEU_TOK_INTL);
    assert_string_equal(sig, "nrefs:var|case:mixed|eff:no|tok:intl|smooth:exp|version:" FT_SACREBLEU_VERSION);
    ft_bleu_free(b);
}

static void test_rouge_hand(void **st) {
    (void)st;
    ft_rouge *r = ft_rouge_new(0);
    ft_str ref = S("The cat sat on the mat.");
    double f[FT_ROUGE_N];
    assert_int_equal(ft_rouge_score(r, S("the CAT, on the mat"), &ref, 1, f), 0);
    assert_float_equal(f[FT_ROUGE_1], 10.0 / 11, 1e-12);   // p 5/5, r 5/6
    assert_float_equal(f[FT_ROUGE_2], 2.0 / 3, 1e-12);     // 3 of 4 hyp bigrams, of 5 ref bigrams
    assert_float_equal(f[FT_ROUGE_L], 10.0 / 11, 1e-12);   // LCS 5
    assert_float_equal(f[FT_ROUGE_LSUM], 10.0 / 11, 1e-12);
    // no tokens at all
    assert_int_equal(ft_rouge_score(r, S("!!! ..."), &ref, 1, f), 0);
    for (int k = 0; k < FT_ROUGE_N; k++) assert_float_equal(f[k], 0, 0);
    ft_rouge_free(r);
    // stemming makes "running cats" match "run cat"
    r = ft_rouge_new(1);
    ref = S("run cat");
    assert_int_equal(ft_rouge_score(r, S("running cats"), &ref, 1, f), 0);
    assert_float_equal(f[FT_ROUGE_1], 1.0, 1e-12);
    ft_rouge_free(r);
}

static void stem_is(const char *w, const char *want) {
    char buf[64];
    size_t n = strlen(w);
    memcpy(buf, w, n);
    n = ft_porter_stem(buf, n);
    buf[n] = 0;
    if (strcmp(buf, want)) { fprintf(stderr, "stem(%s) = %s, want %s\n", w, buf, want); fail(); }
}

static void test_porter(void **st) {
    (void)st;
    // examples from Porter (1980), as NLTK's default mode stems them
    stem_is("caresses", "caress"); stem_is("ponies", "poni"); stem_is("cats", "cat"); stem_is("feed", "feed");
    stem_is("agreed", "agre"); stem_is("plastered", "plaster"); stem_is("bled", "bled"); stem_is("motoring", "motor");
    stem_is("sing", "sing"); stem_is("conflated", "conflat"); stem_is("troubled", "troubl"); stem_is("sized", "size");
    stem_is("hopping", "hop"); stem_is("falling", "fall"); stem_is("hissing", "hiss"); stem_is("filing", "file");
    stem_is("happy", "happi"); stem_is("relational", "relat"); stem_is("conditional", "condit");
    stem_is("generalization", "gener"); stem_is("controll", "control"); stem_is("roll", "roll");
    // NLTK extensions: irregular pool, "ies" of length 4, "ied"
    stem_is("dying", "die"); stem_is("skies", "sky"); stem_is("news", "news"); stem_is("ties", "tie");
    stem_is("cried", "cri"); stem_is("died", "die");
}

static void test_bootstrap(void **st) {
    (void)st;
    double x[200];
    for (int i = 0; i < 200; i++) x[i] = 3.5;
    double lo, hi;
    assert_int_equal(ft_bootstrap_ci(x, 200, 1, ft_stat_mean, NULL, 200, 7, &lo, &hi), 0);
    assert_float_equal(lo, 3.5, 1e-12);
    assert_float_equal(hi, 3.5, 1e-12);
    for (int i = 0; i < 200; i++) x[i] = i % 2;   // mean 0.5, sd 0.5: CI ~ 0.5 +- 1.96 * 0.5 / sqrt(200)
    assert_int_equal(ft_bootstrap_ci(x, 200, 1, ft_stat_mean, NULL, 2000, 7, &lo, &hi), 0);
    assert_true(lo < 0.5 && hi > 0.5);
    assert_float_equal(hi - lo, 2 * 1.96 * 0.5 / sqrt(200), 0.02);
    double lo2, hi2;   // same seed, same interval
    assert_int_equal(ft_bootstrap_ci(x, 200, 1, ft_stat_mean, NULL, 2000, 7, &lo2, &hi2), 0);
    assert_float_equal(lo, lo2, 0);
    assert_float_equal(hi, hi2, 0);
    // paired: B = A + 1 exactly, so every resampled difference is 1
    double y[200];
    for (int i = 0; i < 200; i++) y[i] = x[i] + 1;
    assert_int_equal(ft_bootstrap_paired(x, y, 200, 1, ft_stat_mean, NULL, 500, 9, &lo, &hi), 0);
    assert_float_equal(lo, 1, 1e-12);
    assert_float_equal(hi, 1, 1e-12);
    double p[5] = {5, 1, 4, 2, 3};
    assert_float_equal(ft_percentile(p, 5, 50), 3, 0);
    assert_float_equal(ft_percentile(p, 5, 25), 2, 0);
    assert_float_equal(ft_percentile(p, 5, 10), 1.4, 1e-12);   // numpy's linear interpolation
}

// --porter: one word per line on stdin -> its stem on stdout (for tests/parity/metrics-porter.sh)
static int porter_filter(void) {
    char line[4096];
    while (fgets(line, sizeof line - 2, stdin)) {
        size_t n = strcspn(line, "\r\n");
        n = ft_porter_stem(line, n);
        line[n] = 0;
        puts(line);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--porter")) return porter_filter();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_squad_normalize), cmocka_unit_test(test_squad_em_f1),
        cmocka_unit_test(test_bleu_tokenize),   cmocka_unit_test(test_bleu_arithmetic),
        cmocka_unit_test(test_rouge_hand),      cmocka_unit_test(test_porter),
        cmocka_unit_test(test_bootstrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
