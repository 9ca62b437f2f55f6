// eval_bench.h — log-likelihood scoring of benchmark items' requests (lib/eval/bench_task.h)
// as lm-evaluation-harness's HF model scores them: the context's trailing whitespace
// (Python's str.isspace) moves to the continuation, context and context+continuation are
// encoded separately and the continuation is what the whole adds after the context's tokens;
// BOS in front when the tokenizer adds one. Three ways to run them, the same numbers:
//   FT_BENCH_PACKED  whole sequences of many requests packed into one row (positions restart,
//                    attention stays within each sequence): few, large forwards (default; on
//                    host-memory op tables, else WHOLE)
//   FT_BENCH_SHARED  a context shared by the choices goes once through a KV cache and each
//                    choice is decoded after it: fewer positions, one forward per choice
//   FT_BENCH_WHOLE   one forward per request (lib/eval/eval_choice.h, the `choice` path)
// A sequence longer than the model's context (cut on the left) or than the packed row, and a
// model with virtual tokens, take the WHOLE path.
#ifndef FT_EVAL_BENCH_H
#define FT_EVAL_BENCH_H

#include <stddef.h>

#include "eval/bench_task.h"
#include "model/model.h"
#include "tokenize/tokenizer.h"

typedef struct ft_bench_scorer ft_bench_scorer;

enum { FT_BENCH_PACKED = 0, FT_BENCH_SHARED, FT_BENCH_WHOLE };
extern const char *const ft_bench_path_names[3];   // "packed", "shared", "whole"

// m and tok are borrowed; path FT_BENCH_*. NULL + ft_err.
ft_bench_scorer *ft_bench_scorer_new(ft_model *m, const ft_tokenizer *tok, int path);
// The path actually taken (PACKED falls back to WHOLE on a device the host cannot read).
int ft_bench_scorer_path(const ft_bench_scorer *s);
void ft_bench_scorer_free(ft_bench_scorer *s);

typedef struct {
    size_t ctx_tokens;         // context tokens of the item (summed over its distinct contexts)
    size_t cont_tokens;        // continuation tokens, all choices
    size_t forwarded;          // positions run through the model
} ft_bench_counts;

// ll[i][k] = log-likelihood of items[i].cont[k] after items[i].ctx[k], for n items. Adds to
// *counts (may be NULL). 0 ok; -2 + ft_err for a request that cannot be scored (a continuation
// that adds no token; the message names "item I choice K"); -1 otherwise.
int ft_bench_score(ft_bench_scorer *s, const ft_bench_item *items, size_t n, double *const *ll, ft_bench_counts *counts);

// The token ids of one request, as ft_bench_score encodes it: *ctx (n_ctx, BOS first when the
// tokenizer adds one) and *cont (n_cont), malloc'd. For tests and --dump. 0, -2, -1 as above.
int ft_bench_encode(const ft_tokenizer *tok, const char *ctx, const char *cont, uint32_t **ctx_ids, size_t *n_ctx,
                    uint32_t **cont_ids, size_t *n_cont);

#endif
