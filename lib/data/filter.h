// filter.h — dataset curation for ft-filter: hash sets, MinHash/LSH near-duplicate detection,
// n-gram decontamination, Gopher quality rules, a seeded external shuffle, and the streaming
// pipeline that applies them to FTOK token streams or JSONL records (see docs/ft-filter.md).
#ifndef FT_FILTER_H
#define FT_FILTER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "format/ftok.h"

// ---- hash containers (open addressing, grow at 1/2 load) -------------------------------
typedef struct {
    uint64_t *k;   // (cap, 2); an all-zero slot is empty (a zero key is stored as {0, 1})
    size_t cap, n;
} ft_hset128;
int ft_hset128_add(ft_hset128 *s, const uint64_t h[2]);   // 1 = added, 0 = already there, -1 = error
void ft_hset128_free(ft_hset128 *s);

typedef struct {
    uint64_t *k;   // (cap,); 0 = empty (key 0 is stored as 1)
    uint32_t *v;   // (cap,) or NULL for a plain set
    size_t cap, n;
    int set_only;  // 1: keys only (v stays NULL)
} ft_hmap64;
// Insert key -> v unless present (the first value is kept). 1 = added, 0 = present, -1 = error.
int ft_hmap64_put(ft_hmap64 *m, uint64_t key, uint32_t v);
// 1 and *v (when v != NULL) if present, else 0.
int ft_hmap64_get(const ft_hmap64 *m, uint64_t key, uint32_t *v);
// Pointer to the value slot of key, or NULL when absent (maps only).
uint32_t *ft_hmap64_slot(ft_hmap64 *m, uint64_t key);
void ft_hmap64_free(ft_hmap64 *m);

// ---- input streams ------------------------------------------------------------------------
// An input whose first bytes are "FTOK" (after zstd decompression) is a token stream;
// anything else is read as JSONL. An empty input is JSONL with no records.
enum { FT_KIND_FTOK = 1, FT_KIND_JSONL = 2 };
typedef struct {
    int kind;
    ftok_reader *ft;
    struct ft_jsonl *js;
} ft_fstream;
int ft_fstream_open(ft_fstream *s, const char *path);
const char *ft_fstream_name(const ft_fstream *s);
void ft_fstream_close(ft_fstream *s);
// JSONL text of a record: the string in `field`, else the concatenated texts of a
// "segments" array. Returns 1 and sets *s/*n (borrowed, or *owned to free), or 0 when none.
int ft_record_text(json_t *obj, const char *field, const char **s, size_t *n, char **owned);

// ---- units and n-grams -------------------------------------------------------------------
// A record is seen by dedup/decontamination as a sequence of 64-bit units: token ids (FTOK),
// or hashes of normalised words (JSONL: split on whitespace, ASCII lower-cased, ASCII
// punctuation removed, words that become empty dropped).
// Appends the word units of text to *units (grown as needed); returns the count or -1.
long ft_text_units(const char *s, size_t n, uint64_t **units, size_t *cap);
// Number of whitespace-separated words (the JSONL length unit "words").
size_t ft_text_words(const char *s, size_t n);
// Hashes of every window of k units into out (capacity n-k+1); returns the count (0 if n < k).
size_t ft_ngram_hashes(const uint64_t *units, size_t n, int k, uint64_t seed, uint64_t *out);

// ---- MinHash + LSH near-duplicate detection ---------------------------------------------
// Signature value i of a set S of shingle hashes is min over x in S of
// ((a_i * (uint32)x + b_i) mod 2^64) >> 32 (a 2-universal family). The signature is cut into
// `bands` bands of `rows` values; two records become candidates when any band is equal, which
// for Jaccard similarity s happens with probability P(s) = 1 - (1 - s^rows)^bands.
typedef struct {
    double threshold;
    int num_perm, bands, rows, shingle;
    uint64_t seed;
    uint32_t *al, *ah;    // (num_perm,) low and high halves of the odd multipliers a_i
    uint64_t *b;          // (num_perm,)
    uint32_t *sig;        // (num_perm,) scratch
    uint64_t *grams;      // scratch shingle hashes
    size_t grams_cap;
    ft_hmap64 buckets;    // band keys of every kept record
} ft_minhash;
// Bands and rows minimising the equally weighted false-positive and false-negative areas
// of P(s) around threshold (the rule datasketch's MinHashLSH uses).
void ft_lsh_params(double threshold, int num_perm, int *bands, int *rows);
double ft_lsh_prob(double s, int bands, int rows);
int ft_minhash_init(ft_minhash *m, double threshold, int num_perm, int shingle, uint64_t seed);
// Signature of a set of shingle hashes into sig (num_perm,). n == 0 gives all 0xFFFFFFFF.
void ft_minhash_sign(const ft_minhash *m, const uint64_t *shingles, size_t n, uint32_t *sig);
// Shingle the units (k-grams; a record shorter than k is one shingle) and test them against
// the LSH index: 1 = a near duplicate of an earlier kept record, 0 = new (its bands are
// inserted), -1 = error. Empty records are never near duplicates.
int ft_minhash_seen(ft_minhash *m, const uint64_t *units, size_t n);
// Same on a ready signature.
int ft_minhash_seen_sig(ft_minhash *m, const uint32_t *sig);
void ft_minhash_free(ft_minhash *m);

// ---- decontamination ---------------------------------------------------------------------
typedef struct {
    int ngram;
    int kind;              // 1 = FTOK tokens, 2 = JSONL words (0 before the first file)
    ftok_header h;         // of the first FTOK eval file
    ft_hmap64 grams;       // n-gram hash -> eval item index
    size_t n_items, n_short, items_cap;
    uint32_t *item_file;   // (n_items,) index into files
    uint64_t *item_no;     // (n_items,) 1-based record number within its file
    uint64_t *hits;        // (n_items,) training records that touched the item
    char **files;
    size_t n_files;
    uint64_t dropped;
    uint64_t *scratch;
    size_t scratch_cap;
    uint32_t *cred;        // eval items already credited for the current record
    size_t cred_cap;
} ft_decon;
// Index an eval file (FTOK: each record's tokens; JSONL: every string value of each object,
// each string on its own so n-grams never span two fields). Items shorter than ngram units
// contribute nothing and are counted as short.
int ft_decon_add_file(ft_decon *d, const char *path);
// 1 = the units share an n-gram with the eval data (hits counted per eval item), 0 = clean.
int ft_decon_check(ft_decon *d, const uint64_t *units, size_t n);
json_t *ft_decon_report(const ft_decon *d);
void ft_decon_free(ft_decon *d);

// ---- Gopher quality rules (JSONL text) ----------------------------------------------------
enum {
    FT_Q_WORDS_MIN, FT_Q_WORDS_MAX, FT_Q_MEAN_WORD_MIN, FT_Q_MEAN_WORD_MAX, FT_Q_SYMBOL_RATIO,
    FT_Q_BULLET_LINES, FT_Q_ELLIPSIS_LINES, FT_Q_ALPHA_WORDS, FT_Q_STOPWORDS,
    FT_Q_DUP_LINES, FT_Q_DUP_PARAS, FT_Q_DUP_LINE_CHARS, FT_Q_DUP_PARA_CHARS,
    FT_Q_TOP2, FT_Q_TOP3, FT_Q_TOP4,
    FT_Q_DUP5, FT_Q_DUP6, FT_Q_DUP7, FT_Q_DUP8, FT_Q_DUP9, FT_Q_DUP10,
    FT_Q_N
};
typedef struct {
    const char *name;   // flag is --q-NAME
    double def;
    int is_min;         // 1: drop when the measure is below, 0: when above
    const char *what;
} ft_quality_rule;
extern const ft_quality_rule ft_quality_rules[FT_Q_N];
typedef struct {
    double thr[FT_Q_N];   // NaN = rule off
} ft_quality;
void ft_quality_defaults(ft_quality *q);
int ft_quality_find(const char *name);   // rule index or -1
// The measures of a text (values[FT_Q_N]).
void ft_quality_measure(const char *s, size_t n, double *values);
// Index of the first failed rule, or -1 when the text passes.
int ft_quality_check(const ft_quality *q, const char *s, size_t n);

// ---- seeded external shuffle --------------------------------------------------------------
// Records (opaque byte blobs) get a random bucket each from the seed; buckets live in memory
// until mem_bytes is exceeded, then in unlinked temporary files; at the end each bucket is
// loaded and Fisher-Yates shuffled with a generator seeded from (seed, bucket). The result is
// a uniformly random permutation that depends only on the seed and the input, not on memory.
#define FT_SHUF_BUCKETS 256
typedef struct ft_shuffle ft_shuffle;
ft_shuffle *ft_shuffle_new(uint64_t seed, size_t mem_bytes, const char *tmpdir);
int ft_shuffle_add(ft_shuffle *s, const void *blob, uint32_t len);
// Calls emit for each blob in shuffled order; stops on the first nonzero return.
int ft_shuffle_finish(ft_shuffle *s, int (*emit)(void *ctx, const uint8_t *blob, uint32_t len), void *ctx);
int ft_shuffle_spilled(const ft_shuffle *s);
void ft_shuffle_free(ft_shuffle *s);

// ---- the pipeline -------------------------------------------------------------------------
typedef struct {
    const char *path;
    double weight;
} ft_mix_input;

typedef struct {
    const char **inputs;      // concatenated in order; none = stdin
    int n_inputs;
    ft_mix_input *mix;        // --mix: interleaved by weight instead of concatenated
    int n_mix;
    const char *out, *val_out;
    int skip_bad;
    const char *field;        // JSONL text field (default "text")
    int len_bytes;            // JSONL length in bytes instead of words
    long min_len, max_len, truncate, min_trained;   // -1 = off
    int dedup;                // 0 off, 1 exact, 2 near
    double threshold;
    int num_perm, shingle;
    const char **decon;
    int n_decon, ngram;
    int use_quality;
    ft_quality quality;
    long sample_n;            // -1 = off
    double sample_frac;       // < 0 = off
    int shuffle;
    uint64_t seed;
    size_t mem_bytes;
    const char *tmpdir;
    double split_val;         // 0 = off
    long head;                // -1 = off
    int shard_i, shard_n;     // shard_n 0 = off
    // called every 4096 records read (e.g. for a progress bar); may be NULL
    void (*progress)(void *ctx, uint64_t records_in, uint64_t records_out);
    void *progress_ctx;
} ft_filter_opts;

void ft_filter_defaults(ft_filter_opts *o);
// Runs the pipeline; *stats (may be NULL) receives the report, also on failure when possible.
int ft_filter_run(const ft_filter_opts *o, json_t **stats);

// Internal to the pipeline: statistics over kept records.
typedef struct {
    uint64_t in, out, val, tokens_in, tokens_out, trained_out, truncated, not_in_shard, bad;
    uint64_t drop[16];
    uint32_t *lens;           // (out,) lengths of the main output
    size_t lens_cap;
} ft_fstats;
enum { FT_DROP_QUALITY, FT_DROP_MIN_LEN, FT_DROP_MAX_LEN, FT_DROP_NO_TEXT, FT_DROP_TRUNC_NO_TARGET,
       FT_DROP_MIN_TRAINED, FT_DROP_CONTAM, FT_DROP_EXACT, FT_DROP_NEAR, FT_DROP_SAMPLE, FT_DROP_HEAD,
       FT_DROP_BAD, FT_DROP_N };
int ft_fstats_add_len(ft_fstats *s, uint32_t len);
json_t *ft_fstats_json(const ft_fstats *s);   // counts, length percentiles and histogram
void ft_fstats_free(ft_fstats *s);

#endif
