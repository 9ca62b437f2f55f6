// bottleneck.h — bottleneck adapters (Houlsby et al. 2019 / Pfeiffer et al. 2020): on the
// output h (N, C) of a sublayer's last linear (o_proj for "attn", down_proj for "mlp"),
//   h' = h + up(f(down(h)))      down (d, C) + bias (d), up (C, d) + bias (C), f = act
// with up zero-initialized so step 0 equals the base. Saved in the two-file PEFT-style layout
// (adapter_config.json + adapter_model.safetensors) with ft's own peft_type "BOTTLENECK";
// they add computation and cannot be folded into W (ft-merge refuses them).
#ifndef FT_BOTTLENECK_H
#define FT_BOTTLENECK_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"

#define FT_BN_ATTN 1u
#define FT_BN_MLP 2u

typedef struct {
    int dim;                  // d, the bottleneck width
    unsigned where;           // FT_BN_ATTN | FT_BN_MLP
    int act;                  // FT_ACT_* (ops.h)
} ft_bottleneck_cfg;

// "attn,mlp" / "attn" / "mlp" -> mask; -1 with a message naming the bad item.
int ft_bottleneck_parse_where(const char *s, unsigned *mask);
// "relu" | "silu" | "gelu" -> FT_ACT_*; -1 with a message.
int ft_bottleneck_parse_act(const char *s, int *kind);

// One adapter site (lin->post). Internals in bottleneck.c.
void ft_bottleneck_forward(const ft_ops *ops, struct ft_bottleneck *b, float *out, int N);
// Given d(h') returns d(h) (a buffer the site owns) and accumulates the adapter's gradients
// (when allocated). Uses what the last forward on this site saved.
const float *ft_bottleneck_backward(const ft_ops *ops, struct ft_bottleneck *b, const float *dout, int N);

// Every site of a model, with its parameters in one flat buffer (for the optimizer).
typedef struct ft_bottleneck_set {
    ft_bottleneck_cfg cfg;
    float *params, *grads;    // (n_params,)
    size_t n_params;
    int n_sites;
    struct ft_bottleneck *sites;
    ft_model *model;          // attached to
} ft_bottleneck_set;

// New set on m (down: PyTorch nn.Linear default init from the seeded RNG, up = 0), attached.
int ft_bottleneck_new(ft_bottleneck_set **out, ft_model *m, const ft_bottleneck_cfg *cfg, uint64_t seed);
int ft_bottleneck_alloc_grads(ft_bottleneck_set *s);
int ft_bottleneck_save(const ft_bottleneck_set *s, const char *dir, const char *base_model);
// Load DIR (peft_type BOTTLENECK) for m, check shapes, attach. Errors name the file.
int ft_bottleneck_apply(ft_model *m, const char *dir, ft_bottleneck_set **out);
void ft_bottleneck_destroy(ft_bottleneck_set *s);   // detaches; NULL is fine

#endif
