// objective.h — what a training step minimises, as a table of objectives (ft-train
// --objective NAME). The step (lib/train/train.c) knows only this interface:
//
//   ft_obj_step st = {.targets = T, .examples = E};  obj->begin(&st);
//   for each micro-batch:  forward;  xent = backward(grad weight st.grad_scale);
//                          obj->add(&st, xent, row_logp, ref_logp, n_rows);
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
// Adding an objective = its functions in lib/objective_NAME.c (or here) + one row in
// objective.c's table; ft-train's --help and docs/ft-train.md list the names.
#ifndef FT_OBJECTIVE_H
#define FT_OBJECTIVE_H

#include <stdint.h>

#define FT_OBJ_MAX_METRICS 8

// One optimizer step's running state (zero-initialised by the caller, then the counts set).
typedef struct {
    uint64_t targets;         // target tokens of the whole step (all its micro-batches)
    uint64_t examples;        // examples of the whole step (its rows / rows_per_example)
    float grad_scale;         // token-level: the gradient weight of every position (begin sets it)
    double loss_sum;          // the objective's accumulators
    double acc[FT_OBJ_MAX_METRICS];
} ft_obj_step;

typedef struct ft_objective {
    const char *name;         // --objective NAME
    const char *summary;      // one line for --help
    int rows_per_example;     // consecutive rows of a micro-batch that form one example
    int needs_reference;      // add()/row_grad() get the reference model's row log-probabilities
    int n_metric;             // extra keys of the log line, after "loss" (names in metric)
    const char *metric[FT_OBJ_MAX_METRICS];
    void (*begin)(ft_obj_step *st);
    // Sequence-level objectives only (NULL = token-level, weights st->grad_scale): dL/d logp
    // of each of the micro-batch's n_rows rows into dlogp(n_rows). 0, or -1 with a message.
    int (*row_grad)(ft_obj_step *st, const double *logp, const double *ref_logp, int n_rows, double *dlogp);
    // After a micro-batch's backward: its summed cross-entropy (the backward's return value)
    // and, for sequence-level objectives, its rows' log-probabilities (else NULL, 0).
    void (*add)(ft_obj_step *st, double xent_sum, const double *logp, const double *ref_logp, int n_rows);
    // The step's loss; metrics(n_metric) receives the values of the metric keys.
    double (*end)(const ft_obj_step *st, double *metrics);
} ft_objective;

// The objective called name; NULL with a message listing the known names when there is none.
const ft_objective *ft_objective_find(const char *name);
// The known names, comma-separated ("sft"), for help and messages.
const char *ft_objective_names(void);

#endif
