// tok_internal.h — the insides of ft_tokenizer shared by the tokenizer sources:
// tokenizer.c (pipeline, decode, accessors), tok_vocab.c (building the vocabulary), tok_load.c
// (loading a file), tok_bpe.c (vocab/merge maps, merge engine),
// tok_pretok.c (normalizers and pre-tokenizers), tok_hf.c (tokenizer.json), tok_gguf.c (GGUF).
#ifndef FT_TOK_INTERNAL_H
#define FT_TOK_INTERNAL_H

#include "tokenize/tokenizer.h"

#include <stdint.h>
#include <stddef.h>

#define TOK_NONE UINT32_MAX
#define TOK_MAX_VOCAB (1u << 24)         // 16M ids: anything larger is a malformed file

enum { TOK_BYTELEVEL = 1, TOK_SPM = 2 };

// ---- string -> id map (open addressing; keys are copies owned by the map) ------------------
typedef struct {
    uint32_t *slots;      // (cap,) id + 1, 0 = empty
    uint64_t *hashes;     // (cap,)
    const char **keys;    // borrowed: keys[id] of the owner's arrays
    const uint32_t *lens;
    size_t cap, n;
} tok_strmap;

// ---- (left id, right id) -> (rank, merged id) ----------------------------------------------
typedef struct {
    uint64_t *keys;       // (cap,) (left << 32 | right) + 1, 0 = empty
    uint32_t *rank;       // (cap,)
    uint32_t *result;     // (cap,)
    size_t cap, n;
} tok_pairmap;

// ---- normalizers and pre-tokenizers ---------------------------------------------------------
enum {
    NORM_NFC = 1, NORM_NFD, NORM_NFKC, NORM_NFKD, NORM_LOWER, NORM_REPLACE, NORM_PREPEND,
    NORM_STRIP
};
typedef struct {
    int type;
    char *a; size_t alen;     // Replace: literal pattern; Prepend: text
    char *b; size_t blen;     // Replace: content
    void *re;                 // Replace with a regex: pcre2_code
    int left, right;          // Strip
} tok_norm;

enum { SPLIT_ISOLATED = 1, SPLIT_REMOVED, SPLIT_MERGED_PREV, SPLIT_MERGED_NEXT, SPLIT_CONTIGUOUS };
enum { PRE_SPLIT = 1, PRE_BYTELEVEL, PRE_METASPACE };
enum { PREPEND_ALWAYS = 0, PREPEND_NEVER = 1, PREPEND_FIRST = 2 };
typedef struct {
    int type;
    void *re;                 // pcre2_code (Split, ByteLevel with regex)
    int behavior, invert;     // Split
    int prefix_space;         // ByteLevel add_prefix_space
    int prepend, split;       // Metaspace: PREPEND_*, split on the replacement
    char repl[8]; size_t repl_len;   // Metaspace replacement (UTF-8)
} tok_pre;

// ---- added tokens ---------------------------------------------------------------------------
typedef struct {
    char *content; size_t len;
    uint32_t id;
    unsigned special : 1, lstrip : 1, rstrip : 1, single_word : 1, normalized : 1;
} tok_added;

struct ft_tokenizer {
    char *path;
    int kind;                      // TOK_BYTELEVEL / TOK_SPM
    uint32_t n_vocab;              // max id + 1
    char **piece;                  // (n_vocab,) stored string form, NUL-terminated; NULL = hole
    uint32_t *piece_len;           // (n_vocab,)
    char **raw;                    // (n_vocab,) model-side form: raw bytes (byte-level) or piece
    uint32_t *raw_len;             // (n_vocab,)
    char **dec;                    // (n_vocab,) bytes the token decodes to
    uint32_t *dec_len;             // (n_vocab,)
    uint8_t *is_special;           // (n_vocab,)
    uint8_t *is_added;             // (n_vocab,)
    uint8_t *is_model;             // (n_vocab,) token of the BPE model's own vocabulary
    tok_strmap vocab;              // raw form -> id (model tokens only)
    tok_pairmap merges;
    uint32_t byte_id[256];         // byte-level: token of one byte; SPM: <0xNN> token (or NONE)
    int byte_fallback, fuse_unk, ignore_merges;
    int spm_split;                 // no token has "▁" after another char: words may be cut there
    int32_t unk, bos, eos, pad, eot, eom;
    uint32_t *stop; size_t n_stop;
    uint32_t pre_ids[4], post_ids[4];   // post-processor: tokens around the sequence
    int n_pre_ids, n_post_ids;
    int add_bos, add_eos;          // defaults (from post-processor / GGUF flags)
    int dec_strip_space;           // decoder removes one leading space (SentencePiece)
    tok_norm *norm; int n_norm;
    tok_pre *pre; int n_pre;
    tok_added *added; size_t n_added;
    uint32_t added_first[256][2];  // added tokens sorted by first byte: [start, end) into added
    uint64_t id;
    char *warning;                 // load-time warning for the user (NULL = none)
};

// tok_bpe.c
int tok_strmap_build(tok_strmap *m, const char **keys, const uint32_t *lens, uint32_t n, const uint8_t *skip);
int32_t tok_strmap_get(const tok_strmap *m, const char *s, size_t len);
void tok_strmap_free(tok_strmap *m);
int tok_pairmap_init(tok_pairmap *m, size_t n);
int tok_pairmap_put(tok_pairmap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t result);
int tok_pairmap_get(const tok_pairmap *m, uint32_t a, uint32_t b, uint32_t *rank, uint32_t *result);
void tok_pairmap_free(tok_pairmap *m);
// Encode one pre-tokenized word (model form) appending ids and start offsets (relative to the
// word, in bytes) to out; uses the ws word cache.
int tok_bpe_word(const ft_tokenizer *t, ft_tok_ws *ws, const char *w, size_t n, ft_tok_ids *out,
                 const uint32_t *align);
int tok_ids_push(ft_tok_ids *o, uint32_t id, uint32_t off);
uint64_t tok_fnv(uint64_t h, const void *p, size_t n);

// tok_pretok.c: text with a byte -> input offset alignment, transformed in place.
typedef struct {
    char *s; uint32_t *al; size_t n, cap;
} tok_text;
typedef struct { uint32_t start, len; } tok_span;
int tok_text_reserve(tok_text *t, size_t n);
int tok_normalize(const ft_tokenizer *t, tok_text *x, tok_text *tmp);
// Pre-tokenize x into words (spans of x, possibly rewriting x); first = this piece starts
// the sequence (Metaspace prepend_scheme "first").
int tok_pretokenize(const ft_tokenizer *t, tok_text *x, tok_text *tmp, tok_span **words,
                    size_t *n_words, size_t *cap_words, int first);
void *tok_regex_compile(const char *pattern, size_t len, const char *what);
void tok_regex_free(void *re);
void tok_norm_free(tok_norm *n);
void tok_pre_free(tok_pre *p);
extern const char TOK_GPT2_REGEX[];

// Per-thread work space (tokenizer.c / tok_bpe.c).
typedef struct { uint32_t id, start, len; int32_t prev, next; } tok_sym;
typedef struct { uint32_t rank; int32_t pos; uint32_t left, right; } tok_heap_ent;
typedef struct { uint64_t hash; uint32_t key_off, key_len, val_off, val_n; } tok_cache_ent;
struct ft_tok_ws {
    tok_text a, b;                              // normalized text and scratch
    tok_span *words; size_t n_words, cap_words;
    tok_sym *sym; size_t cap_sym;
    tok_heap_ent *heap; size_t cap_heap;
    tok_cache_ent *cache; size_t cache_cap, cache_n;   // open addressing, cache_cap power of 2
    char *keys; size_t keys_n, keys_cap;
    uint32_t *vals; size_t vals_n, vals_cap;            // (id, rel offset) pairs
    const ft_tokenizer *owner;                  // cache belongs to this tokenizer
};

// tok_hf.c / tok_gguf.c
int tok_load_hf(ft_tokenizer *t, const char *json_path, const char *config_path);
int tok_load_gguf(ft_tokenizer *t, const char *path);
// tok_gguf_pre.c: tokenizer.ggml.pre name -> llama.cpp pre-tokenizer type (regexes + flags).
typedef struct {
    const char *type;                  // llama.cpp's type, e.g. "llama3", "default"
    const char *const *re; int n;      // regexes, each applied as an isolated Split
    const char *unsupported;           // why ft cannot run this type; NULL = supported
    int ignore_merges, add_bos, nfc;   // flags of the name (add_bos: default when the GGUF has no key)
} tok_gguf_pre;
// 0 = known name; 1 = NULL or unknown name, *out = llama.cpp's "default" type.
int tok_gguf_pre_find(const char *name, tok_gguf_pre *out);
// All known names (up to cap into names); returns how many there are.
size_t tok_gguf_pre_names(const char **names, size_t cap);

// tokenizer.c: shared load steps
int tok_finish(ft_tokenizer *t);   // decode strings, maps, added-token index, stop ids, id hash
int tok_set_vocab_size(ft_tokenizer *t, uint32_t n);
int tok_set_piece(ft_tokenizer *t, uint32_t id, const char *s, size_t len);
int tok_add_added(ft_tokenizer *t, const tok_added *a);
// byte-level alphabet: byte -> code point of GPT-2's bytes_to_unicode, and back (-1 = none)
uint32_t tok_byte_to_cp(uint8_t b);
int tok_cp_to_byte(uint32_t cp);
// Decode a byte-level string into raw bytes; -1 when a char is outside the alphabet.
int tok_bytelevel_decode(const char *s, size_t n, char **out, uint32_t *out_len);

#endif
