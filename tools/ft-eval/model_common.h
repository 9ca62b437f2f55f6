// model_common.h — what ft-eval's model-running subcommands (ppl, generate) share: the
// global options (--model, --adapter..., -o, --threads, --device, -q, -v), opening the model
// with its adapters, and its tokenizer.
#ifndef FT_EVAL_MODEL_COMMON_H
#define FT_EVAL_MODEL_COMMON_H

#include "model/model.h"

#define FT_EVAL_MAX_ADAPTERS 16

typedef struct {
    const char *model;
    const char *adapters[FT_EVAL_MAX_ADAPTERS];
    int n_adapters;
    const char *out;          // -o (NULL = stdout)
    const char *device;       // "cpu" (default) or "cuda"
    int threads;              // 0 = OpenMP default
    const char *quantize;     // --quantize nf4: the base's linears as NF4-DQ (as QLoRA trained them)
    const char *weights;      // --weights auto (NULL), native or f32: a GGUF's frozen weights kept compact or as f32
    struct ft_adapter_list *held;
} ft_eval_common;

// Consume argv[*i] (and its value) when it is a common option: 1 consumed, 0 not one,
// -1 usage error (message printed, caller returns FT_EXIT_USAGE).
int ft_eval_common_opt(ft_eval_common *c, const char *prog, int argc, char **argv, int *i);
// Load --model, apply --adapter dirs, select the op table. NULL with ft_errmsg() set.
ft_model *ft_eval_open_model(ft_eval_common *c);
void ft_eval_close_model(ft_eval_common *c, ft_model *m);
// Options help block shared by the subcommands.
extern const char ft_eval_common_help[];

#endif
