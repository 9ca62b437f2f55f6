// arch.h — decoder architectures as a table: one ft_arch row per family ft can load, saying
// which config.json model_type and GGUF general.architecture names it accepts and writes, the
// HF and GGUF tensor names (global and per layer, by role), the layer's linears indexed by
// role (FT_LIN_Q..FT_LIN_DOWN: HF short name, module path, GGUF name, shapes, bias), its norms,
// activation and whether llama.cpp stores the Q/K rows permuted.
//
// Rows (lib/model/arch.c): "llama" (also Mistral, SmolLM/SmolLM2, TinyLlama, Llama 3.x: model_type
// llama or mistral, GGUF llama or mistral), "qwen2" (q/k/v biases always, GGUF rows not permuted),
// "qwen3" (per-head q/k RMSNorm before rope, head_dim independent of hidden/heads) and "gemma3"
// (Gemma 3 text: (1 + w) norms, scaled embeddings, GeGLU, pre- and post-norms, q/k norms,
// sliding-window layers with their own rope base, query_pre_attn_scalar).
// The row is found once, when the config is read (ft_config.arch_row); nothing outside
// lib/model/arch.c compares architecture names (tests/cli/arch-table.sh checks it).
//
// Adding an architecture:
//   lib/model/arch.c      a row in ARCHS: canonical name, the config.json model_type(s) and GGUF
//                   general.architecture names it accepts, what it writes (model_type, HF class),
//                   its tensor names (LLAMA_LAYER when the layer is Llama's), q/k/v biases
//                   (qkv_bias / bias_key), activation, gguf_permute_qk.
//   only when it needs what no row has (e.g. Qwen3's q/k norms, another activation):
//   lib/model/arch.h      the new role (FT_NORM_*, FT_LIN_*) or flag;
//   lib/model/model.h     the ft_layer member, lib/model/model_load.c its entry in LIN_MEMBER/NORM_MEMBER;
//   lib/model/model_forward.c, model_backward.c, model_kv.c   its use in the decoder block.
//   tests/unit/test_arch.c   the row against the reference names (HF, llama.cpp);
//   tests/tools/make_tiny_model.py --arch and tests/parity/model-tiny.sh: logits against NumPy;
//   docs/ft-eval.md ("Architectures") and README.md's status table.
#ifndef FT_ARCH_H
#define FT_ARCH_H

#include <stdbool.h>
#include <stddef.h>

struct ft_config;

// The linears of one decoder layer, by role; hooks, adapters and NF4 storage are indexed
// (layer * FT_LIN_COUNT + role).
typedef enum {
    FT_LIN_Q, FT_LIN_K, FT_LIN_V, FT_LIN_O, FT_LIN_GATE, FT_LIN_UP, FT_LIN_DOWN, FT_LIN_COUNT
} ft_lin_role;
#define FT_LIN_ALL_MASK ((1u << FT_LIN_COUNT) - 1)   // every role as a bit mask

// The per-layer RMS norms, by role: before attention and the MLP (every row); per-head on q and
// k before rope (Qwen3, Gemma 3: weight (head_dim)); on the attention and MLP outputs before the
// residual add (Gemma 3's post-norms). A row without a norm has NULL names for it.
typedef enum {
    FT_NORM_ATTN, FT_NORM_MLP, FT_NORM_Q, FT_NORM_K, FT_NORM_ATTN_POST, FT_NORM_MLP_POST, FT_NORM_COUNT
} ft_norm_role;

// Model-wide tensors.
typedef enum { FT_GLOBAL_EMBED, FT_GLOBAL_NORM, FT_GLOBAL_HEAD, FT_GLOBAL_COUNT } ft_global_role;

// A linear's dimension, resolved against a config by ft_arch_dim.
typedef enum { FT_DIM_HIDDEN, FT_DIM_FFN, FT_DIM_Q, FT_DIM_KV } ft_arch_dim;   // C, F, Hq*D, Hkv*D

// Heads a rotary projection's rows are grouped in (for the GGUF Q/K permutation).
typedef enum { FT_ROPE_ROWS_NONE, FT_ROPE_ROWS_Q, FT_ROPE_ROWS_KV } ft_rope_rows;

typedef struct ft_arch_linear {
    const char *hf;           // "q_proj" (PEFT target_modules name)
    const char *module;       // "self_attn" / "mlp": HF model.layers.N.MODULE.HF
    const char *gguf;         // "attn_q": GGUF blk.N.GGUF
    const char *short_name;   // "q" (ft-train --lora-targets)
    ft_arch_dim out, in;      // weight (out, in)
    bool attn_bias;           // carries a bias when the config's attn_bias is set
    ft_rope_rows rope_rows;   // rows permuted in GGUF (when the row's gguf_permute_qk)
} ft_arch_linear;

typedef struct ft_arch_name {
    const char *hf;           // "input_layernorm" / "model.embed_tokens"
    const char *gguf;         // "attn_norm" / "token_embd"
} ft_arch_name;

// One tensor of a layer in table order: a norm (is_norm) or a linear (weight, then its bias).
typedef struct ft_arch_slot {
    bool is_norm;
    int role;                 // ft_norm_role or ft_lin_role
} ft_arch_slot;

typedef struct ft_arch {
    const char *name;                   // canonical: ft_config.arch, GGUF general.architecture written
    const char *const *hf_model_types;  // config.json model_type accepted (NULL-terminated)
    const char *hf_model_type;          // model_type written
    const char *hf_class;               // "architectures": [...] written
    const char *const *gguf_archs;      // GGUF general.architecture accepted (NULL-terminated);
                                        // metadata keys are read under the file's own name
    const char *hf_layers;              // "model.layers": HF layer tensors are HF_LAYERS.N.*
    const char *gguf_layers;            // "blk"
    ft_arch_name global[FT_GLOBAL_COUNT];
    ft_arch_name norm[FT_NORM_COUNT];
    ft_arch_linear lin[FT_LIN_COUNT];
    ft_arch_slot layer_order[FT_NORM_COUNT + FT_LIN_COUNT];   // tensors of a layer, in table order
    int n_slots;                        // entries of layer_order used
    bool qkv_bias;                      // the attn_bias linears always carry biases (qwen2)
    const char *bias_key;               // config.json key read (type-checked) for attn_bias
    bool bias_key_written;              // and written into a config.json ft generates
    int act;                            // MLP activation: FT_ACT_* (kernels/ops.h)
    const char *hf_act;                 // hidden_act written ("silu")
    const char *hf_act_key;             // its config.json key (NULL: "hidden_act"; Gemma: "hidden_activation")
    bool gguf_permute_qk;               // llama.cpp stores rope_rows linears permuted (HF rotate_half
                                        // pairs (i, i + D/2) as adjacent rows)
    // Gemma 3: HF computes every RMSNorm as x * (1 + w) (ft holds 1 + w, as GGUF stores it: +1 on
    // HF load, -1 on HF save); token embeddings scaled by sqrt(hidden); sliding-window attention on
    // the layers l with (l + 1) % swa_pattern != 0 (the default of sliding_window_pattern; 0: none).
    bool norm_plus_one;
    bool embed_scale;
    int swa_pattern;
    const char *eot_token;              // end-of-turn token a GGUF may not list as EOS ("<end_of_turn>"), or NULL
} ft_arch;

// Every row, and how many.
const ft_arch *ft_arch_table(int *n);
// The row by canonical name (ft_config.arch), or NULL.
const ft_arch *ft_arch_by_name(const char *name);
// The row accepting config.json model_type mt / GGUF general.architecture ga; NULL with an
// error "SRC: unsupported model_type "X" (supported: llama, mistral, qwen2)".
const ft_arch *ft_arch_from_hf(const char *mt, const char *src);
const ft_arch *ft_arch_from_gguf(const char *ga, const char *src);
// The config's row: cfg->arch_row, else found by cfg->arch (configs built in memory); NULL
// with an error naming the supported architectures.
const ft_arch *ft_config_arch(const struct ft_config *c);
// "llama, mistral, qwen2": the accepted HF model types (gguf 0) or GGUF names (gguf 1), for
// messages; returns buf.
const char *ft_arch_supported(int gguf, char *buf, size_t cap);

// Rows of a linear dimension for config c.
int ft_arch_dim_size(const struct ft_config *c, ft_arch_dim d);

// HF module name of linear `role` of layer l: "model.layers.3.self_attn.q_proj".
void ft_arch_linear_name(const ft_arch *a, int l, int role, char *out, size_t cap);
// HF name of global tensor `role`: "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight".
void ft_arch_global_name(const ft_arch *a, int role, char *out, size_t cap);
// Whether row a has norm `role` (its names are set).
bool ft_arch_has_norm(const ft_arch *a, int role);
// Size of norm `role`'s weight: head_dim for the per-head q/k norms, else hidden.
int ft_arch_norm_size(const struct ft_config *c, int role);
// HF name of norm `role` of layer l: "model.layers.3.input_layernorm.weight".
void ft_arch_norm_name(const ft_arch *a, int l, int role, char *out, size_t cap);
// Parses "model.layers.N.MODULE.HF" at the start of name into (l, role); returns the length
// parsed (the rest is e.g. ".weight"), or -1 when name does not start with a layer linear.
int ft_arch_parse_linear(const ft_arch *a, const char *name, int *l, int *role);

// HF tensor name -> GGUF tensor name and back ("model.layers.0.self_attn.q_proj.weight" <->
// "blk.0.attn_q.weight"); -1 (no error set) when the name is none of the row's tensors.
int ft_arch_gguf_name(const ft_arch *a, const char *hf, char *out, size_t cap);
int ft_arch_hf_name(const ft_arch *a, const char *gguf, char *out, size_t cap);
// Heads to un-permute/permute the rows of HF tensor `hf` in by in a GGUF file of config c
// (n_heads for Q, n_kv_heads for K on rows that permute), or 0 when its rows are stored as in HF.
int ft_arch_gguf_permute_heads(const struct ft_config *c, const char *hf);

#endif
