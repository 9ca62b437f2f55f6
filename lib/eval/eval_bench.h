// eval_bench.h — log-likelihood scoring of a benchmark item's requests (lib/eval/bench_task.h)
// as lm-evaluation-harness's HF model scores them: the context's trailing whitespace
// (Python's str.isspace) moves to the continuation, context and context+continuation are
// encoded separately and the continuation is what the whole adds after the context's tokens;
// BOS in front when the tokenizer adds one. Choices that share a context share its forward:
// the context goes once through a KV cache and each choice is decoded after it (share = 1);
// share = 0 runs every choice as one whole sequence (lib/eval/eval_choice.h, the `choice`
// path), as does a sequence longer than the model's context (cut on the left there) or a
// model with virtual tokens.
#ifndef FT_EVAL_BENCH_H
#define FT_EVAL_BENCH_H

#include <stddef.h>

#include "eval/bench_task.h"
#include "model/model.h"
#include "tokenize/tokenizer.h"

typedef struct ft_bench_scorer ft_bench_scorer;

// m and tok are borrowed. NULL + ft_err.
ft_bench_scorer *ft_bench_scorer_new(ft_model *m, const ft_tokenizer *tok, int share);
void ft_bench_scorer_free(ft_bench_scorer *s);

typedef struct {
    size_t ctx_tokens;         // context tokens of the item (summed over its distinct contexts)
    size_t cont_tokens;        // continuation tokens, all choices
    size_t forwarded;          // positions run through the model
} ft_bench_counts;

// ll[k] = log-likelihood of it->cont[k] after it->ctx[k]. Adds to *counts (may be NULL).
// 0 ok; -2 + ft_err for a request that cannot be scored (a continuation that adds no token);
// -1 otherwise.
int ft_bench_score(ft_bench_scorer *s, const ft_bench_item *it, double *ll, ft_bench_counts *counts);

// The token ids of one request, as ft_bench_score encodes it: *ctx (n_ctx, BOS first when the
// tokenizer adds one) and *cont (n_cont), malloc'd. For tests and --dump. 0, -2, -1 as above.
int ft_bench_encode(const ft_tokenizer *tok, const char *ctx, const char *cont, uint32_t **ctx_ids, size_t *n_ctx,
                    uint32_t **cont_ids, size_t *n_cont);

#endif
