// virtual.h — prompt tuning and prefix tuning (PEFT PROMPT_TUNING / PREFIX_TUNING): n virtual
// tokens in front of every row.
//   prompt: trainable input embeddings P (n, C) stand in for the first n positions;
//   prefix: trainable per-layer keys and values (n, Hkv*D) each, optionally produced by
//           PEFT's reparameterization MLP (prefix_projection) from an (n, C) embedding.
// As in PEFT + transformers, the real tokens of a row take positions n, n+1, ... after the
// virtual ones, and the loss never sees the virtual positions. A model with m->virt set runs
// every row with the n virtual positions in front, inside ft_model_forward / backward /
// decode, so callers pass and get back only their own tokens' rows — but must size the
// activations (ft_acts_alloc, ft_backward_alloc, ft_kvcache_init) for T + ft_model_n_virtual(m)
// positions per row, and pass doc = NULL (one document per row: no packing).
#ifndef FT_VIRTUAL_H
#define FT_VIRTUAL_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"

enum { FT_VIRT_PROMPT = 1, FT_VIRT_PREFIX = 2 };

typedef struct {
    int kind;                 // FT_VIRT_*
    int n_virtual;            // num_virtual_tokens
    // prompt tuning: TEXT init from these token ids (repeated / cut to n_virtual like PEFT);
    // NULL = RANDOM init
    const int32_t *init_ids;
    int n_init_ids;
    const char *init_text;    // recorded in adapter_config.json (prompt_tuning_init_text)
    int projection;           // prefix tuning: prefix_projection (MLP C -> hidden -> L*2*Hkv*D)
    int proj_hidden;          // encoder_hidden_size (0 = C)
} ft_virtual_cfg;

typedef struct ft_virtual ft_virtual;   // internals in virtual.c

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

#endif
