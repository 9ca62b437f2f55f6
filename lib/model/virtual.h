// virtual.h — prompt tuning and prefix tuning (PEFT PROMPT_TUNING / PREFIX_TUNING): n virtual
// tokens in front of every row.
//   prompt: trainable input embeddings P (n, C) stand in for the first n positions;
//   prefix: trainable per-layer keys and values (n, Hkv*D) each, optionally produced by
//           PEFT's reparameterization MLP (prefix_projection) from an (n, Hkv*D) embedding
//           (PEFT's token_dim, which _prepare_prompt_learning_config shrinks to Hkv*D for GQA).
// As in PEFT + transformers, the real tokens of a row take positions n, n+1, ... after the
// virtual ones, and the loss never sees the virtual positions. A model with m->virt set runs
// every row with the n virtual positions in front, inside ft_model_forward / backward /
// decode, so callers pass and get back only their own tokens' rows — but must size the
// activations (ft_acts_alloc, ft_backward_alloc, ft_kvcache_init) for T + ft_model_n_virtual(m)
// positions per row, and pass doc = NULL (one document per row: no packing).
//
// Files: virtual.c (init, the hooks the forward / backward / decode call), virtual_io.c (PEFT
// adapter_config.json + adapter_model.safetensors "prompt_embeddings").
#ifndef FT_VIRTUAL_H
#define FT_VIRTUAL_H

#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

enum { FT_VIRT_PROMPT = 1, FT_VIRT_PREFIX = 2 };

typedef struct {
    int kind;                 // FT_VIRT_*
    int n_virtual;            // num_virtual_tokens
    // prompt tuning: TEXT init from these token ids (repeated / cut to n_virtual like PEFT);
    // prefix tuning (ft's extension, no projection): the base model's keys / values of them;
    // NULL = RANDOM init (PEFT's N(0, 1))
    const int32_t *init_ids;
    int n_init_ids;
    const char *init_text;    // recorded in adapter_config.json (prompt_tuning_init_text)
    int projection;           // prefix tuning: prefix_projection (MLP kvd -> hidden -> L*2*Hkv*D)
    int proj_hidden;          // encoder_hidden_size (0 = token_dim = Hkv*D, PEFT's default)
} ft_virtual_cfg;

typedef struct ft_virtual ft_virtual;

// New virtual tokens for m (initialized from cfg and the seeded RNG), attached (m->virt).
int ft_virtual_new(ft_virtual **out, ft_model *m, const ft_virtual_cfg *cfg, uint64_t seed);
int ft_virtual_alloc_grads(ft_virtual *v);
// The flat trainable parameters and their gradients (for the optimizer and checkpoints).
float *ft_virtual_params(ft_virtual *v, size_t *n);
float *ft_virtual_grads(ft_virtual *v);
// Write DIR/adapter_config.json + DIR/adapter_model.safetensors ("prompt_embeddings") as PEFT does.
int ft_virtual_save(const ft_virtual *v, const char *dir, const char *base_model);
// Load a PEFT PROMPT_TUNING / PREFIX_TUNING dir for m, check shapes, attach. Errors name the file.
int ft_virtual_apply(ft_model *m, const char *dir, ft_virtual **out);
void ft_virtual_destroy(ft_virtual *v);   // detaches; NULL is fine
// Virtual positions m puts in front of every row (0 when m->virt is NULL).
int ft_model_n_virtual(const ft_model *m);
// Real tokens a row (or KV cache) of at most cap positions, and no more than the model's
// max_pos when that is known (> 1), holds after the virtual ones in front; may be < 1.
// Size the activations / cache for it + ft_model_n_virtual(m).
int ft_model_real_ctx(const ft_model *m, int cap);

// ---- internals: the state, and the hooks model_forward.c / model_backward.c / model_kv.c call
struct ft_virtual {
    int kind, n;              // FT_VIRT_*, num_virtual_tokens
    int L, C, kvd;            // layers, hidden, Hkv*D
    int projection, hidden;   // prefix_projection, encoder_hidden_size
    size_t width;             // floats per virtual token of the effective tensor: C or L*2*kvd
    float *params, *grads;    // (n_params,) trainable (grads NULL until alloc_grads)
    size_t n_params;
    // prompt: P = params (n, C). prefix: prefix (n, L*2*kvd) in PEFT's order: per token,
    // layer l, key (j=0) / value (j=1), head h, dim d at ((2l + j)*Hkv + h)*D + d
    // (PeftModel.get_prompt: view(B, n, L*2, Hkv, D).permute(2, 0, 3, 1, 4).split(2)).
    float *prefix;            // == params without projection, else the MLP output (own buffer)
    float *dprefix;           // gradient of prefix: == grads without projection, else own buffer
    // projection: params = emb (n, kvd) | w1 (h, kvd) | b1 (h) | w2 (L*2*kvd, h) | b2 (L*2*kvd)
    float *emb, *w1, *b1, *w2, *b2;
    float *hid;               // (n, h) tanh(emb @ w1^T + b1), kept for the backward
    float *dhid;              // (n, h) scratch
    int init_text;            // prompt_tuning_init TEXT (1) or RANDOM (0)
    char *init_str;           // prompt_tuning_init_text
    ft_model *model;          // attached to
    const ft_ops *dev;        // a device copy (ft_virtual_to_device): buffers from dev; NULL = host
};

// A copy of v for model m on the device of ops (not host memory): parameters uploaded, the
// projection's buffers and the gradients (zeroed, when v has them) allocated there; not
// attached (set m->virt). For ft_model_to_device. 0, or -1 + ft_err().
int ft_virtual_to_device(const ft_virtual *v, ft_model *m, const ft_ops *ops, ft_virtual **out);

// Lay out the state for m with zero parameters and attach it (ft_virtual_new, the loader).
int ft_virtual_alloc(ft_virtual **out, ft_model *m, int kind, int n, int projection, int hidden);
// Forward prologue: recompute the prefix (projection), then write the virtual rows of the
// layer-0 input x (B, Te, C) (rows 0..n-1 of each row): P for prompt tuning, zeros for prefix
// tuning (dummy rows whose keys / values are replaced in every layer).
void ft_virtual_forward_input(ft_virtual *v, const ft_ops *ops, float *x, int B, int Te);
// Prefix: recompute the prefix from the MLP (no-op otherwise).
void ft_virtual_prepare(ft_virtual *v, const ft_ops *ops);
// Prefix: overwrite layer l's k (after rope) and val (B, Te, Hkv*D) at the virtual positions.
void ft_virtual_forward_kv(const ft_virtual *v, const ft_ops *ops, int l, float *k, float *val, int B, int Te);
// Key (j = 0) or value (j = 1) of layer l for virtual token t: (Hkv*D) floats, where v's
// buffers live (device memory for a device copy).
const float *ft_virtual_prefix_kv(const ft_virtual *v, int l, int j, int t);
// Backward: begin (clears the projection's prefix gradient), per layer take dk (before rope
// backward) / dv at the virtual positions as the prefix gradient and zero them there, take
// d(layer-0 input) at the virtual rows as dP, end (backpropagates through the MLP).
// All no-ops for the gradient when grads are not allocated.
void ft_virtual_backward_begin(ft_virtual *v, const ft_ops *ops);
void ft_virtual_backward_kv(ft_virtual *v, const ft_ops *ops, int l, float *dk, float *dv, int B, int Te);
void ft_virtual_backward_input(ft_virtual *v, const ft_ops *ops, const float *dx, int B, int Te);
void ft_virtual_backward_end(ft_virtual *v, const ft_ops *ops);

#endif
