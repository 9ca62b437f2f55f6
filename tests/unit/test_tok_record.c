// test_tok_record.c — records into ids + target mask (lib/tokenize/tok_record.h) with the GPT-2 vocab
// of llama.cpp's test data: a segment boundary inside a token ("hel" | "lo world": the token
// "hello" starts in the prompt, so only " world" is a target), segment ids equal to encoding
// the concatenated text without BOS/EOS, plain text records all targets, and bad records.
#include "testutil.h"
#include "core/err.h"
#include "tokenize/tok_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *js(const char *s) {
    json_t *v = json_loads(s, 0, NULL);
    assert_non_null(v);
    return v;
}

static void test_records(void **st) {
    (void)st;
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-gpt-2.gguf", tu_testdata());
    ft_tokenizer *tok = ft_tokenizer_load(path);
    assert_non_null(tok);
    ft_tok_ws *ws = ft_tok_ws_new();
    ft_tok_ids ids = {0};
    uint8_t *mask = NULL;
    size_t cap = 0;
    // reference ids of the whole text
    uint32_t *want;
    size_t nw;
    assert_int_equal(ft_tokenizer_encode(tok, "hello world", 11, 0, &want, &nw), 0);
    assert_int_equal(nw, 2);   // "hello", " world"
    json_t *r = js("{\"segments\":[{\"text\":\"hel\",\"train\":false},{\"text\":\"\",\"train\":true},"
                   "{\"text\":\"lo world\",\"train\":true}]}");
    assert_int_equal(ft_tok_record(tok, ws, r, "text", FT_TOK_BOS | FT_TOK_EOS, &ids, &mask, &cap), 0);
    assert_int_equal(ids.n, 2);   // no BOS/EOS for segments whatever the flags
    assert_memory_equal(ids.ids, want, 2 * sizeof *want);
    assert_int_equal(mask[0], 0);
    assert_int_equal(mask[1], 1);
    json_decref(r);
    // the boundary at a token start: "hello" trains, " world" does not
    r = js("{\"segments\":[{\"text\":\"hello\",\"train\":true},{\"text\":\" world\"}]}");
    assert_int_equal(ft_tok_record(tok, ws, r, "text", 0, &ids, &mask, &cap), 0);
    assert_int_equal(ids.n, 2);
    assert_int_equal(mask[0], 1);
    assert_int_equal(mask[1], 0);
    json_decref(r);
    // a plain record: the field's text, every token a target
    r = js("{\"body\":\"hello world\"}");
    assert_int_equal(ft_tok_record(tok, ws, r, "body", 0, &ids, &mask, &cap), 0);
    assert_int_equal(ids.n, 2);
    assert_memory_equal(ids.ids, want, 2 * sizeof *want);
    assert_int_equal(mask[0] & mask[1], 1);
    assert_int_equal(ft_tok_record(tok, ws, r, "text", 0, &ids, &mask, &cap), -2);
    assert_string_equal(ft_errmsg(), "no string \"text\" field (and no \"segments\")");
    json_decref(r);
    r = js("{\"segments\":[{\"text\":\"a\",\"train\":\"no\"}],\"text\":\"b\"}");   // segments win
    assert_int_equal(ft_tok_record(tok, ws, r, "text", 0, &ids, &mask, &cap), -2);
    assert_string_equal(ft_errmsg(), "segments[0]: \"train\" must be true or false");
    json_decref(r);
    free(want);
    free(mask);
    ft_tok_ids_free(&ids);
    ft_tok_ws_free(ws);
    ft_tokenizer_free(tok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
