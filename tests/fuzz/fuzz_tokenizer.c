// fuzz_tokenizer.c — libFuzzer target for tokenizer loading: the input is a tokenizer.json (or,
// when it starts with "GGUF", a GGUF vocabulary); a file that loads is then used to encode
// fixed strings (every regex family: letters, digits, CJK, contractions, blank runs) and decode
// the result, which must never crash or read out of bounds. Seeds: tokenizer.json layouts and
// small GGUF vocabularies (byte-level with tokenizer.ggml.pre llama-bpe / deepseek-llm, SPM).
#include "fuzz_common.h"
#include "tokenize/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int gguf = size >= 4 && memcmp(data, "GGUF", 4) == 0;
    ft_tokenizer *t = ft_tokenizer_load(fuzz_file(data, size, gguf ? ".gguf" : ".json"));
    if (!t) return 0;
    static const char *const texts[] = {"", "hello world", "  a\n\tb 123 <s></s><|x|>", "\xC3\xA9\xE2\x96\x81\xF0\x9F\xA6\x99", "ab<|x|>c",
                                        // Greek with oxia, CJK, Hangul, Arabic-Indic digits, long digits, CR LF, trailing blanks
                                        "\xE1\xBD\x9F\xE1\xBD\xBD \xE4\xBD\xA0\xE5\xA5\xBD \xED\x95\x9C 1234567 \xD9\xA1\xD9\xA2 I'M it's\r\n\r\n  \t "};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        uint32_t *ids; size_t n;
        if (ft_tokenizer_encode(t, texts[i], strlen(texts[i]), 1, &ids, &n) == 0) {
            char *s; size_t sl;
            if (ft_tokenizer_decode(t, ids, n, &s, &sl) == 0) free(s);
            free(ids);
        }
    }
    for (uint32_t id = 0; id < ft_tokenizer_vocab_size(t) && id < 64; id++) {
        char buf[16];
        ft_tokenizer_token_bytes(t, id, buf, sizeof buf);
        size_t len;
        ft_tokenizer_piece(t, id, &len);
    }
    ft_tokenizer_free(t);
    return 0;
}
