// eval_choice.h — multiple choice by log-likelihood, as lm-evaluation-harness scores it (the
// library side of `ft-eval choice`): a choice's score is the summed log-probability of its
// tokens after the context. Context and context+choice are encoded separately, with the
// context's trailing whitespace moved to the choice; the context starts with BOS when the
// tokenizer adds one, and an empty context starts from EOS (the harness's end-of-text).
// Sequences longer than the model's context are cut on the left. Rows: lib/data/rows.h.
#ifndef FT_EVAL_CHOICE_H
#define FT_EVAL_CHOICE_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "tokenize/tokenizer.h"

typedef struct ft_choice_scorer ft_choice_scorer;

// A scorer over model m and its tokenizer tok (both borrowed; they outlive it). NULL + ft_err.
ft_choice_scorer *ft_choice_scorer_new(ft_model *m, const ft_tokenizer *tok);
void ft_choice_scorer_free(ft_choice_scorer *c);

// Summed log-probability of the n_cont tokens cont following the n_ctx tokens ctx (n_ctx >= 1).
// -1 + ft_err when the continuation does not fit the context or the forward fails.
int ft_choice_loglik(ft_choice_scorer *c, const uint32_t *ctx, size_t n_ctx, const uint32_t *cont, size_t n_cont,
                     double *ll);

// ll[k] = log-likelihood of choices[k] (lens[k] bytes) after the context text ctx. 0 ok;
// -2 + ft_err for a bad record (a choice that adds no token, an empty context without EOS/BOS);
// -1 + ft_err otherwise.
int ft_choice_score(ft_choice_scorer *c, const char *ctx, size_t ctx_len, const char *const *choices,
                    const size_t *lens, size_t n, double *ll);

#endif
