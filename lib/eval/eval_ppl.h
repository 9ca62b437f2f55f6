// eval_ppl.h — loss over the target tokens of records (the library side of `ft-eval ppl`).
// Records are packed into rows of `cap` positions with document masking (positions restart
// per record; lib/data/rows.h), which gives the numbers of scoring them one by one; a record longer
// than a row is scored in windows overlapping by one token, so every target counts once. With
// a prompt/prefix tuning adapter (lib/model/virtual.h) each row holds one record (window) only, with
// the virtual tokens in front, as PEFT evaluates them.
#ifndef FT_EVAL_PPL_H
#define FT_EVAL_PPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/io.h"
#include "model/model.h"

typedef struct ft_ppl ft_ppl;

// Scorer over m (borrowed) with rows of cap >= 2 positions. per_record: keep each record's
// summed loss and targets. dump (borrowed, may be NULL): every scored position's raw f32
// logits (vocab) are written there in order. NULL + ft_err.
ft_ppl *ft_ppl_new(ft_model *m, int cap, int per_record, ft_writer *dump);
void ft_ppl_free(ft_ppl *p);

// Score record `index` (0-based; records may come in any order, each once): n tokens, mask
// NULL = every token but the first a target. Records with nothing to predict are skipped
// (with a dump, a one-token record still dumps its logits). -1 + ft_err.
int ft_ppl_add(ft_ppl *p, const uint32_t *tokens, const uint8_t *mask, size_t n, size_t index);
// Score what is still pending (call once after the last record). -1 + ft_err.
int ft_ppl_finish(ft_ppl *p);

double ft_ppl_loss_sum(const ft_ppl *p);   // summed cross-entropy over the targets scored
uint64_t ft_ppl_targets(const ft_ppl *p);  // targets scored
// Per record (per_record only): summed loss and targets of record `index` (0, 0 when none).
void ft_ppl_record(const ft_ppl *p, size_t index, double *loss, uint64_t *targets);

#endif
