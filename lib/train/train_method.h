// train_method.h — what ft-train trains (--method), through the PEFT kind table
// (lib/peft/peft_kind.h): the base model as the kind needs it (f32, or NF4 for qlora), the
// trainable parameters as one flat buffer with its gradients (what the optimizer and the
// checkpoints see), the optimizer's weight-decay table, the per-micro-batch preparation
// (LoRA dropout), enable/disable for a reference pass, and the output the kind writes:
//   full     every weight                       -> HF model dir
//   lora     LoRA (or DoRA with --dora) A/B(/m)  -> PEFT LORA adapter      (lib/peft/lora.h, dora.h)
//   qlora    LoRA on an NF4-DQ frozen base       -> PEFT LORA adapter      (lib/model/qweight.h)
//   prompt   soft prompt (n, C)                 -> PEFT PROMPT_TUNING     (lib/model/virtual.h)
//   prefix   per-layer key/value prefixes       -> PEFT PREFIX_TUNING     (lib/model/virtual.h)
//   adapter  bottleneck adapters                -> BOTTLENECK adapter dir (lib/model/bottleneck.h)
// The training loop (train.c) sees only this interface, never a method by name.
#ifndef FT_TRAIN_METHOD_H
#define FT_TRAIN_METHOD_H

#include <stddef.h>

#include "model/model.h"
#include "optim/optim.h"
#include "peft/peft_kind.h"
#include "train/train.h"

// ft_trainable (the kind, the model, the flat trainable buffer): lib/peft/peft_kind.h.

// Load the base model of o->model as the method needs it and create the trainable parameters
// (seeded by o->seed). -1 with a message; ft_trainable_close is safe afterwards either way.
// Unknown methods are refused with the list of them.
int ft_trainable_open(ft_trainable *tr, const ft_train_opts *o);
// The optimizer over tr->params (full: no weight decay on norms and biases, as HF Trainer).
int ft_trainable_optim(const ft_trainable *tr, ft_optim *opt, ft_adamw_cfg ac);
// One line for the log: method, trainable parameters and their fraction of the base.
void ft_trainable_describe(const ft_trainable *tr, const ft_train_opts *o, char *buf, size_t cap);
// Before the forward of micro-batch `micro` of step `step` (micro < 0: evaluation).
void ft_trainable_prepare(ft_trainable *tr, const ft_train_opts *o, long step, int micro);
// Compute without (on = 0) / with (on = 1) the trained parameters; -1 with a message when the
// method cannot (full fine-tuning has no separate reference).
int ft_trainable_enable(ft_trainable *tr, int on);
// Write the method's output into dir.
int ft_trainable_save(const ft_trainable *tr, const char *dir, const char *base_model);
void ft_trainable_close(ft_trainable *tr);

// ---- on a device (lib/train/train_device.c) ----
// What ft_trainable_to_device moved: the device, the kind's own host pointers (restored by
// ft_trainable_release_device) and the host staging of the parameters, planned once.
typedef struct {
    const ft_ops *ops;        // the device; NULL: the trainable is in host memory (the CPU)
    int base;                 // the kind trains the base weights (tr->params was m->params)
    float *host_params, *host_grads, *host_base_grads;  // the kind's, before the move
    float *stage;             // (n) host staging: the kind's own buffer (adapters) or own_stage
    int own_stage;
    float *own_grads;         // device gradients allocated here (base), else the model's LoRA copies'
} ft_trainable_dev;
// Move tr (after ft_trainable_open) onto ops: the model (ft_model_to_device), tr->params and
// tr->grads as device buffers (gradients zeroed). On a host-memory table only m->ops changes
// and d->ops stays NULL. Refused with the reason when the move cannot be made (the model's
// refusals, a trainable buffer that is not exactly the base weights, the LoRA/DoRA hooks'
// A/B(/mag), the bottleneck set's or the virtual tokens' device copy, an op the device lacks). -1 with a message; ft_trainable_release_device is safe afterwards.
int ft_trainable_to_device(ft_trainable *tr, ft_trainable_dev *d, const ft_ops *ops, const ft_train_opts *o);
// The parameters device -> staging / staging -> device (no-ops in host memory).
int ft_trainable_download(const ft_trainable *tr, const ft_trainable_dev *d);
int ft_trainable_upload(ft_trainable *tr, const ft_trainable_dev *d);
// Where the host reads and writes the parameters: the staging on a device, else tr->params.
float *ft_trainable_host_params(const ft_trainable *tr, const ft_trainable_dev *d);
// ft_trainable_save from the downloaded parameters.
int ft_trainable_save_staged(const ft_trainable *tr, const ft_trainable_dev *d, const char *dir,
                             const char *base_model);
// Before ft_trainable_close: frees what ft_trainable_to_device allocated, gives tr its
// host pointers back.
void ft_trainable_release_device(ft_trainable *tr, ft_trainable_dev *d);

#endif
