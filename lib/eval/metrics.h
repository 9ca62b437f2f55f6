// metrics.h — text metrics for ft-eval score/compare: SQuAD exact match and token F1,
// corpus BLEU and chrF exactly as sacrebleu 2.x defaults, ROUGE-1/2/L/Lsum as Google's
// rouge-score (with its Porter stemmer, NLTK_EXTENSIONS mode), and seeded bootstrap helpers.
// Strings are (pointer, length) pairs of valid UTF-8; embedded NULs are ordinary characters.
// Scales follow the references: em/f1 0-100 (SQuAD script), bleu/chrf 0-100 (sacrebleu),
// rouge 0-1 (rouge-score).
#ifndef FT_METRICS_H
#define FT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

typedef struct {
    const char *s;
    size_t n;
} ft_str;

// ---- interning of tokens (byte strings -> dense ids) ----------------------------------
typedef struct ft_vocab ft_vocab;
ft_vocab *ft_vocab_new(void);
void ft_vocab_free(ft_vocab *v);
// Id of the token (added when new); -1 on allocation failure.
int32_t ft_vocab_id(ft_vocab *v, const char *s, size_t n);

// ---- text helpers (metrics_text.c) -------------------------------------------------------
// Python's str.isspace() for a code point (the set str.split() splits on).
int ft_py_isspace(uint32_t cp);
// Decode UTF-8 into code points (malloc'd into *cps); invalid bytes decode as U+FFFD.
int ft_utf8_decode(const char *s, size_t n, uint32_t **cps, size_t *ncp);

// SQuAD answer normalization: lowercase, drop ASCII punctuation, drop the words a/an/the,
// collapse whitespace. Result malloc'd, NUL-terminated.
char *ft_squad_normalize(const char *s, size_t n, size_t *outlen);
// Exact match (0 or 100) and token F1 (0..100), max over references (SQuAD v2 script:
// an empty answer against an empty answer scores 100).
int ft_squad_scores(ft_str pred, const ft_str *refs, int nrefs, double *em, double *f1);

// ---- BLEU (metrics_bleu.c) ---------------------------------------------------------------
enum { FT_BLEU_TOK_13A = 0, FT_BLEU_TOK_INTL, FT_BLEU_TOK_CHAR, FT_BLEU_TOK_NONE };
#define FT_BLEU_ORDER 4
// Sufficient statistics of one segment: hyp_len, ref_len, correct[4], total[4].
#define FT_BLEU_NSTATS (2 + 2 * FT_BLEU_ORDER)

int ft_bleu_tok_parse(const char *name);   // -1 when unknown
const char *ft_bleu_tok_name(int tok);
// Tokenize as sacrebleu does (rstrip, then the tokenizer), joined by single spaces; malloc'd.
char *ft_bleu_tokenize(int tok, const char *s, size_t n, size_t *outlen);

typedef struct ft_bleu ft_bleu;
ft_bleu *ft_bleu_new(int tok);
void ft_bleu_free(ft_bleu *b);
// Statistics of one hypothesis against its references (n-gram counts clipped by the max
// count over references, reference length closest to the hypothesis length, ties -> shorter).
int ft_bleu_segment(ft_bleu *b, ft_str hyp, const ft_str *refs, int nrefs, double stats[FT_BLEU_NSTATS]);

typedef struct {
    double score, bp, ratio, precisions[FT_BLEU_ORDER];
    double hyp_len, ref_len, counts[FT_BLEU_ORDER], totals[FT_BLEU_ORDER];
} ft_bleu_result;
// BLEU from (summed) statistics with exponential smoothing; effective_order as sacrebleu's
// sentence_bleu (1) or corpus_bleu (0).
double ft_bleu_from_stats(const double stats[FT_BLEU_NSTATS], int effective_order, ft_bleu_result *out);
// sacrebleu's signature, e.g. "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0";
// nrefs < 0 prints "var".
void ft_bleu_signature(char *buf, size_t cap, int nrefs, int tok);

// ---- chrF (metrics_bleu.c): char order 6, word order 0, beta 2, whitespace dropped -------
#define FT_CHRF_ORDER 6
#define FT_CHRF_NSTATS (3 * FT_CHRF_ORDER)   // per order: hyp count, ref count, matches
int ft_chrf_segment(ft_str hyp, const ft_str *refs, int nrefs, double stats[FT_CHRF_NSTATS]);
double ft_chrf_from_stats(const double stats[FT_CHRF_NSTATS]);
void ft_chrf_signature(char *buf, size_t cap, int nrefs);

#define FT_SACREBLEU_VERSION "2.6.0"

// ---- ROUGE (metrics_rouge.c) -------------------------------------------------------------
enum { FT_ROUGE_1 = 0, FT_ROUGE_2, FT_ROUGE_L, FT_ROUGE_LSUM, FT_ROUGE_N };
extern const char *const ft_rouge_names[FT_ROUGE_N];   // "rouge1","rouge2","rougeL","rougeLsum"
typedef struct ft_rouge ft_rouge;
ft_rouge *ft_rouge_new(int stem);
void ft_rouge_free(ft_rouge *r);
// rouge-score's tokenizer: lowercase, every run of non [a-z0-9] is a separator, Porter stem
// on tokens longer than 3 when stemming. Token ids into *ids (malloc'd).
int ft_rouge_tokenize(ft_rouge *r, const char *s, size_t n, int32_t **ids, size_t *nids);
// F-measure of each variant, the best reference per variant (score_multi semantics).
int ft_rouge_score(ft_rouge *r, ft_str hyp, const ft_str *refs, int nrefs, double f[FT_ROUGE_N]);

// ---- Porter stemmer (porter.c): NLTK's PorterStemmer() default mode ---------------------
// Stems the lowercase ASCII word w[0..n) in place; returns the new length (<= n + 1; the
// buffer must have room for n + 2 bytes).
size_t ft_porter_stem(char *w, size_t n);

// ---- bootstrap (bootstrap.c) -------------------------------------------------------------
// Percentile (linear interpolation, like numpy's default) of an array that is sorted in place.
double ft_percentile(double *x, size_t n, double q);

// A corpus metric computed from summed per-record statistics (dim numbers per record).
typedef double (*ft_stat_metric)(const double *sum, size_t n, void *ctx);
// 95% percentile CI of the metric over `samples` resamples of n records (with replacement).
// stats: (n, dim). Returns 0 or -1.
int ft_bootstrap_ci(const double *stats, size_t n, size_t dim, ft_stat_metric f, void *ctx, int samples,
                    uint64_t seed, double *lo, double *hi);
// Paired: the same resampled indices for A and B; CI of f(B) - f(A).
int ft_bootstrap_paired(const double *a, const double *b, size_t n, size_t dim, ft_stat_metric f, void *ctx,
                        int samples, uint64_t seed, double *lo, double *hi);
// Ready-made metric: mean of column 0 (sum[0] / n).
double ft_stat_mean(const double *sum, size_t n, void *ctx);

#endif
