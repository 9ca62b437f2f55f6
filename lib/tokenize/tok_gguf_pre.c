// tok_gguf_pre.c — tokenizer.ggml.pre: every pre-tokenizer name llama.cpp's src/llama-vocab.cpp
// knows, mapped to its LLAMA_VOCAB_PRE_TYPE_* and that type's regex list and flags
// (ignore_merges, add_bos default). Each regex splits every piece and keeps matches and gaps
// (HF Split "Isolated"). Where llama.cpp runs a tokenizer.json regex through custom code
// (GPT-2, Llama 3) or rewrites it for std::regex (case folds as [sS], \p{Lu} as lookaheads,
// possessive quantifiers as greedy ones), the tokenizer.json original is used here: PCRE2
// runs it as written, and HF's ids are the truth the test suites hold. Non-ASCII classes are
// spelled as \x{...} code points so no editor or copy can normalize them (U+1F7D is not U+03CE).
// A missing or unknown name gives llama.cpp's "default" list and a warning for the caller.
#include "tokenize/tok_internal.h"

#include <string.h>

#define CONTR "(?i:'s|'t|'re|'ve|'m|'ll|'d)"
#define RX_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
#define RX_LLAMA3 CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_QWEN2 CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_BLOOM " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+"
#define CJK_KANA "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+"
#define CJK_HANGUL "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"
#define ASCII_PUNCT_WORD "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
#define UPPER "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]"
#define LOWER "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]"
#define RX_GPT4O "[^\\r\\n\\p{L}\\p{N}]?" UPPER "*" LOWER "+" CONTR "?|[^\\r\\n\\p{L}\\p{N}]?" UPPER "+" LOWER "*" CONTR "?|" \
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static const char *const R_DEFAULT[] = {"[\\p{P}\\$\\+<=>\\^~\\|]+", RX_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"};
static const char *const R_GPT2[] = {RX_GPT2};
static const char *const R_LLAMA3[] = {RX_LLAMA3};
static const char *const R_JAIS2[] = {
    CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|"
    "\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|"
    "\\s{1,2}(?!\\S)|\\s{1}"};
static const char *const R_DEEPSEEK_LLM[] = {
    "[\\r\\n]",
    "\\s?["
    "A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-"
    "\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}"
    "\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}"
    "\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}"
    "\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}"
    "\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}"
    "\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-"
    "\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}"
    "\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}"
    "\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}"
    "\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}"
    "-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-"
    "\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-"
    "\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}"
    "]+",
    "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
    "\\s+$", CJK_HANGUL, "\\p{N}+"};
static const char *const R_DEEPSEEK3[] = {
    "\\p{N}{1,3}", CJK_KANA,
    ASCII_PUNCT_WORD "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const R_SPARK2_5[] = {
    "\\p{N}{1,3}", CJK_KANA,
    ASCII_PUNCT_WORD "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+|[\\r\\n]|\\s+(?!\\S)|\\s+", "\\p{N}"};
static const char *const R_YOUTU[] = {
    "[\\x{AC00}-\\x{D7A3}\\x{3131}-\\x{318E}]+|[\\x{FF01}\\x{2026}\\x{201C}\\x{201D}\\x{2018}\\x{2019}\\x{2014}\\x{FF1A}"
    "\\x{FF1B}\\x{FF0C}\\x{3001}-\\x{303F}\\x{FE30}-\\x{FE4F}]+|[\\x{3105}-\\x{312F}]+|" CJK_KANA,
    "[^\\r\\n\\p{L}\\p{N}]?" UPPER "*" LOWER "+" CONTR "?|[^\\r\\n\\p{L}\\p{N}]?" UPPER "+" LOWER "*" CONTR "?|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const R_DEEPSEEK_CODER[] = {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK_HANGUL, "\\p{N}"};
static const char *const R_FALCON[] = {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RX_GPT2, "[0-9][0-9][0-9]"};
static const char *const R_STARCODER[] = {"\\p{N}", RX_GPT2};
static const char *const R_QWEN2[] = {RX_QWEN2};
static const char *const R_QWEN35[] = {
    CONTR "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const R_BLOOM[] = {RX_BLOOM};
static const char *const R_VIKING[] = {RX_BLOOM, "\\p{N}"};
static const char *const R_TEKKEN[] = {
    "[^\\r\\n\\p{L}\\p{N}]?" UPPER "*" LOWER "+|[^\\r\\n\\p{L}\\p{N}]?" UPPER "+" LOWER "*|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const R_CHAMELEON[] = {
    "<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
    "[\\p{P}!-/:-@\\[-`{-~]", RX_GPT2};
static const char *const R_GPT4O[] = {RX_GPT4O};
static const char *const R_GRANITE_EMB_MULTI[] = {   // llama.cpp's own spelling (no tokenizer.json original given)
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|"
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const R_TINY_AYA[] = {"\\d{1,3}(?=(?:\\d{3})*\\b)", RX_GPT4O};
static const char *const R_SUPERBPE[] = {"\\p{N}+", "(?=(\\d{3})+(?!\\d))"};
static const char *const R_BAILINGMOE[] = {
    "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"};
static const char *const R_SEED_CODER[] = {
    CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const R_UFAKZEKA[] = {
    "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const R_AFMOE[] = {
    "\\p{N}{1,3}(?=(?:\\p{N}{3})*(?!\\p{N}))",   // llama.cpp's custom split: the leading 1-2 digits, then threes
    "[\\x{4E00}-\\x{9FFF}\\x{3400}-\\x{4DBF}\\x{F900}-\\x{FAFF}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}\\x{FF65}-\\x{FF9F}"
    "\\x{2F00}-\\x{2FDF}\\x{E40}-\\x{E7F}\\x{E80}-\\x{EFF}\\x{1780}-\\x{17FF}\\x{1000}-\\x{109F}\\x{AA60}-\\x{AA7F}"
    "\\x{A9E0}-\\x{A9FF}\\x{AC00}-\\x{D7AF}\\x{1100}-\\x{11FF}]+",
    ASCII_PUNCT_WORD "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const R_LAGUNA[] = {"[^\\n]+|[\\n]+", RX_QWEN2};
static const char *const R_EXAONE_MOE[] = {
    CONTR "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|"
    "\\s+(?!\\S)|\\s+"};
static const char *const R_MINICPM5[] = {
    "\\p{N}{1,3}", CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};

#define L(a) a, (int)(sizeof a / sizeof *a)
#define RAW_UTF8 "its BPE runs on raw UTF-8 with spaces escaped as U+2581 (not byte-level); ft does not implement that kind"
static const struct pre_type { const char *type; const char *const *re; int n; const char *unsupported; } TYPES[] = {
    {"default", L(R_DEFAULT), NULL}, {"gpt2", L(R_GPT2), NULL}, {"llama3", L(R_LLAMA3), NULL},
    {"jais2", L(R_JAIS2), NULL}, {"deepseek-llm", L(R_DEEPSEEK_LLM), NULL}, {"deepseek3-llm", L(R_DEEPSEEK3), NULL},
    {"spark2.5", L(R_SPARK2_5), NULL}, {"youtu", L(R_YOUTU), NULL}, {"deepseek-coder", L(R_DEEPSEEK_CODER), NULL},
    {"falcon", L(R_FALCON), NULL}, {"starcoder", L(R_STARCODER), NULL}, {"qwen2", L(R_QWEN2), NULL},
    {"qwen35", L(R_QWEN35), NULL}, {"bloom", L(R_BLOOM), NULL}, {"viking", L(R_VIKING), NULL},
    {"tekken", L(R_TEKKEN), NULL}, {"chameleon", L(R_CHAMELEON), NULL}, {"gpt4o", L(R_GPT4O), NULL},
    {"granite-emb-multi", L(R_GRANITE_EMB_MULTI), NULL}, {"tiny-aya", L(R_TINY_AYA), NULL},
    {"superbpe", L(R_SUPERBPE), NULL}, {"bailingmoe", L(R_BAILINGMOE), NULL}, {"seed-coder", L(R_SEED_CODER), NULL},
    {"ufakzeka", L(R_UFAKZEKA), NULL}, {"afmoe", L(R_AFMOE), NULL}, {"laguna", L(R_LAGUNA), NULL},
    {"exaone-moe", L(R_EXAONE_MOE), NULL}, {"minicpm5", L(R_MINICPM5), NULL},
    {"kimi-k2", NULL, 0, "llama.cpp splits it with custom code (Han-aware K2 patterns) that ft does not implement"},
    {"gemma4", NULL, 0, RAW_UTF8}, {"sarvam-moe", NULL, 0, RAW_UTF8},
    {"whitespace", NULL, 0, "its BPE runs on raw UTF-8 split at whitespace (not byte-level); ft does not implement that kind"},
};
enum {
    T_DEFAULT, T_GPT2, T_LLAMA3, T_JAIS2, T_DEEPSEEK_LLM, T_DEEPSEEK3, T_SPARK2_5, T_YOUTU, T_DEEPSEEK_CODER,
    T_FALCON, T_STARCODER, T_QWEN2, T_QWEN35, T_BLOOM, T_VIKING, T_TEKKEN, T_CHAMELEON, T_GPT4O,
    T_GRANITE_EMB_MULTI, T_TINY_AYA, T_SUPERBPE, T_BAILINGMOE, T_SEED_CODER, T_UFAKZEKA, T_AFMOE, T_LAGUNA,
    T_EXAONE_MOE, T_MINICPM5, T_KIMI_K2, T_GEMMA4, T_SARVAM, T_WHITESPACE
};
enum { IM = 1, BOS = 2, NFC = 4 };   // ignore_merges, add_bos by default, NFC first (HF's Qwen2 normalizer)

// name -> type, in llama-vocab.cpp's order
static const struct { const char *name; int type, flags; } NAMES[] = {
    {"default", T_DEFAULT, 0}, {"minicpm5", T_MINICPM5, IM},
    {"llama3", T_LLAMA3, IM | BOS}, {"llama-v3", T_LLAMA3, IM | BOS}, {"llama-bpe", T_LLAMA3, IM | BOS},
    {"falcon3", T_LLAMA3, IM | BOS}, {"falcon-h1", T_LLAMA3, IM | BOS}, {"pixtral", T_LLAMA3, IM | BOS},
    {"midm-2.0", T_LLAMA3, IM | BOS}, {"lfm2", T_LLAMA3, IM | BOS}, {"jina-v5-nano", T_LLAMA3, IM | BOS},
    {"deepseek-llm", T_DEEPSEEK_LLM, 0}, {"deepseek-coder", T_DEEPSEEK_CODER, 0}, {"deepseek-v3", T_DEEPSEEK3, 0},
    {"spark2_5", T_SPARK2_5, 0}, {"youtu", T_YOUTU, IM}, {"falcon", T_FALCON, 0}, {"mpt", T_GPT2, 0},
    {"starcoder", T_STARCODER, 0},
    {"gpt-2", T_GPT2, 0}, {"phi-2", T_GPT2, 0}, {"jina-es", T_GPT2, 0}, {"jina-de", T_GPT2, 0},
    {"gigachat", T_GPT2, 0}, {"jina-v2-es", T_GPT2, 0}, {"jina-v2-de", T_GPT2, 0}, {"a.x-4.0", T_GPT2, 0},
    {"mellum", T_GPT2, 0}, {"modern-bert", T_GPT2, 0},
    {"jais-2", T_JAIS2, 0}, {"gemma4", T_GEMMA4, 0}, {"granite-embed-multi-311m", T_GEMMA4, 0},
    {"sarvam-moe", T_SARVAM, 0},
    {"jina-v1-en", T_GPT2, 0}, {"jina-v2-code", T_GPT2, 0}, {"roberta-bpe", T_GPT2, 0},
    {"whitespace", T_WHITESPACE, 0}, {"refact", T_STARCODER, 0}, {"command-r", T_STARCODER, 0},
    {"qwen2", T_QWEN2, NFC}, {"deepseek-r1-qwen", T_QWEN2, NFC}, {"kormo", T_QWEN2, 0}, {"f2llmv2", T_QWEN2, 0},
    {"qwen35", T_QWEN35, 0}, {"stablelm2", T_QWEN2, 0}, {"olmo", T_GPT2, 0}, {"dbrx", T_LLAMA3, 0},
    {"smaug-bpe", T_LLAMA3, 0}, {"poro-chat", T_BLOOM, 0}, {"glm4", T_LLAMA3, 0}, {"chatglm-bpe", T_LLAMA3, 0},
    {"viking", T_VIKING, 0}, {"jais", T_GPT2, 0}, {"tekken", T_TEKKEN, IM | BOS}, {"smollm", T_STARCODER, 0},
    {"codeshell", T_STARCODER, 0}, {"bloom", T_BLOOM, 0}, {"gpt3-finnish", T_BLOOM, 0},
    {"exaone", T_STARCODER, 0}, {"exaone4", T_GPT2, 0}, {"exaone-moe", T_EXAONE_MOE, 0},
    {"chameleon", T_CHAMELEON, BOS}, {"minerva-7b", T_STARCODER, 0}, {"megrez", T_QWEN2, 0},
    {"gpt-4o", T_GPT4O, 0}, {"llama4", T_GPT4O, 0}, {"kanana2", T_GPT4O, 0}, {"talkie", T_GPT4O, 0},
    {"granite-embed-multi-97m", T_GRANITE_EMB_MULTI, IM}, {"tiny_aya", T_TINY_AYA, 0}, {"cohere2moe", T_TINY_AYA, 0},
    {"superbpe", T_SUPERBPE, 0}, {"trillion", T_GPT2, 0}, {"granite-docling", T_GPT2, 0},
    {"bailingmoe", T_BAILINGMOE, 0}, {"bailingmoe2", T_BAILINGMOE, 0}, {"llada-moe", T_BAILINGMOE, 0},
    {"seed-coder", T_SEED_CODER, 0}, {"hunyuan", T_QWEN2, 0}, {"hunyuan-dense", T_DEEPSEEK3, 0},
    {"hy_v4", T_DEEPSEEK3, 0}, {"joyai-llm", T_DEEPSEEK3, 0}, {"kimi-k2", T_KIMI_K2, 0},
    {"ufakzeka", T_UFAKZEKA, 0}, {"grok-2", T_QWEN2, 0}, {"afmoe", T_AFMOE, 0}, {"laguna", T_LAGUNA, 0},
    {"minimax-m2", T_GPT4O, 0}, {"solar-open", T_QWEN2, 0}, {"mellum2", T_STARCODER, 0},
};

int tok_gguf_pre_find(const char *name, tok_gguf_pre *out) {
    int known = 0, type = T_DEFAULT, flags = 0;
    for (size_t i = 0; name && i < sizeof NAMES / sizeof *NAMES; i++)
        if (!strcmp(NAMES[i].name, name)) { known = 1; type = NAMES[i].type; flags = NAMES[i].flags; break; }
    const struct pre_type *ty = &TYPES[type];
    *out = (tok_gguf_pre){.type = ty->type, .re = ty->re, .n = ty->n, .unsupported = ty->unsupported,
                          .ignore_merges = !!(flags & IM), .add_bos = !!(flags & BOS), .nfc = !!(flags & NFC)};
    return known ? 0 : 1;
}

size_t tok_gguf_pre_names(const char **names, size_t cap) {
    size_t n = sizeof NAMES / sizeof *NAMES;
    for (size_t i = 0; i < n && i < cap; i++) names[i] = NAMES[i].name;
    return n;
}
