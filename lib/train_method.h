// train_method.h — what ft-train trains (--method): the base model as the method needs it
// (f32, or NF4 for qlora), the trainable parameters as one flat buffer with its gradients
// (what the optimizer and the checkpoints see), the optimizer's weight-decay table, and the
// output each method writes:
//   full     every weight                       -> HF model dir
//   lora     LoRA (or DoRA with --dora) A/B(/m)  -> PEFT LORA adapter      (lib/lora.h, dora.h)
//   qlora    LoRA on an NF4-DQ frozen base       -> PEFT LORA adapter      (lib/qweight.h)
//   prompt   soft prompt (n, C)                 -> PEFT PROMPT_TUNING     (lib/virtual.h)
//   prefix   per-layer key/value prefixes       -> PEFT PREFIX_TUNING     (lib/virtual.h)
//   adapter  bottleneck adapters                -> BOTTLENECK adapter dir (lib/bottleneck.h)
#ifndef FT_TRAIN_METHOD_H
#define FT_TRAIN_METHOD_H

#include <stddef.h>

#include "bottleneck.h"
#include "lora.h"
#include "model.h"
#include "optim.h"
#include "train.h"
#include "virtual.h"

typedef enum { FT_M_FULL, FT_M_LORA, FT_M_QLORA, FT_M_PROMPT, FT_M_PREFIX, FT_M_ADAPTER } ft_method;

typedef struct {
    ft_method kind;
    const char *name;          // "full", "lora", ...
    ft_model *m;
    float *params, *grads;     // (n,) the trainable parameters and their gradients
    size_t n;
    size_t n_base;             // parameters of the base model (quantized ones included)
    int n_virtual;             // positions prompt/prefix add to every row (0 otherwise)
    ft_adapter ad;             // lora, qlora
    ft_virtual *virt;          // prompt, prefix
    ft_bottleneck_set *bn;     // adapter
} ft_trainable;

// "full" | "lora" | ... -> kind; -1 with a message listing the methods.
int ft_method_parse(const char *s, ft_method *kind);
// Load the base model of o->model as the method needs it and create the trainable parameters
// (seeded by o->seed). -1 with a message; ft_trainable_close is safe afterwards either way.
int ft_trainable_open(ft_trainable *tr, const ft_train_opts *o);
// The optimizer over tr->params (full: no weight decay on norms and biases, as HF Trainer).
int ft_trainable_optim(const ft_trainable *tr, ft_optim *opt, ft_adamw_cfg ac);
// One line for the log: method, trainable parameters and their fraction of the base.
void ft_trainable_describe(const ft_trainable *tr, const ft_train_opts *o, char *buf, size_t cap);
// Write the method's output into dir.
int ft_trainable_save(const ft_trainable *tr, const char *dir, const char *base_model);
void ft_trainable_close(ft_trainable *tr);

#endif
