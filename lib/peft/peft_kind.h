// peft_kind.h — PEFT kinds as one table. Each kind (what ft-train --method trains and what an
// adapter directory holds) is one descriptor: its names, its training side (base model,
// trainable buffer, weight-decay table, per-micro-batch preparation, enable/disable for a
// reference pass, save) and its adapter-directory side (load for ft-eval --adapter, merge or
// refuse-with-reason for ft-merge). The rows:
//   method   peft_type       writes     files
//   full     -               HF model   peft_full.c       (model_save.c)
//   lora     LORA            adapter    peft_lora.c       (lora.c, dora.c, lora_targets.c)
//   qlora    LORA            adapter    peft_lora.c       (lora on an NF4 base: qweight.c)
//   prompt   PROMPT_TUNING   adapter    peft_virtual.c    (virtual.c, virtual_io.c)
//   prefix   PREFIX_TUNING   adapter    peft_virtual.c    (virtual.c, virtual_io.c)
//   adapter  BOTTLENECK      adapter    peft_bottleneck.c (bottleneck.c, bottleneck_io.c)
// DoRA and rsLoRA are options of lora (--dora, --rslora; use_dora / use_rslora in the file).
// The registry (peft_kinds.c) lists the rows; no code outside the rows and the registry
// compares a method or peft_type name. Adding a kind = its own files + one row + one registry
// line (see peft_kinds.c).
#ifndef FT_PEFT_KIND_H
#define FT_PEFT_KIND_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

// Only named here: the kind table sits below the trainer (lib/train/train.h, lib/optim/optim.h), whose
// types the rows' training functions take.
struct json_t;
struct ft_train_opts;
struct ft_optim;

// What a kind trains, as the training loop (train.c) sees it: the kind's row, the model, one
// flat buffer of trainable parameters with its gradients, and the kind's own state.
typedef struct ft_trainable {
    const struct ft_peft_kind *kind;  // the row of --method
    const char *name;          // kind->method: "full", "lora", ...
    ft_model *m;
    float *params, *grads;     // (n,) the trainable parameters and their gradients
    size_t n;
    size_t n_base;             // parameters of the base model (quantized ones included)
    int n_virtual;             // positions the kind adds in front of every row (0: none; rows
                               // then hold one record each, no packing, no document ids)
    float *base_grads;         // where the backward writes the base weights' gradients (full
                               // fine-tuning: == grads), or NULL
    void *state;               // the kind's own (ft_adapter, ft_virtual, ft_bottleneck_set)
} ft_trainable;

// ft-train options that belong to some kinds only (ft_peft_kind.opts): given to another kind
// they are refused, naming the kinds that take them.
#define FT_PEFT_OPT_DORA 1u              // --dora
#define FT_PEFT_OPT_PROMPT_INIT 2u       // --prompt-init
#define FT_PEFT_OPT_PREFIX_PROJECTION 4u // --prefix-projection

// What ft-merge asks of one adapter's merge.
typedef struct {
    double weight;            // --weight of the adapter
    float limit;              // largest |w| the output dtype holds (FLT_MAX; 65504 for f16)
    const char *dtype;        // the output dtype's name, for messages ("f16")
} ft_peft_merge_opts;

typedef struct ft_peft_kind {
    const char *method;       // --method name (unique)
    const char *peft_type;    // adapter_config.json "peft_type" it writes (NULL: no adapter dir)
    const char *output;       // what OUT holds afterwards, for the log: "model" | "adapter"
    unsigned opts;            // FT_PEFT_OPT_* it takes

    // ---- training (ft-train --method; lib/train/train_method.c calls these) ----
    // The base model as the kind trains on it (f32, or NF4 for qlora); NULL with a message.
    ft_model *(*load_base)(const char *path);
    // Check the kind's own options before the base is loaded (NULL: none to check).
    int (*check)(const struct ft_train_opts *o);
    // Create the trainable parameters on tr->m (seeded by o->seed): set tr->state,
    // tr->params, tr->grads, tr->n and, when the kind needs them, tr->n_virtual (positions in
    // front of every row) and tr->base_grads (the backward writes the base weights' gradients).
    int (*open)(ft_trainable *tr, const struct ft_train_opts *o);
    // The weight-decay table over tr->params (after ft_optim_init; NULL: decay everywhere).
    int (*decay_table)(const ft_trainable *tr, struct ft_optim *opt);
    // "what" in the log line "METHOD (WHAT): N trainable parameters, ...".
    void (*describe)(const ft_trainable *tr, const struct ft_train_opts *o, char *buf, size_t cap);
    // Before the forward of micro-batch `micro` of optimizer step `step` (micro < 0: an
    // evaluation pass). NULL: nothing to do. Must depend only on (o, step, micro) so that a
    // resumed run prepares the same.
    void (*prepare)(ft_trainable *tr, const struct ft_train_opts *o, long step, int micro);
    // on = 0: the model computes without the kind's parameters (the reference of a preference
    // objective); on = 1: with them again. -1 with a message when the kind cannot.
    int (*enable)(ft_trainable *tr, int on);
    // Write the kind's output files into dir (the caller writes train_config.json after).
    int (*save)(const ft_trainable *tr, const char *dir, const char *base_model);
    void (*close)(ft_trainable *tr);   // frees tr->state and what open allocated

    // ---- adapter directories (peft_type != NULL) ----
    // Load dir onto m (ft-eval --adapter): attach it, or fold it into the base weights; *held
    // gets what to release after the model is done (may be NULL). NULL: the dir is read by
    // the first row with the same peft_type (qlora's files are lora's).
    int (*apply)(ft_model *m, const char *dir, void **held);
    void (*release)(void *held);
    // Before the base is loaded: 0 when ft-merge can fold dir (config: its adapter_config.json)
    // into W as asked, else -1 with the reason (naming dir). to_gguf_adapter: ft-merge is asked
    // to write dir as a llama.cpp LoRA GGUF (it reads it with ft_adapter_load): refuse unless
    // the kind's files are LoRA's.
    int (*merge_check)(const char *dir, const struct json_t *config, const ft_peft_merge_opts *mo,
                       int to_gguf_adapter);
    // Fold dir into m's weights (scaled by mo->weight), refusing non-finite or unrepresentable
    // results (nothing is changed on disk); info gets a short description for the log
    // ("r=8, alpha=16"). NULL: the kind cannot be merged (merge_check refuses).
    int (*merge)(ft_model *m, const char *dir, const ft_peft_merge_opts *mo, char *info, size_t cap);
} ft_peft_kind;

// ---- the registry (peft_kinds.c) ----
int ft_peft_kind_count(void);
const ft_peft_kind *ft_peft_kind_at(int i);   // NULL outside 0..count-1
// The row of --method name; NULL with "--method NAME: expected full, lora, ... or adapter".
const ft_peft_kind *ft_peft_kind_by_method(const char *name);
// The row that reads adapter dirs of peft_type (the first with that type and an apply), or
// NULL (no message).
const ft_peft_kind *ft_peft_kind_find_type(const char *peft_type);
// The same, or NULL with "FILE: peft_type T is not supported (LORA, PROMPT_TUNING, ...)".
const ft_peft_kind *ft_peft_kind_by_type(const char *peft_type, const char *file);
// The same for ft-merge: unknown types get "FILE: peft_type is T, expected "LORA"" (the
// types some row can merge).
const ft_peft_kind *ft_peft_kind_for_merge(const char *peft_type, const char *file);
// Options of o that k does not take: -1 with "--dora goes with --method lora ..." (0: none).
int ft_peft_kind_check_opts(const ft_peft_kind *k, const struct ft_train_opts *o);

// The rows (peft_full.c, peft_lora.c, peft_virtual.c, peft_bottleneck.c): the loaders and
// writers of each kind's files take their peft_type from here.
extern const ft_peft_kind ft_peft_full, ft_peft_lora, ft_peft_qlora, ft_peft_prompt, ft_peft_prefix,
    ft_peft_bottleneck;

#endif
