// objective.h — what a training step minimises, as a table of objectives (ft-train
// --objective NAME). The step (lib/train/train.c) knows only this interface:
//
//   ft_obj_step st = {.o = opts, .targets = T, .examples = E};  obj->begin(&st);
//   for each micro-batch:  token-level:    forward;  xent = backward(grad weight st.grad_scale);
//                                          obj->add(&st, xent, NULL);
//                          sequence-level: [reference pass: ref_logp]; forward; row log-probs;
//                                          obj->row_grad(&st, rows, dlogp); backward with
//                                          gweight = -dlogp[row]; obj->add(&st, xent, rows);
//   loss = obj->end(&st, metrics);       // "loss" and obj->metric[i] in the log line
//
// An objective says what one training example is (rows_per_example consecutive rows of a
// micro-batch: 1 for SFT, 2 for a preference pair), whether it needs a reference pass (the
// frozen base's row log-probabilities, e.g. DPO), and turns log-probabilities into the step's
// loss and its gradient. A token-level objective (SFT) weights every target token the same:
// begin() sets st.grad_scale, the gradient weight of each position, and the model's backward
// takes it as today. A sequence-level one sets row_grad: from one micro-batch's per-row
// summed log-probabilities (ft_model_loss_rows, lib/model/model.h; kernels/ops.h lm_head_xent_rows)
// it gives dL/d row_logp per row, and the backward runs with per-position weights
// gweight[n] = -dL/d row_logp[row[n]] (ft_model_backward_rows, lib/model/model_backward.h), so such
// an objective needs no change to the model or the ops.
//
// Adding an objective = its functions in lib/train/objective_NAME.c (or here) + one row in
// objective.c's table; ft-train's --help and docs/ft-train.md list the names. The preference
// objectives (dpo, simpo, orpo: lib/train/objective_pref.c) are rows of two sequences, chosen
// then rejected, each a summed log-probability of its completion's target tokens; kto is one
// labelled sequence per example, with the micro-batch's KL estimate (computed by the step from
// mismatched prompt/completion pairs) in rows->kl.
#ifndef FT_OBJECTIVE_H
#define FT_OBJECTIVE_H

#include <stdint.h>

#include "optim/train_opts.h"

#define FT_OBJ_MAX_METRICS 10

// One optimizer step's running state (zero-initialised by the caller, then the counts set).
// For an evaluation pass examples and first_targets may be 0: add() counts what it sees and
// end() averages over that (the gradient functions are then not called).
typedef struct {
    const ft_train_opts *o;   // the run's options (--beta, --loss-type, ...)
    uint64_t targets;         // target tokens of the whole step (all its micro-batches)
    uint64_t examples;        // examples of the whole step (its sequences / rows_per_example)
    uint64_t first_targets;   // target tokens of the examples' first sequences (chosen sides)
    float grad_scale;         // token-level: the gradient weight of every position (begin sets it)
    double loss_sum;          // the objective's accumulators
    double n_added;           // examples add() has seen
    double acc[FT_OBJ_MAX_METRICS + 2];
} ft_obj_step;

// One micro-batch's sequences as a sequence-level objective sees them: n = rows_per_example
// x examples, an example's sequences consecutive (chosen, rejected).
typedef struct {
    const double *logp;       // (n) the policy's summed log-probabilities of each sequence's targets
    const double *ref_logp;   // (n) the reference's (needs_reference), else NULL
    const uint32_t *ntok;     // (n) target tokens of each sequence
    int n;
    const uint8_t *label;     // (n) labelled objectives (kto): 1 desirable, 0 undesirable
    double kl;                // kto: the micro-batch's KL estimate (no gradient through it)
} ft_obj_rows;

typedef struct ft_objective {
    const char *name;         // --objective NAME
    const char *summary;      // one line for --help
    int rows_per_example;     // consecutive sequences of a micro-batch that form one example
                              // (2: the data must be a preference-pair stream)
    int needs_reference;      // add()/row_grad() get the reference model's log-probabilities
    int labeled;              // the data is a labelled stream (kto); rows->label, rows->kl set
    int n_metric;             // extra keys of the log line, after "loss" (names in metric)
    const char *metric[FT_OBJ_MAX_METRICS];
    // The objective's options (NULL: none); -1 with a message naming the flag.
    int (*check)(const ft_train_opts *o);
    void (*begin)(ft_obj_step *st);
    // Sequence-level objectives only (NULL = token-level, weights st->grad_scale): dL/d logp
    // of each of the micro-batch's sequences into dlogp(rows->n), L the step's loss.
    int (*row_grad)(ft_obj_step *st, const ft_obj_rows *rows, double *dlogp);
    // After a micro-batch's backward (or an evaluation forward): its summed cross-entropy and,
    // for sequence-level objectives, its sequences (else NULL).
    void (*add)(ft_obj_step *st, double xent_sum, const ft_obj_rows *rows);
    // The step's loss; metrics(n_metric) receives the values of the metric keys.
    double (*end)(const ft_obj_step *st, double *metrics);
} ft_objective;

// The objective called name; NULL with a message listing the known names when there is none.
const ft_objective *ft_objective_find(const char *name);
// The known names, comma-separated ("sft, dpo, ..."), for help and messages.
const char *ft_objective_names(void);

#endif
