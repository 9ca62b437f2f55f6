// dora.h — DoRA (weight-decomposed LoRA, Liu et al. 2024; PEFT use_dora) on one linear:
//   V = W + scale * B @ A,  y = b + (mag / ||V||_row) * (V x)
// with mag = lora_magnitude_vector (out), initialized to ||W||_row so step 0 equals the base.
// Called by lib/linear.c when lin->lora->mag is set.
#ifndef FT_DORA_H
#define FT_DORA_H

#include <stddef.h>
#include "model.h"

// out already holds the base x @ W^T + b; turn it into the DoRA output.
void ft_dora_forward(const ft_ops *ops, const ft_linear *lin, float *out, const float *x, int N, float *tmp);
// The whole backward of a DoRA linear (base path included): dx += ..., dw/db (may be NULL),
// lora dA/dB/dmag (when set) += gradients.
void ft_dora_backward(const ft_ops *ops, const ft_linear *lin, float *dx, float *dw, float *db, const float *dout,
                      const float *x, int N, float *tmp);
// Scratch floats the forward (backward 0) / backward (1) needs for N rows.
size_t ft_dora_scratch(const ft_linear *lin, int N, int backward);

#endif
