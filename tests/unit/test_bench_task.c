// test_bench_task.c — the lm-eval task definitions of lib/eval/bench_task.c and the scoring paths
// of lib/eval/eval_bench.c: Python's strip/capitalize and HellaSwag's clean-up against values
// Python gives (worked out by hand in the comments); WinoGrande's partial scoring requests;
// acc_norm dividing by characters where acc_bytes divides by bytes (hand-picked
// log-likelihoods where the two disagree); bad records; and the packed and shared-context
// paths giving the numbers of the whole-sequence path (ft_choice_loglik, test_eval_choice.c),
// a context longer than the model's cut on the left on every path.
#include "testutil.h"
#include "core/err.h"
#include "eval/bench_task.h"
#include "eval/eval_bench.h"
#include "eval/eval_choice.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void strip_eq(const char *s, int l, int r, const char *want) {
    size_t b, e;
    ft_py_strip(s, strlen(s), l, r, &b, &e);
    assert_int_equal(e - b, strlen(want));
    assert_memory_equal(s + b, want, strlen(want));
}

static void test_python_strings(void **st) {
    (void)st;
    // ' \xa0abc d\u3000 '.strip() == 'abc d'; .lstrip() == 'abc d\u3000 '; .rstrip() == ' \xa0abc d'
    const char *s = " \xc2\xa0" "abc d\xe3\x80\x80 ";
    strip_eq(s, 1, 1, "abc d");
    strip_eq(s, 1, 0, "abc d\xe3\x80\x80 ");
    strip_eq(s, 0, 1, " \xc2\xa0" "abc d");
    strip_eq(" \t\n", 1, 1, "");
    strip_eq(" \t\n", 1, 0, "");
    strip_eq(" \t\n", 0, 1, "");
    // 'hELLo wORLD'.capitalize() == 'Hello world'; 'ǆemal ÉCOLE'.capitalize() == 'ǅemal école'
    char *c = ft_py_capitalize("hELLo wORLD", 11);
    assert_string_equal(c, "Hello world");
    free(c);
    c = ft_py_capitalize("\xc7\x86" "emal \xc3\x89" "COLE", 13);
    assert_string_equal(c, "\xc7\x85" "emal \xc3\xa9" "cole");
    free(c);
    // strip; " [title]" -> ". "; "[header]" and "[step]" dropped, "[ open\n] b]" kept (no ']' before the
    // newline); "  " -> " " once, so three spaces become two
    const char *h = "  [header] How to x [title] Do y. [step] Z   z. [ open\n] b]\xe3\x80\x80";
    c = ft_hellaswag_preprocess(h, strlen(h));
    assert_string_equal(c, " How to x. Do y. Z  z. [ open\n] b]");
    free(c);
    assert_int_equal(ft_utf8_len("caf\xc3\xa9 \xf0\x9f\x98\x80", 10), 6);
}

static json_t *js(const char *s) {
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    assert_non_null(j);
    return j;
}

static void test_winogrande(void **st) {
    (void)st;
    const ft_bench_task *t;
    const char *subj;
    assert_non_null(t = ft_bench_task_find("winogrande", &subj));
    assert_null(subj);
    json_t *d = js("{\"sentence\": \"Zo\\u00eb lent Jos\\u00e9 her bike since _ had none. \", \"option1\": \"Zo\\u00eb\","
                   " \"option2\": \"Jos\\u00e9\", \"answer\": \"2\"}");
    ft_bench_item it;
    assert_int_equal(ft_bench_item_build(t, d, NULL, 0, &it), 0);
    assert_int_equal(it.n, 2);
    assert_int_equal(it.gold, 1);
    // contexts: sentence[:idx] + option; continuation " " + sentence[idx+1:].strip(), shared
    assert_string_equal(it.ctx[0], "Zo\xc3\xab lent Jos\xc3\xa9 her bike since Zo\xc3\xab");
    assert_string_equal(it.ctx[1], "Zo\xc3\xab lent Jos\xc3\xa9 her bike since Jos\xc3\xa9");
    assert_string_equal(it.cont[0], " had none.");
    assert_string_equal(it.cont[1], " had none.");
    // len(choice) of the multiple-input choices, the contexts: 32 code points, 35 bytes
    assert_int_equal(it.chars[0], 32);
    assert_int_equal(it.bytes[0], 35);
    ft_bench_item_free(&it);
    json_decref(d);
    d = js("{\"sentence\": \"no blank\", \"option1\": \"a\", \"option2\": \"b\", \"answer\": \"1\"}");
    assert_int_equal(ft_bench_item_build(t, d, NULL, 0, &it), -2);
    assert_non_null(strstr(ft_errmsg(), "no '_' blank"));
    json_decref(d);
}

static void test_norms(void **st) {
    (void)st;
    const char *subj;
    const ft_bench_task *t = ft_bench_task_find("piqa", &subj);
    // choice 0 "abcde" (5 chars, 5 bytes) ll -10: -2 per char, -2 per byte;
    // choice 1 "\xc3\xa9\xc3\xa9" (2 chars, 4 bytes) ll -7: -3.5 per char, -1.75 per byte
    json_t *d = js("{\"goal\": \"g\", \"sol1\": \"abcde\", \"sol2\": \"\\u00e9\\u00e9\", \"label\": 0}");
    ft_bench_item it;
    assert_int_equal(ft_bench_item_build(t, d, NULL, 0, &it), 0);
    assert_string_equal(it.ctx[0], "Question: g\nAnswer:");
    assert_string_equal(it.cont[1], " \xc3\xa9\xc3\xa9");
    double ll[2] = {-10, -7};
    size_t p[3];
    ft_bench_preds(&it, ll, p);
    assert_int_equal(p[0], 1);   // acc: -7 > -10
    assert_int_equal(p[1], 0);   // acc_norm: -2 > -3.5
    assert_int_equal(p[2], 1);   // acc_bytes: -1.75 > -2
    ll[1] = -10;                 // a tie goes to the first, as numpy's argmax
    ft_bench_preds(&it, ll, p);
    assert_int_equal(p[0], 0);
    ft_bench_item_free(&it);
    json_decref(d);
}

static void test_bad_records(void **st) {
    (void)st;
    const char *subj;
    ft_bench_item it;
    const ft_bench_task *arc = ft_bench_task_find("arc_easy", &subj);
    json_t *d = js("{\"question\": \"q\", \"choices\": {\"text\": [\"a\", \"b\"], \"label\": [\"A\", \"B\"]}, \"answerKey\": \"C\"}");
    assert_int_equal(ft_bench_item_build(arc, d, NULL, 0, &it), -2);
    assert_non_null(strstr(ft_errmsg(), "answerKey 'C' is not one of choices.label"));
    assert_int_equal(ft_bench_item_build(arc, d, NULL, 1, &it), -2);
    assert_non_null(strstr(ft_errmsg(), "train split"));
    json_decref(d);
    const ft_bench_task *mmlu = ft_bench_task_find("mmlu_anatomy", &subj);
    assert_string_equal(subj, "anatomy");
    d = js("{\"question\": \"q\", \"subject\": \"anatomy\", \"choices\": [\"a\", \"b\", \"c\", \"d\"], \"answer\": 1}");
    json_t *shots = js("[{\"question\": \"s\", \"subject\": \"anatomy\", \"choices\": [\"w\", \"x\", \"y\", \"z\"], \"answer\": 3}]");
    assert_int_equal(ft_bench_item_build(mmlu, d, shots, 1, &it), 0);
    assert_string_equal(it.ctx[0], "The following are multiple choice questions (with answers) about anatomy.\n\n"
                                   "s\nA. w\nB. x\nC. y\nD. z\nAnswer: D\n\nq\nA. a\nB. b\nC. c\nD. d\nAnswer:");
    assert_string_equal(it.cont[3], " D");
    ft_bench_item_free(&it);
    assert_int_equal(ft_bench_item_build(mmlu, d, shots, 2, &it), -2);
    assert_non_null(strstr(ft_errmsg(), "only 1 examples of subject 'anatomy'"));
    json_decref(d);
    json_decref(shots);
    assert_null(ft_bench_task_find("arc", &subj));
    assert_non_null(strstr(ft_errmsg(), "unknown task 'arc'"));
}

// Items with a shared context, two contexts (WinoGrande-like), and a context longer than the
// model's 64 positions: every path gives the whole-sequence numbers.
static void test_paths(void **st) {
    (void)st;
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-gpt-2.gguf", tu_testdata());
    ft_tokenizer *tok = ft_tokenizer_load(path);
    assert_non_null(tok);
    tu_model_spec sp = {.vocab = 50257, .max_pos = 64};
    ft_model *m = tu_tiny_model(&sp, 11);
    assert_non_null(m);
    char longctx[1024] = "";
    for (int i = 0; i < 40; i++) strcat(longctx, "word and ");
    char *c1[3] = {"Question: what is it?\nAnswer:", NULL, NULL}, *k1[3] = {" a cat", " the dog barks", " x"};
    c1[1] = c1[2] = c1[0];
    char *c2[2] = {"The cup fell because the cup", "The cup fell because the table"}, *k2[2] = {" was wet.", " was wet."};
    char *c3[2] = {longctx, longctx}, *k3[2] = {" end", " stop here"};
    size_t z[3] = {1, 1, 1};
    ft_bench_item items[3] = {{3, c1, k1, z, z, 0}, {2, c2, k2, z, z, 0}, {2, c3, k3, z, z, 0}};
    double want[7], got[7];
    // the whole path by hand: ft_bench_encode's ids through ft_choice_loglik
    ft_choice_scorer *cs = ft_choice_scorer_new(m, tok);
    int w = 0;
    for (int i = 0; i < 3; i++)
        for (size_t k = 0; k < items[i].n; k++) {
            uint32_t *a, *b;
            size_t na, nb;
            assert_int_equal(ft_bench_encode(tok, items[i].ctx[k], items[i].cont[k], &a, &na, &b, &nb), 0);
            if (i == 2) assert_true(na + nb > 64);
            assert_int_equal(ft_choice_loglik(cs, a, na, b, nb, &want[w++]), 0);
            free(a);
            free(b);
        }
    ft_choice_scorer_free(cs);
    for (int p = 0; p < 3; p++) {
        ft_bench_scorer *s = ft_bench_scorer_new(m, tok, p);
        assert_non_null(s);
        assert_int_equal(ft_bench_scorer_path(s), p);
        double *ll[3] = {got, got + 3, got + 5};
        ft_bench_counts cnt = {0};
        assert_int_equal(ft_bench_score(s, items, 3, ll, &cnt), 0);
        for (int i = 0; i < 7; i++) assert_true(fabs(got[i] - want[i]) < 1e-4 * (1 + fabs(want[i])));
        assert_int_equal(ft_bench_scorer_path(s), p);   // the KV cache was had: no fallback
        if (p == FT_BENCH_SHARED) assert_true(cnt.forwarded < cnt.ctx_tokens * 2 + cnt.cont_tokens);
        ft_bench_scorer_free(s);
    }
    // a continuation that adds no token: -2, the item and the choice named
    char *k4[1] = {""}, *c4[1] = {"Question:"};
    ft_bench_item bad = {1, c4, k4, z, z, 0};
    ft_bench_scorer *s = ft_bench_scorer_new(m, tok, FT_BENCH_PACKED);
    double *ll[2] = {got, got + 3};
    ft_bench_item two[2] = {items[0], bad};
    assert_int_equal(ft_bench_score(s, two, 2, ll, NULL), -2);
    assert_non_null(strstr(ft_errmsg(), "item 1: choice 0: the continuation adds no tokens"));
    ft_bench_scorer_free(s);
    ft_model_free(m);
    ft_tokenizer_free(tok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_strings), cmocka_unit_test(test_winogrande), cmocka_unit_test(test_norms),
        cmocka_unit_test(test_bad_records),   cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
