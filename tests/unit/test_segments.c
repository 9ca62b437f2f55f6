// test_segments.c — segment records into (text, token mask): concatenation, the train flag of
// the byte a token starts at (a boundary inside a token, empty segments, past the end), the
// prompt before the first train segment, and the errors on malformed segments.
#include "testutil.h"
#include "core/err.h"
#include "format/segments.h"

#include <string.h>

static json_t *js(const char *s) {
    json_error_t e;
    json_t *v = json_loads(s, JSON_ALLOW_NUL, &e);
    assert_non_null(v);
    return v;
}

static void test_concat_and_mask(void **st) {
    (void)st;
    // "User: hi\n" (9 bytes, prompt) + "" (empty, train) + "Bot: yo" (7 bytes, train) + "</s>" (4, not)
    json_t *v = js("[{\"text\":\"User: hi\\n\",\"train\":false},{\"text\":\"\",\"train\":true},"
                   "{\"text\":\"Bot: yo\",\"train\":true},{\"text\":\"</s>\"}]");
    ft_segments s;
    assert_int_equal(ft_segments_parse(v, &s), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.len, 20);
    assert_string_equal(s.text, "User: hi\nBot: yo</s>");
    size_t ends[4] = {9, 9, 16, 20};
    uint8_t tr[4] = {0, 1, 1, 0};
    assert_memory_equal(s.end, ends, sizeof ends);
    assert_memory_equal(s.train, tr, sizeof tr);
    // tokens starting at: 0 "User", 4 ":", 6 "hi", 8 "\nB" (starts in the prompt, ends in the
    // answer: not a target), 10 "ot", 12 ":", 14 "yo" (ends exactly at the boundary), 16 "</s>",
    // and an offset past the text (an appended EOS gets offset len)
    uint32_t offs[9] = {0, 4, 6, 8, 10, 12, 14, 16, 20};
    uint8_t mask[9], want[9] = {0, 0, 0, 0, 1, 1, 1, 0, 0};
    ft_segments_mask(&s, offs, 9, mask);
    assert_memory_equal(mask, want, sizeof want);
    // byte 9 is the first byte of "Bot: yo": the empty segment before it holds no byte
    assert_int_equal(ft_segments_train_at(&s, 8), 0);
    assert_int_equal(ft_segments_train_at(&s, 9), 1);
    assert_int_equal(ft_segments_train_at(&s, 15), 1);
    assert_int_equal(ft_segments_train_at(&s, 16), 0);
    assert_int_equal(ft_segments_prompt_len(&s), 9);
    ft_segments_free(&s);
    json_decref(v);
}

static void test_edges(void **st) {
    (void)st;
    ft_segments s;
    // no segment at all: empty text, nothing trains, every byte past the end
    json_t *v = js("[]");
    assert_int_equal(ft_segments_parse(v, &s), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(s.len, 0);
    assert_string_equal(s.text, "");
    assert_int_equal(ft_segments_train_at(&s, 0), 0);
    assert_int_equal(ft_segments_prompt_len(&s), 0);
    ft_segments_free(&s);
    json_decref(v);
    // the first segment trains: empty prompt; none trains: the prompt is everything
    v = js("[{\"text\":\"ab\",\"train\":true},{\"text\":\"cd\"}]");
    assert_int_equal(ft_segments_parse(v, &s), 0);
    assert_int_equal(ft_segments_prompt_len(&s), 0);
    uint32_t offs[4] = {0, 1, 2, 3};
    uint8_t mask[4], want[4] = {1, 1, 0, 0};
    ft_segments_mask(&s, offs, 4, mask);
    assert_memory_equal(mask, want, sizeof want);
    ft_segments_free(&s);
    json_decref(v);
    v = js("[{\"text\":\"ab\"},{\"text\":\"c\\u0000d\",\"train\":false}]");
    assert_int_equal(ft_segments_parse(v, &s), 0);
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.text, "abc\0d", 6);
    assert_int_equal(ft_segments_prompt_len(&s), 5);
    ft_segments_free(&s);
    json_decref(v);
}

static void test_errors(void **st) {
    (void)st;
    const struct { const char *json, *msg; } cases[] = {
        {"{\"text\":\"a\"}", "\"segments\" must be an array"},
        {"[{\"text\":\"a\"},{\"train\":true}]", "segments[1]: \"text\" must be a string"},
        {"[{\"text\":1}]", "segments[0]: \"text\" must be a string"},
        {"[\"a\"]", "segments[0]: \"text\" must be a string"},
        {"[{\"text\":\"a\",\"train\":\"yes\"}]", "segments[0]: \"train\" must be true or false"},
        {"[{\"text\":\"a\",\"train\":1}]", "segments[0]: \"train\" must be true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *v = js(cases[i].json);
        ft_segments s;
        assert_int_equal(ft_segments_parse(v, &s), -2);
        assert_string_equal(ft_errmsg(), cases[i].msg);
        assert_null(s.text);
        ft_segments_free(&s);
        json_decref(v);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concat_and_mask),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
