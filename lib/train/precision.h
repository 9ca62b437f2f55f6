// precision.h — resolving ft-train's --precision to the op table a run trains on (precision.c).
#ifndef FT_TRAIN_PRECISION_H
#define FT_TRAIN_PRECISION_H

#include <stddef.h>

#include "ops.h"
#include "optim/train_opts.h"

// ops: the --device table. Returns the table to train on (ops itself at f32, the cpu-bf16
// table at bf16) with *name "f32" or "bf16" and *why the reason ("--precision", "this CPU's
// fastest", "the checkpoint's"); NULL + ft_err() for a bad value, bf16 off the cpu device, or a
// --resume whose checkpoint was trained at another precision than the one asked for.
// n_params: the trainable count (finds the checkpoint).
const ft_ops *ft_train_precision(const ft_train_opts *o, const ft_ops *ops, size_t n_params, const char **name,
                                 const char **why);

#endif
