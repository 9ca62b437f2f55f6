// lora.h — LoRA adapters for an ft_model: creation (A Kaiming-uniform like PyTorch's
// nn.Linear default, B zero, so the adapted model starts equal to the base), attachment to
// the model's linear hooks (model.h ft_lora), and the PEFT on-disk layout:
//   DIR/adapter_config.json        peft_type LORA, task_type CAUSAL_LM, r, lora_alpha, ...
//   DIR/adapter_model.safetensors  base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight
//                                  (A: (r, in), B: (out, r)), scale alpha/r or alpha/sqrt(r) (rsLoRA)
// DoRA (cfg.dora, PEFT "use_dora": true) adds per target the magnitude vector
//   ...q_proj.lora_magnitude_vector  (out)   initialized to ||W||_row (lib/model/dora.h)
// All adapter weights and gradients live in two flat buffers (for the optimizer).
#ifndef FT_LORA_H
#define FT_LORA_H

#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

#define FT_LORA_N_TARGETS FT_LIN_COUNT   // a target per linear role (lib/model/arch.h)
#define FT_LORA_ALL FT_LIN_ALL_MASK       // q,k,v,o,gate,up,down

typedef struct {
    int r;                    // rank
    float alpha;              // lora_alpha
    float dropout;            // lora_dropout (applied while training: ft_adapter_set_dropout)
    int rslora;               // scale alpha/sqrt(r) instead of alpha/r
    unsigned targets;         // bit i: linear i of a layer (0 q, 1 k, 2 v, 3 o, 4 gate, 5 up, 6 down)
    int dora;                 // DoRA: a magnitude vector per target (lib/model/dora.h)
    // ---- PEFT's per-module fields (ft-train's options; NULL/0: not used) ----
    const char *layers;       // layers_to_transform: "0,2-5" (--lora-layers)
    const char *rank_pattern; // rank_pattern: "down_proj=16,q_proj=4" (keys are PEFT's patterns)
    const char *alpha_pattern;// alpha_pattern: the same for lora_alpha
    int bias;                 // lora_bias: a trained bias on lora_B (out) per target, init 0
    int gaussian;             // init_lora_weights "gaussian": A ~ N(0, 1/r) instead of Kaiming-uniform
} ft_lora_cfg;

// "q,k,v,o,gate,up,down" (short or PEFT names such as q_proj, comma-separated) or
// "all-linear" -> bit mask. -1 with a message naming the bad item.
int ft_lora_parse_targets(const char *s, unsigned *mask);
float ft_lora_scale(const ft_lora_cfg *c);
// The scale of one module: alpha/r, or alpha/sqrt(r) with rsLoRA.
float ft_lora_scale_of(int r, float alpha, int rslora);

typedef struct {
    ft_lora_cfg cfg;
    int L;
    ft_lora *hooks;           // (L * FT_LIN_COUNT,) hook i*FT_LIN_COUNT+j for linear role j of layer i;
                              // r == 0 when not targeted
    float *params;            // (n_params,) hook by hook: A, B (and mag for DoRA)
    float *grads;             // (n_params,) same layout (allocated by ft_adapter_alloc_grads)
    size_t n_params;
    ft_model *model;          // attached to (NULL after detach)
    float *norms;             // DoRA row norms of a frozen adapter (ft_adapter_apply) or NULL
    float *alpha;             // (L * FT_LIN_COUNT) lora_alpha of each hook (alpha_pattern), 0 when not adapted
    int n_saved;              // modules_to_save tensors copied into the model's weights at load
    struct json_t *fields;    // the adapter_config.json keys that say where r/alpha/targets come from
                              // (target_modules, layers_to_transform, rank_pattern, ...), written back on save
} ft_adapter;

// New adapter for model m: allocates, initializes A from the seeded RNG and B = 0 (DoRA:
// mag = ||W||_row of m's weights, so the adapted model starts equal to the base).
int ft_adapter_new(ft_adapter *a, ft_model *m, const ft_lora_cfg *cfg, uint64_t seed);
int ft_adapter_alloc_grads(ft_adapter *a);
// LoRA dropout for the next forward/backward pair: probability p on every hook's input, the
// masks drawn from seed (each hook its own); p = 0 turns it off (evaluation, inference). When
// the model the adapter is attached to was moved to a device, its copies of the hooks get the
// same (lib/model/model_device.c).
void ft_adapter_set_dropout(ft_adapter *a, float p, uint64_t seed);
// Set (or clear) the model's hook pointers.
void ft_adapter_attach(ft_adapter *a, ft_model *m);
void ft_adapter_detach(ft_adapter *a);
// Fold scale * B @ A into the model's base weights (for stacking several adapters);
// DoRA: W' = (mag / ||W + scale*B@A||_row) * (W + scale*B@A), as PEFT's merge.
// lora_bias is added to the base bias (scaled); call ft_adapter_merge_check first: -1 naming dir
// when a hook has a lora_bias and its base linear no bias (PEFT refuses that merge).
int ft_adapter_merge_check(const ft_adapter *a, const ft_model *m, const char *dir);
void ft_adapter_merge(const ft_adapter *a, ft_model *m);
void ft_adapter_free(ft_adapter *a);

// Write DIR/adapter_config.json and DIR/adapter_model.safetensors (F32), each atomically
// (the adapter must be attached: shapes come from the model's linears).
int ft_adapter_save(const ft_adapter *a, const char *dir, const char *base_model);
// Read a PEFT LoRA adapter dir (F32/F16/BF16 tensors) for model m, check every shape, and
// attach it. Errors name the file and the tensor. The full copies of modules_to_save (e.g.
// base_model.model.lm_head.weight, base_model.model.model.norm.weight) replace the model's own
// tensors (they are weights, not hooks: ft_adapter_save does not write them back).
int ft_adapter_load(ft_adapter *a, ft_model *m, const char *dir);

// Convenience for tools (ft-eval --adapter, repeatable): when m has no adapter attached,
// load DIR, attach it and return it in *out (the caller frees it with ft_adapter_destroy
// after the model is done); otherwise DIR is merged into the base weights (so several
// adapters stack) and *out is NULL. Returns 0/-1. The adapter is taken as frozen: a DoRA
// adapter's row norms are computed once here (and again when a later DIR changes the base
// weights) instead of in every forward; ft_adapter_alloc_grads drops them (training).
int ft_adapter_apply(ft_model *m, const char *dir, ft_adapter **out);
void ft_adapter_destroy(ft_adapter *a);   // ft_adapter_free + free(a); NULL is fine

// PEFT name of hook j of layer l: "base_model.model.model.layers.L.self_attn.q_proj".
void ft_lora_module_name(int l, int j, char *out, size_t cap);

// Which linears of an L-layer model adapter_config.json c selects, as PEFT's
// check_target_module_exists decides it: target_modules (below; absent or null: every linear,
// the tensors then say), minus exclude_modules (a list of names/suffixes, or a full-match
// regex), restricted by layers_to_transform (an int or a list) found by layers_pattern (the
// segment before the layer index; default: the first numbered segment). Returns the count
// selected or -1 with a message naming file and key.
int ft_lora_select(const struct json_t *c, const char *file, int L, unsigned char *sel);
// PEFT's get_pattern_key: the first key K of the object pat (rank_pattern / alpha_pattern)
// with "(.*\.)?(K)$" matching the module name (model.layers.L.mlp.down_proj) from its start;
// its value in *v (an integer for rank_pattern when integer). 1 found, 0 none, -1 error
// (a bad regex, a value of the wrong type) naming file and key.
int ft_lora_pattern(const struct json_t *pat, const char *key, const char *name, const char *file, int integer, double *v);
// Every LoraConfig field PEFT writes that ft does not honour, refused: -1 with
// "FILE: key \"F\": WHAT (ft ...)" when c sets it to anything but its no-op value; 0 otherwise.
int ft_lora_check_fields(const struct json_t *c, const char *file);
// ft-train's --lora-rank-pattern / --lora-alpha-pattern "KEY=V,KEY=V" and --lora-layers
// "0,2-5" as the JSON values PEFT writes; NULL with a message naming flag.
struct json_t *ft_lora_parse_pattern(const char *s, const char *flag, int integer);
struct json_t *ft_lora_parse_layers(const char *s, const char *flag, int L);
// The base model's name of linear j of layer l as PEFT matches it: "model.layers.L.self_attn.q_proj".
void ft_lora_hf_name(int l, int j, char *out, size_t cap);

// Which linears of an L-layer model adapter_config.json's "target_modules" (tm) selects, as
// PEFT matches it against the base model's module names (model.layers.L.self_attn.q_proj):
// a list selects a module whose name equals an entry or ends with "." + entry; a string is a
// regular expression that must match a whole name, or "all-linear". sel (L * 7 bytes) gets
// sel[l * 7 + j] = 1 for each selected one. Returns how many are selected (0: none, as
// PEFT's "Target modules ... not found in the base model"), or -1 with a message naming
// file (wrong type, bad regex).
struct json_t;
int ft_lora_select_targets(const struct json_t *tm, const char *file, int L, unsigned char *sel);
// The module names target_modules may name (for messages): "q_proj, k_proj, ..., down_proj".
const char *ft_lora_target_names(void);

#endif
