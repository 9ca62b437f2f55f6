// dora.h — DoRA (weight-decomposed LoRA, Liu et al. 2024; PEFT use_dora) on one linear:
//   V = W + scale * B @ A,  n = ||V||_row,  y = b + (mag / n) * (V x)
// with mag = lora_magnitude_vector (out), initialized to ||W||_row so step 0 equals the base.
// Called by lib/model/linear.c when lin->lora->mag is set.
//
// As PEFT (huggingface/peft):
//  - src/peft/tuners/lora/dora.py DoraLinearLayer.get_weight_norm: torch.linalg.norm(W + scaling *
//    lora_weight, dim=1) — the norm of each OUTPUT ROW of the (out, in) nn.Linear weight;
//    _update_layer: the magnitude parameter starts as that norm with B = 0, i.e. ||W||_row;
//  - forward: result_dora = (mag/n - 1) * (x W^T) + (mag/n) * scaling * B(A(x)), added to the base
//    result x W^T + b: the bias stays outside the rescaling (PEFT subtracts it from base_result);
//  - src/peft/tuners/lora/variants.py DoraLinearVariant.merge_safe: W' = (mag / n)_row * (W + delta),
//    bias unchanged;
//  - src/peft/utils/save_and_load.py get_peft_model_state_dict: the parameter
//    "...q_proj.lora_magnitude_vector.default.weight" is saved as "...q_proj.lora_magnitude_vector"
//    (".weight" removed for compatibility, then the adapter name); set_peft_model_state_dict adds
//    it back on load. adapter_config.json says "use_dora": true.
// One difference: PEFT detaches n from the graph (the paper's sec. 4.3 memory saving), so its
// gradients of A and B ignore n's dependence on them; ft_dora_backward is the exact gradient
// (the values of y are identical; docs/methods.md).
#ifndef FT_DORA_H
#define FT_DORA_H

#include <stddef.h>
#include "model/model.h"

// out already holds the base x @ W^T + b; turn it into the DoRA output.
void ft_dora_forward(const ft_ops *ops, const ft_linear *lin, float *out, const float *x, int N, float *tmp);
// The whole backward of a DoRA linear (base path included): dx += ..., dw/db (may be NULL),
// lora dA/dB/dmag (when set) += gradients.
void ft_dora_backward(const ft_ops *ops, const ft_linear *lin, float *dx, float *dw, float *db, const float *dout,
                      const float *x, int N, float *tmp);
// Scratch floats the forward (backward 0) / backward (1) needs for N rows.
size_t ft_dora_scratch(const ft_linear *lin, int N, int backward);

// mag(out) = ||W||_row (double accumulation), DoRA's init: with B = 0 the forward's norm is
// computed by the same sum, so mag / n == 1 exactly at step 0.
void ft_dora_init_magnitude(const ft_linear *lin, float *mag);
// Row norms n(out) = ||W + scale * B @ A||_row of hook h on lin (tmp: r*out + r*r floats).
void ft_dora_norm(const ft_ops *ops, const ft_linear *lin, const ft_lora *h, float *n, float *tmp);
// PEFT's merge into lin->w: W' = (mag / ||W + scale*B@A||_row) * (W + scale*B@A), in double.
void ft_dora_merge(ft_linear *lin, const ft_lora *h);

#endif
