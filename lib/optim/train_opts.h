// train_opts.h — the options of a training run (ft-train's flags, --config files and
// OUT/train_config.json share one table, lib/optim/train_opts.c): plain data below the PEFT kinds
// (whose rows read their own options) and the loop (lib/train/train.h).
#ifndef FT_TRAIN_OPTS_H
#define FT_TRAIN_OPTS_H

#include <signal.h>
#include <stdint.h>

typedef struct ft_train_opts {
    const char *model, *data, *val, *out, *log;
    const char *method;          // "full" | "lora" | "qlora" | "prompt" | "prefix" | "adapter"
    const char *objective;       // "sft" | "dpo" | "simpo" | "orpo" (lib/train/objective.h)
    const char *loss_type;       // dpo: "sigmoid" | "ipo" | "hinge" | "robust"
    double beta;                 // preference objectives' β (default 0.1)
    double label_smoothing;      // dpo robust, simpo: ε
    double simpo_gamma;          // simpo: γ (default 0.5)
    int precompute_ref;          // dpo: reference log-probabilities computed once before training
    double desirable_weight, undesirable_weight;   // kto: the weights of the two kinds of example (1)
    const char *schedule;        // "cosine" | "linear" | "constant"
    const char *lora_targets;    // "q,v" ... | "all-linear"
    const char *device;          // "cpu", "guard" or "cuda" (ft_ops_by_name)
    const char *precision;       // "f32" | "bf16" | NULL/"auto": the CPU's fastest (lib/train/precision.h)
    double lr, warmup, clip, weight_decay, beta1, beta2, adam_eps;
    double lora_alpha, lora_dropout;
    long epochs, max_steps, batch, grad_accum, batch_tokens, seq_len, seed;
    long eval_every, early_stop, save_every, save_total_limit, skip_nonfinite, lora_r;
    int no_pack, no_shuffle, resume, rslora;
    int dora;                    // --dora: DoRA on the LoRA targets (lora, not qlora)
    const char *lora_layers;     // --lora-layers "0,2-5": PEFT layers_to_transform (NULL: all)
    const char *lora_rank_pattern;  // --lora-rank-pattern "down_proj=16": PEFT rank_pattern
    const char *lora_alpha_pattern; // --lora-alpha-pattern "down_proj=32": PEFT alpha_pattern
    int lora_bias;               // --lora-bias: PEFT lora_bias (a bias on LoRA B)
    const char *lora_init;       // --lora-init default|gaussian: PEFT init_lora_weights
    const char *base_name;       // --base-name: base_model_name_or_path of the adapter written
    long num_virtual_tokens;     // prompt / prefix
    const char *prompt_init;     // prompt: TEXT init (NULL = random)
    int prefix_projection;       // prefix: PEFT's reparameterization MLP
    long prefix_hidden;          // its hidden width (0 = hidden size)
    long adapter_dim;            // adapter: bottleneck width
    const char *adapter_where;   // "attn,mlp" | "attn" | "mlp"
    const char *adapter_act;     // "relu" | "silu" | "gelu"
    long zero;                   // --zero 1: ZeRO-1, each MPI rank keeps its shard of the AdamW state
    const char *tensorboard;     // --tensorboard DIR: the log's scalars as TensorBoard events
    volatile sig_atomic_t *stop; // set asynchronously (signal handler): finish step, save, return 2
    const char *prog;            // the tool's name ("ft-train"); the library prints nothing: its
                                 // messages and progress go to the hooks of lib/core/log.h
} ft_train_opts;

// Defaults of every option (lr 2e-4 for LoRA is the caller's choice: lr defaults to 1e-4).
void ft_train_defaults(ft_train_opts *o);
// The effective options as a JSON object text (keys = flag names), malloc'd.
char *ft_train_opts_json(const ft_train_opts *o);

// Set one option by flag name ("lr", "lora-r"/"lora_r", "no-pack"...) from its text value
// (booleans: NULL/"true"/"1" or "false"/"0"). -1 with a message naming the flag.
int ft_train_set(ft_train_opts *o, const char *name, const char *value);
int ft_train_opt_known(const char *name);
int ft_train_opt_is_bool(const char *name);
int ft_train_opt_is_string(const char *name);
// Apply FILE.json (an object whose keys are flag names). *keep holds the parsed JSON that
// string options point into: release it with ft_train_config_free after the run.
// FILE.yaml / FILE.yml: a YAML mapping of the same keys (train_yaml.c): errors name the line.
int ft_train_load_config(ft_train_opts *o, const char *path, void **keep);
int ft_train_load_yaml(ft_train_opts *o, const char *path, void **keep);
// Apply a parsed JSON object (json_t *) of options; name is used in messages.
int ft_train_apply_json(ft_train_opts *o, const char *name, void *obj);
void ft_train_config_free(void *keep);

#endif
