// test_tok_gguf.c — GGUF vocabularies as llama.cpp reads them, on hand-made vocabularies whose
// ids are worked out by hand: every tokenizer.ggml.pre name of llama.cpp's llama-vocab.cpp
// loads (its regexes compile) or is refused by name; a missing or unknown name falls back to
// llama.cpp's "default" regexes with a warning; merges split at the first space after byte 1,
// of any length, unusable entries skipped; and a regex that hits PCRE2's match limit on a
// text fails with a message that says so.
#include "testutil.h"
#include "core/err.h"
#include "format/gguf.h"
#include "tokenize/tok_internal.h"
#include "tokenize/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;

static char *write_vocab(const char *name, const char *const *tok, uint64_t n, const char *const *merges, uint64_t nm,
                         const char *pre) {
    char *p = tu_path(dir, name);
    gguf_writer *w = gguf_writer_new();
    gguf_w_str(w, "general.architecture", "gpt2");
    gguf_w_str(w, "tokenizer.ggml.model", "gpt2");
    if (pre) gguf_w_str(w, "tokenizer.ggml.pre", pre);
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", tok, n);
    gguf_w_arr_str(w, "tokenizer.ggml.merges", merges, nm);
    if (gguf_writer_write(w, p)) fail_msg("%s", ft_errmsg());
    gguf_writer_free(w);
    return p;
}

static void expect_ids(const ft_tokenizer *t, const char *text, size_t len, const uint32_t *want, size_t n) {
    ft_tok_ids o = {0};
    if (ft_tokenizer_encode_ws(t, NULL, text, len, 0, &o)) fail_msg("encode: %s", ft_errmsg());
    if (o.n != n) fail_msg("\"%.40s\": %zu ids, expected %zu", text, o.n, n);
    for (size_t i = 0; i < n; i++)
        if (o.ids[i] != want[i]) fail_msg("\"%.40s\": id %zu is %u, expected %u", text, i, o.ids[i], want[i]);
    ft_tok_ids_free(&o);
}

// Ids 0..255: the byte-level character of byte i; 256 "12", 257 "123", 258 "1234". GPT-2's
// regex keeps "1234" one word (merged to 258); llama.cpp's "default" list splits \p{N}+ and
// then [0-9][0-9][0-9], so "1234" is "123" (257) + "4" (byte 0x34 = 52).
enum { NDG = 259 };
static char dg_buf[256][4];
static const char *DG_TOK[NDG];
static const char *const DG_MRG[] = {"1 2", "12 3", "123 4"};

static void dg_init(void) {
    for (int b = 0; b < 256; b++) {
        uint32_t c = tok_byte_to_cp((uint8_t)b);
        char *o = dg_buf[b];
        if (c < 0x80) o[0] = (char)c;
        else { o[0] = (char)(0xC0 | (c >> 6)); o[1] = (char)(0x80 | (c & 0x3F)); }
        DG_TOK[b] = o;
    }
    DG_TOK[256] = "12"; DG_TOK[257] = "123"; DG_TOK[258] = "1234";
}

static void test_every_pre_name(void **state) {
    (void)state;
    const char *names[256];
    size_t n = tok_gguf_pre_names(names, 256);
    assert_true(n >= 90 && n <= 256);
    // names read off llama.cpp's llama-vocab.cpp (load(): tokenizer_pre == "...")
    static const char *const must[] = {"llama-bpe", "deepseek-llm", "deepseek-coder", "falcon", "mpt", "starcoder",
                                       "gpt-2", "refact", "qwen2", "qwen35", "gpt-4o", "tekken", "chameleon",
                                       "smollm", "command-r", "bailingmoe2", "seed-coder", "minimax-m2", "afmoe"};
    for (size_t k = 0; k < sizeof must / sizeof *must; k++) {
        tok_gguf_pre pt;
        if (tok_gguf_pre_find(must[k], &pt)) fail_msg("\"%s\" is not known", must[k]);
    }
    int refused = 0;
    for (size_t i = 0; i < n; i++) {
        char *p = write_vocab("pre.gguf", DG_TOK, NDG, DG_MRG, 3, names[i]);
        ft_err_clear();
        ft_tokenizer *t = ft_tokenizer_load(p);
        tok_gguf_pre pt;
        assert_int_equal(tok_gguf_pre_find(names[i], &pt), 0);
        if (pt.unsupported) {
            if (t) fail_msg("\"%s\" loaded; expected a refusal", names[i]);
            if (!strstr(ft_errmsg(), names[i]) || !strstr(ft_errmsg(), "not supported"))
                fail_msg("\"%s\": unclear refusal \"%s\"", names[i], ft_errmsg());
            refused++;
        } else {
            if (!t) fail_msg("\"%s\": %s", names[i], ft_errmsg());
            if (ft_tokenizer_warning(t)) fail_msg("\"%s\": unexpected warning %s", names[i], ft_tokenizer_warning(t));
            ft_tok_ids o = {0};   // every regex list runs on mixed text
            const char *txt = "a 1234  a\n\n12\t3 'S's \xE4\xB8\x80\xCF\x8E!";
            if (ft_tokenizer_encode_ws(t, NULL, txt, strlen(txt), 0, &o)) fail_msg("\"%s\": %s", names[i], ft_errmsg());
            ft_tok_ids_free(&o);
            ft_tokenizer_free(t);
        }
        free(p);
    }
    // kimi-k2 (custom code) and the raw-UTF-8 BPE kinds: gemma4, granite-embed-multi-311m, sarvam-moe, whitespace
    assert_int_equal(refused, 5);
}

static void test_default_fallback(void **state) {
    (void)state;
    char *p = write_vocab("g.gguf", DG_TOK, NDG, DG_MRG, 3, "gpt-2");
    ft_tokenizer *t = ft_tokenizer_load(p);
    if (!t) fail_msg("%s", ft_errmsg());
    expect_ids(t, "1234", 4, (uint32_t[]){258}, 1);
    assert_null(ft_tokenizer_warning(t));
    ft_tokenizer_free(t); free(p);
    static const char *const pres[] = {"default", "no-such-pre", NULL};
    for (int k = 0; k < 3; k++) {
        p = write_vocab("d.gguf", DG_TOK, NDG, DG_MRG, 3, pres[k]);
        t = ft_tokenizer_load(p);
        if (!t) fail_msg("%s: %s", pres[k] ? pres[k] : "(none)", ft_errmsg());
        expect_ids(t, "1234", 4, (uint32_t[]){257, 52}, 2);
        const char *w = ft_tokenizer_warning(t);
        if (k == 0) assert_null(w);
        else if (!w || !strstr(w, "default") || !strstr(w, k == 1 ? "\"no-such-pre\"" : "no tokenizer.ggml.pre"))
            fail_msg("warning: %s", w ? w : "(none)");
        ft_tokenizer_free(t); free(p);
    }
}

// "a"x1024 and "b"x1024 built by doubling merges, then one merge of 2049 bytes joins them
// (llama.cpp reads merges of any length; MPT's vocabulary has one of 2047 bytes).
static void test_long_merges(void **state) {
    (void)state;
    enum { K = 11 };   // pieces of 1, 2, 4 ... 1024 of each letter
    char *tok[2 * K + 1], *mrg[2 * (K - 1) + 1];
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < K; k++) {
            size_t l = (size_t)1 << k;
            tok[c * K + k] = malloc(l + 1);
            memset(tok[c * K + k], 'a' + c, l); tok[c * K + k][l] = 0;
            if (k) {
                mrg[c * (K - 1) + k - 1] = malloc(l + 2);
                snprintf(mrg[c * (K - 1) + k - 1], l + 2, "%s %s", tok[c * K + k - 1], tok[c * K + k - 1]);
            }
        }
    tok[2 * K] = malloc(2049);
    snprintf(tok[2 * K], 2049, "%s%s", tok[K - 1], tok[2 * K - 1]);
    mrg[2 * (K - 1)] = malloc(2050);
    snprintf(mrg[2 * (K - 1)], 2050, "%s %s", tok[K - 1], tok[2 * K - 1]);
    char *p = write_vocab("long.gguf", (const char *const *)tok, 2 * K + 1, (const char *const *)mrg, 2 * (K - 1) + 1, "gpt-2");
    ft_tokenizer *t = ft_tokenizer_load(p);
    if (!t) fail_msg("%s", ft_errmsg());
    expect_ids(t, tok[2 * K], 2048, (uint32_t[]){2 * K}, 1);
    expect_ids(t, tok[2 * K], 1024 + 512, (uint32_t[]){K - 1, K + 9}, 2);   // a x1024, b x512
    ft_tokenizer_free(t); free(p);
    for (int i = 0; i <= 2 * K; i++) free(tok[i]);
    for (int i = 0; i <= 2 * (K - 1); i++) free(mrg[i]);
}

// Entries llama.cpp accepts but that can never merge: no space after byte 1, a part or the
// result not a token. They are skipped; the usable merges keep their ranks.
static void test_unusable_merges(void **state) {
    (void)state;
    static const char *const tok[] = {"a", "b", "c", "ab", "bc", "abc"};
    static const char *const mrg[] = {" ab", "abc", "a zz", "c a", "b c", "a b", "ab c", "a bc"};
    char *p = write_vocab("u.gguf", tok, 6, mrg, 8, "gpt-2");
    ft_tokenizer *t = ft_tokenizer_load(p);
    if (!t) fail_msg("%s", ft_errmsg());
    // b+c ranks before a+b: "abc" -> a, bc -> (a bc) -> abc; "ab" -> ab; "ca" stays c, a
    expect_ids(t, "abc", 3, (uint32_t[]){5}, 1);
    expect_ids(t, "ab", 2, (uint32_t[]){3}, 1);
    expect_ids(t, "ca", 2, (uint32_t[]){2, 0}, 2);
    ft_tokenizer_free(t); free(p);
}

// A backtracking regex on a long run hits PCRE2's match limit: the error names the
// pre-tokenizer and its regex, and says that the text hit the limit (not a bare -47).
static void test_match_limit(void **state) {
    (void)state;
    const char *json =
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[]},"
        "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
        "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(a|aa)+$\"},\"behavior\":\"Isolated\",\"invert\":false}]}}";
    char *p = tu_path(dir, "limit.json");
    tu_write_file(p, json, strlen(json));
    ft_tokenizer *t = ft_tokenizer_load(p);
    if (!t) fail_msg("%s", ft_errmsg());
    expect_ids(t, "aab", 3, (uint32_t[]){0, 0, 1}, 3);   // short text: fine
    char text[4001];
    memset(text, 'a', 4000); text[3999] = 'b'; text[4000] = 0;
    ft_tok_ids o = {0};
    ft_err_clear();
    assert_int_equal(ft_tokenizer_encode_ws(t, NULL, text, 4000, 0, &o), -1);
    const char *m = ft_errmsg();
    if (!strstr(m, "pre-tokenizer 1 (Split) /(a|aa)+$/") || !strstr(m, "limit") || !strstr(m, "backtracks") ||
        strstr(m, "error -"))
        fail_msg("unclear error: %s", m);
    ft_tok_ids_free(&o);
    ft_tokenizer_free(t); free(p);
}

static int setup(void **state) { (void)state; dir = tu_tmpdir(); dg_init(); return 0; }
static int teardown(void **state) { (void)state; tu_rmdir(dir); free(dir); return 0; }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_pre_name),
        cmocka_unit_test(test_default_fallback),
        cmocka_unit_test(test_long_merges),
        cmocka_unit_test(test_unusable_merges),
        cmocka_unit_test(test_match_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
