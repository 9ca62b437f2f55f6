// test_tokenizer.c — the tokenizer on hand-made vocabularies whose ids are worked out by hand
// (byte-level BPE merge order, SentencePiece byte fallback and fuse_unk, added tokens, BOS/EOS
// templates, offsets, decode), the same vocabulary from tokenizer.json and from GGUF giving the
// same ids and tokenizer id, and malformed tokenizer files failing with a clear message.
#include "testutil.h"
#include "core/err.h"
#include "format/gguf.h"
#include "tokenize/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *dir;

static char *write_tmp(const char *name, const char *text) {
    char *p = tu_path(dir, name);
    tu_write_file(p, text, strlen(text));
    return p;
}

static void expect_ids(const ft_tokenizer *t, const char *text, int flags, const uint32_t *want, size_t n) {
    ft_tok_ids o = {0};
    if (ft_tokenizer_encode_ws(t, NULL, text, strlen(text), flags, &o)) fail_msg("encode: %s", ft_errmsg());
    if (o.n != n) fail_msg("\"%s\": %zu ids, expected %zu", text, o.n, n);
    for (size_t i = 0; i < n; i++)
        if (o.ids[i] != want[i]) fail_msg("\"%s\": id %zu is %u, expected %u", text, i, o.ids[i], want[i]);
    ft_tok_ids_free(&o);
}

// Byte-level vocabulary: a b c Ġ(space) ab abc Ġa bc, merges ranked a+b, ab+c, Ġ+a, b+c.
#define BL_VOCAB "\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"\\u0120\":3,\"ab\":4,\"abc\":5,\"\\u0120a\":6,\"bc\":7}"
#define BL_MERGES "\"merges\":[\"a b\",\"ab c\",\"\\u0120 a\",\"b c\"]"
static const char *BL_JSON =
    "{\"added_tokens\":[{\"id\":8,\"content\":\"<|x|>\",\"special\":true,\"lstrip\":false,\"rstrip\":false,"
    "\"single_word\":false,\"normalized\":false}],\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
    "\"post_processor\":null,\"decoder\":{\"type\":\"ByteLevel\"},"
    "\"model\":{\"type\":\"BPE\"," BL_VOCAB "," BL_MERGES "}}";

static void test_bytelevel_json(void **state) {
    (void)state;
    char *p = write_tmp("bl.json", BL_JSON);
    ft_tokenizer *t = ft_tokenizer_load(p);
    if (!t) fail_msg("%s", ft_errmsg());
    assert_int_equal(ft_tokenizer_vocab_size(t), 9);
    assert_string_equal(ft_tokenizer_kind(t), "bpe-bytelevel");
    // "abc" -> a b c -> ab c -> abc; " abc" -> Ġ a b c -> (a+b ranks first) Ġ ab c -> Ġ abc
    expect_ids(t, "abc abc", 0, (uint32_t[]){5, 3, 5}, 3);
    // " a" -> Ġ+a (rank 2) wins over nothing else; "bc" alone -> b+c
    expect_ids(t, " abc", 0, (uint32_t[]){3, 5}, 2);
    expect_ids(t, " a bc", 0, (uint32_t[]){6, 3, 7}, 3);
    // added token split out of the text, on both sides
    expect_ids(t, "ab<|x|>c", 0, (uint32_t[]){4, 8, 2}, 3);
    // offsets: start byte of each token in the input
    ft_tok_ids o = {0};
    assert_int_equal(ft_tokenizer_encode_ws(t, NULL, "abc abc", 7, 0, &o), 0);
    assert_int_equal(o.offs[0], 0); assert_int_equal(o.offs[1], 3); assert_int_equal(o.offs[2], 4);
    ft_tok_ids_free(&o);
    // a byte with no token and no unk: error, not a crash
    uint32_t *ids; size_t n;
    assert_int_equal(ft_tokenizer_encode(t, "abd", 3, 0, &ids, &n), -1);
    assert_non_null(strstr(ft_errmsg(), "cannot encode"));
    // invalid UTF-8 input is refused
    assert_int_equal(ft_tokenizer_encode(t, "a\xff", 2, 0, &ids, &n), -1);
    assert_non_null(strstr(ft_errmsg(), "invalid UTF-8"));
    // decode
    char *s; size_t sl;
    assert_int_equal(ft_tokenizer_decode(t, (uint32_t[]){5, 3, 5, 8}, 4, &s, &sl), 0);
    assert_string_equal(s, "abc abc<|x|>");
    free(s);
    assert_int_equal(ft_tokenizer_decode_ex(t, (uint32_t[]){5, 8, 3}, 3, 1, &s, &sl), 0);
    assert_string_equal(s, "abc ");
    free(s);
    assert_int_equal(ft_tokenizer_decode(t, (uint32_t[]){9}, 1, &s, &sl), -1);
    char b[8];
    assert_int_equal(ft_tokenizer_token_bytes(t, 3, b, sizeof b), 1);
    assert_int_equal(b[0], ' ');
    assert_int_equal(ft_tokenizer_lookup(t, "<|x|>", 5), 8);
    assert_true(ft_tokenizer_is_special(t, 8));
    ft_tokenizer_free(t);
    free(p);
}

// SentencePiece-style: Llama-2 normalizer, byte fallback for \n and é, unk for z (fused).
static const char *SPM_JSON =
    "{\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},{\"id\":1,\"content\":\"<s>\",\"special\":true},"
    "{\"id\":2,\"content\":\"</s>\",\"special\":true}],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\\u2581\"},"
    "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"}]},\"pre_tokenizer\":null,"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
    "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\\u2581\"},\"content\":\" \"},"
    "{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]},"
    "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":true,"
    "\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2,\"<0x0A>\":3,\"<0xC3>\":4,\"<0xA9>\":5,\"\\u2581\":6,\"h\":7,\"i\":8,"
    "\"\\u2581h\":9,\"\\u2581hi\":10},\"merges\":[\"\\u2581 h\",\"\\u2581h i\"]}}";

static void test_spm_json(void **state) {
    (void)state;
    char *p = write_tmp("spm.json", SPM_JSON);
    ft_tokenizer *t = ft_tokenizer_load(p);
    if (!t) fail_msg("%s", ft_errmsg());
    assert_string_equal(ft_tokenizer_kind(t), "bpe-spm");
    // "hi\né" -> "▁hi\né": ▁+h, ▁h+i; \n and é have no piece -> their bytes
    expect_ids(t, "hi\n\xC3\xA9", 0, (uint32_t[]){10, 3, 4, 5}, 4);
    // z has neither a piece nor a byte token: unk, and "zz" fuses into one unk
    expect_ids(t, "hizz", 0, (uint32_t[]){10, 0}, 2);
    // the template adds <s>; forcing EOS adds </s>
    expect_ids(t, "hi", FT_TOK_DEFAULT_SPECIAL, (uint32_t[]){1, 10}, 2);
    assert_int_equal(ft_tokenizer_bos(t), 1);
    assert_int_equal(ft_tokenizer_add_bos_default(t), 1);
    assert_int_equal(ft_tokenizer_add_eos_default(t), 0);
    // special token in the text; Prepend applies to the piece after it (HF legacy behaviour)
    expect_ids(t, "hi</s>hi", 0, (uint32_t[]){10, 2, 10}, 3);
    char *s; size_t sl;
    assert_int_equal(ft_tokenizer_decode(t, (uint32_t[]){10, 3, 4, 5}, 4, &s, &sl), 0);
    assert_string_equal(s, "hi\n\xC3\xA9");
    free(s);
    ft_tokenizer_free(t);
    free(p);
}

// ---- GGUF vocabularies written with the GGUF writer -------------------------------------------------
static char *write_gguf(const char *name, const char *model, const char *const *tok, uint64_t n, const int32_t *types,
                        const char *const *merges, uint64_t nm, const float *scores, const char *pre) {
    char *p = tu_path(dir, name);
    gguf_writer *w = gguf_writer_new();
    gguf_w_str(w, "general.architecture", "llama");
    if (model) gguf_w_str(w, "tokenizer.ggml.model", model);
    if (pre) gguf_w_str(w, "tokenizer.ggml.pre", pre);
    if (tok) gguf_w_arr_str(w, "tokenizer.ggml.tokens", tok, n);
    if (types) gguf_w_arr_i32(w, "tokenizer.ggml.token_type", types, n);
    if (merges) gguf_w_arr_str(w, "tokenizer.ggml.merges", merges, nm);
    if (scores) gguf_w_arr_f32(w, "tokenizer.ggml.scores", scores, n);
    if (model && !strcmp(model, "llama")) gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1);
    if (gguf_writer_write(w, p)) fail_msg("%s", ft_errmsg());
    gguf_writer_free(w);
    return p;
}

static const char *const BL_TOK[] = {"a", "b", "c", "\xC4\xA0", "ab", "abc", "\xC4\xA0" "a", "bc", "<|x|>"};
static const int32_t BL_TYPES[] = {1, 1, 1, 1, 1, 1, 1, 1, 3};
static const char *const BL_MRG[] = {"a b", "ab c", "\xC4\xA0 a", "b c"};

static void test_gguf_same_as_json(void **state) {
    (void)state;
    char *pj = write_tmp("bl2.json", BL_JSON);
    char *pg = write_gguf("bl.gguf", "gpt2", BL_TOK, 9, BL_TYPES, BL_MRG, 4, NULL, "gpt-2");
    ft_tokenizer *tj = ft_tokenizer_load(pj), *tg = ft_tokenizer_load(pg);
    if (!tj || !tg) fail_msg("%s", ft_errmsg());
    expect_ids(tg, "abc abc", 0, (uint32_t[]){5, 3, 5}, 3);
    expect_ids(tg, "ab<|x|>c", 0, (uint32_t[]){4, 8, 2}, 3);
    assert_true(ft_tokenizer_id(tj) == ft_tokenizer_id(tg));
    assert_true(ft_tokenizer_id(tj) != 0);
    ft_tokenizer_free(tj); ft_tokenizer_free(tg);
    free(pj); free(pg);
}

static void test_gguf_spm(void **state) {
    (void)state;
    // merges come from scores: "▁h" (score -1) before "▁hi" (score -2); "hi" (-3) never beats ▁h
    const char *tok[] = {"<unk>", "<s>", "</s>", "<0x0A>", "\xE2\x96\x81", "h", "i", "\xE2\x96\x81h", "\xE2\x96\x81hi", "hi"};
    const int32_t ty[] = {2, 3, 3, 6, 1, 1, 1, 1, 1, 1};
    const float sc[] = {0, 0, 0, 0, -10, -20, -20, -1, -2, -3};
    char *p = write_gguf("spm.gguf", "llama", tok, 10, ty, NULL, 0, sc, NULL);
    ft_tokenizer *t = ft_tokenizer_load(p);
    if (!t) fail_msg("%s", ft_errmsg());
    expect_ids(t, "hi\nhi", 0, (uint32_t[]){8, 3, 9}, 3);
    expect_ids(t, "hi", FT_TOK_DEFAULT_SPECIAL, (uint32_t[]){1, 8}, 2);
    char *s; size_t sl;
    assert_int_equal(ft_tokenizer_decode(t, (uint32_t[]){8, 3, 9}, 3, &s, &sl), 0);
    assert_string_equal(s, "hi\nhi");
    free(s);
    ft_tokenizer_free(t);
    free(p);
}

// ---- malformed files -------------------------------------------------------------------------------
static void expect_fail(const char *path, const char *needle) {
    ft_err_clear();
    ft_tokenizer *t = ft_tokenizer_load(path);
    if (t) { ft_tokenizer_free(t); fail_msg("%s loaded; expected an error with \"%s\"", path, needle); }
    if (!strstr(ft_errmsg(), needle)) fail_msg("error \"%s\" lacks \"%s\"", ft_errmsg(), needle);
    if (!strstr(ft_errmsg(), path)) fail_msg("error \"%s\" does not name the file", ft_errmsg());
}

static void test_malformed_json(void **state) {
    (void)state;
    static const struct { const char *json, *needle; } cases[] = {
        {"{\"model\": ", "invalid JSON"},
        {"[1,2]", "expected a JSON object"},
        {"{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", "not supported"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":[\"a\"],\"merges\":[]}}", "model.vocab: expected an object"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"0\"},\"merges\":[]}}", "id must be an integer"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}}", "id must be an integer"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":4000000000},\"merges\":[]}}", "id must be an integer"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}", "used by two tokens"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":1000000},\"merges\":[]}}", "too sparse"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a q\"]}}", "not in the vocabulary"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a b\"]}}", "merged token \"ab\""},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[7]}}", "model.merges[0]"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":{}}}", "model.merges: expected an array"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a\"]}}", "model.merges[0]"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"unk_token\":\"<unk>\"}}", "unk_token"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"added_tokens\":[{\"content\":\"x\"}]}", "added_tokens[0]"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"added_tokens\":[{\"id\":99999999999,\"content\":\"x\"}]}", "added_tokens[0]"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"normalizer\":{\"type\":\"Bogus\"}}", "unknown normalizer"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"normalizer\":{\"type\":\"Replace\"}}", "Replace needs"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"}}", "regex"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"},\"behavior\":\"Sideways\"}}", "behavior"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"pre_tokenizer\":{\"type\":\"Bert\"}}", "unsupported pre-tokenizer"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"pre_tokenizer\":7}", "pre_tokenizer"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"decoder\":{\"type\":\"WordPiece\"}}", "unsupported decoder"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\"}}]}}", "not in the vocabulary"},
        {"{\"model\":7}", "model"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.json", i);
        char *p = write_tmp(name, cases[i].json);
        expect_fail(p, cases[i].needle);
        free(p);
    }
    char *missing = tu_path(dir, "nope.json");
    expect_fail(missing, "no such file");
    free(missing);
    char *empty = tu_path(dir, "emptydir");
    assert_int_equal(mkdir(empty, 0755), 0);
    expect_fail(empty, "no tokenizer.json");
    free(empty);
}

static void test_malformed_gguf(void **state) {
    (void)state;
    char *p;
    p = write_gguf("m1.gguf", "bert", BL_TOK, 9, BL_TYPES, NULL, 0, NULL, NULL);
    expect_fail(p, "not supported"); free(p);
    p = write_gguf("m2.gguf", NULL, BL_TOK, 9, BL_TYPES, NULL, 0, NULL, NULL);
    expect_fail(p, "tokenizer.ggml.model"); free(p);
    p = write_gguf("m3.gguf", "gpt2", NULL, 0, NULL, NULL, 0, NULL, NULL);
    expect_fail(p, "tokenizer.ggml.tokens"); free(p);
    // (merges naming no token and unknown tokenizer.ggml.pre names load, as in llama.cpp: test_tok_gguf.c)
    p = write_gguf("m5.gguf", "gpt2", BL_TOK, 9, BL_TYPES, BL_MRG, 4, NULL, "gemma4");
    expect_fail(p, "not supported"); free(p);
    const char *tok[] = {"<unk>", "<0x-1>", "a"};
    const int32_t ty[] = {2, 6, 1};
    const float sc[] = {0, 0, -1};
    p = write_gguf("m6.gguf", "llama", tok, 3, ty, NULL, 0, sc, NULL);
    expect_fail(p, "<0xHH>"); free(p);
    p = write_gguf("m7.gguf", "llama", tok, 3, NULL, NULL, 0, NULL, NULL);
    expect_fail(p, "tokenizer.ggml.scores"); free(p);
    p = write_gguf("m8.gguf", "gpt2", BL_TOK, 9, BL_TYPES, NULL, 0, NULL, NULL);
    expect_fail(p, "tokenizer.ggml.merges"); free(p);
    // a declared token count far larger than the file
    static const uint8_t hdr[] = "GGUF\x03\0\0\0" "\0\0\0\0\0\0\0\0" "\x01\0\0\0\0\0\0\0"
                                 "\x15\0\0\0\0\0\0\0" "tokenizer.ggml.tokens" "\x09\0\0\0" "\x08\0\0\0"
                                 "\0\0\0\0\0\0\0\x40";
    p = tu_path(dir, "huge.gguf");
    tu_write_file(p, hdr, sizeof hdr - 1);
    expect_fail(p, "huge.gguf"); free(p);
    p = tu_path(dir, "trunc.gguf");
    tu_write_file(p, "GGUF\x03\0", 6);
    expect_fail(p, "trunc.gguf"); free(p);
}

static int setup(void **state) { (void)state; dir = tu_tmpdir(); return 0; }
static int teardown(void **state) { (void)state; tu_rmdir(dir); free(dir); return 0; }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytelevel_json),
        cmocka_unit_test(test_spm_json),
        cmocka_unit_test(test_gguf_same_as_json),
        cmocka_unit_test(test_gguf_spm),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_malformed_gguf),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
