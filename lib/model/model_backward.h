// model_backward.h — the whole-model backward pass, composed from the op table's backward
// functions in the reverse order of ft_model_forward (model_forward.c), reading the
// activations it kept (ft_acts in train mode). Two modes:
//   full fine-tuning: grads is a (n_params,) buffer laid out like model->params (tied
//                     embeddings share one gradient, so both uses accumulate into it);
//   LoRA:             grads = NULL (base frozen); every attached hook with dA/dB set
//                     (lib/peft/lora.h ft_adapter_alloc_grads) receives its gradients.
// Gradients ACCUMULATE (callers zero them once per optimizer step), so micro-batches of
// gradient accumulation simply add up; grad_scale (1 / target tokens of the whole step)
// makes the sum the gradient of the step's mean loss.
#ifndef FT_MODEL_BACKWARD_H
#define FT_MODEL_BACKWARD_H

#include "model/model.h"

typedef struct {
    int N;                    // capacity in positions (B*T)
    float *buf;
    float *dres;              // (N, C) gradient of the residual stream
    float *dln;               // (N, C) gradient of a norm output
    float *dq, *datt;         // (N, Hq*D)
    float *dk, *dv;           // (N, Hkv*D)
    float *dgate, *dup, *dact;// (N, F)
    float *lora_buf;          // (N, 2r + max out) LoRA scratch, grown on demand
    size_t lora_cap;
    const ft_ops *ops;        // the op table whose buffers these are
    float *dkn;               // (N, Hkv*D) gradient of k before its per-head norm (q/k-norm rows)
} ft_backward_ws;

// The backward's buffers for B rows of T positions on the CPU table, or on m's (what
// ft_model_backward needs when m is on a device).
int ft_backward_alloc(ft_backward_ws *ws, const ft_config *c, int B, int T);
int ft_model_backward_alloc(const ft_model *m, ft_backward_ws *ws, int B, int T);
void ft_backward_free(ft_backward_ws *ws);

// After ft_model_forward(m, a, tokens, pos, doc, B, T) (same tokens and doc, NULL = one
// document per row): compute the LM-head cross
// entropy at positions with mask != 0 against targets (B*T) and backpropagate
// d(loss_sum * grad_scale). Returns the summed (unscaled) loss, or NaN on allocation failure
// (message set).
double ft_model_backward(ft_model *m, ft_acts *a, ft_backward_ws *ws, const int32_t *tokens,
                         const int32_t *doc, const int32_t *targets, const uint8_t *mask, int B, int T, float *grads,
                         float grad_scale);
// The same with the loss head's per-row outputs and per-position gradient weights
// (ft_loss_rows, lib/model/model.h; NULL = ft_model_backward): a sequence-level objective
// (lib/train/objective.h) back-propagates its loss with rows->gweight in place of grad_scale.
double ft_model_backward_rows(ft_model *m, ft_acts *a, ft_backward_ws *ws, const int32_t *tokens,
                              const int32_t *doc, const int32_t *targets, const uint8_t *mask, int B, int T,
                              float *grads, float grad_scale, const ft_loss_rows *rows);

// Gradient slot of a parameter pointer inside model->params (grads laid out like params).
static inline float *ft_grad_slot(const ft_model *m, float *grads, const float *p) {
    return grads && p ? grads + (p - m->params) : NULL;
}

// Backward of decoder layer l (lib/model/model_block.c, the mirror of ft_block_forward's steps):
// ws->dres holds the gradient of the layer's output on entry and of its input on return;
// base gradients into grads (full fine-tuning, or NULL), adapter gradients into the hooks;
// prefix: prompt/prefix tuning's virtual keys/values get theirs (lib/model/virtual.h).
void ft_block_backward(ft_model *m, int l, const ft_layer_acts *la, const ft_acts *a, ft_backward_ws *ws,
                       float *grads, const int32_t *doc, int B, int T, int prefix);

// Backward of one linear layer with its hooks (lib/model/linear.c): dx(N,in) += d(out)/dx;
// dw/db (may be NULL) += base gradients; LoRA/DoRA dA/dB/dmag and bottleneck gradients (when
// set) += adapter gradients. tmp holds ft_linear_scratch(lin, N, 1) floats.
void ft_linear_backward(const ft_ops *ops, const ft_linear *lin, float *dx, float *dw, float *db,
                        const float *dout, const float *x, int N, float *tmp);

#endif
