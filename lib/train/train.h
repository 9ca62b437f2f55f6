// train.h — the training loop behind ft-train: full fine-tuning, LoRA/DoRA, QLoRA, prompt and
// prefix tuning, bottleneck adapters on the CPU op table,
// AdamW with schedules, gradient accumulation (the loss of a step is the mean over all its
// target tokens across micro-batches), evaluation and early stopping, atomic checkpoints
// with exact resume, metrics JSONL, and a clean stop on request (SIGINT/SIGTERM).
#ifndef FT_TRAIN_H
#define FT_TRAIN_H

#include "optim/train_opts.h"

// Run. 0 = finished, 2 = stopped on request (checkpoint and output saved), -1 = error
// (message set, e.g. "step 12: non-finite loss").
int ft_train_run(const ft_train_opts *o);

#endif
