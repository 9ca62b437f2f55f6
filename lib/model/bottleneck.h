// bottleneck.h — bottleneck adapters (Houlsby et al. 2019 / Pfeiffer et al. 2020): on the
// output h (N, C) of a sublayer's last linear (o_proj for "attn", down_proj for "mlp"),
//   h' = h + up(f(down(h)))      down (d, C) + bias (d), up (C, d) + bias (C), f = act
// with up zero-initialized so step 0 equals the base. Saved in the two-file PEFT-style layout
// (adapter_config.json + adapter_model.safetensors) with ft's own peft_type "BOTTLENECK";
// they add computation and cannot be folded into W (ft-merge refuses them).
//
// Files: bottleneck.c (sites, forward/backward, the set), bottleneck_io.c (save, load).
//
// Memory: the forward of a site saves its input h (N, C) and the pre-activation z (N, d),
// N*(C+d) floats per site, grown on demand (SmolLM2, C=576, d=64, B*T=1024: 2.6 MB per
// site, 157 MB for both sites of 30 layers). A set that is not for training (loaded with
// ft_bottleneck_apply and no gradients allocated) saves nothing and computes in chunks of 64
// rows through a fixed 64*(C+2d)-float scratch. In training every site shares one workspace
// of N*(C+2d) floats (the set's), grown on demand.
#ifndef FT_BOTTLENECK_H
#define FT_BOTTLENECK_H

#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

#define FT_BN_ATTN 1u
#define FT_BN_MLP 2u

typedef struct {
    int dim;                  // d, the bottleneck width
    unsigned where;           // FT_BN_ATTN | FT_BN_MLP
    int act;                  // FT_ACT_* (ops.h)
} ft_bottleneck_cfg;

// "attn,mlp" / "attn" / "mlp" -> mask; -1 with a message naming the bad item.
int ft_bottleneck_parse_where(const char *s, unsigned *mask);
// "relu" | "silu" | "gelu" -> FT_ACT_*; -1 with a message. "swish" = silu; "gelu" is the
// tanh approximation, also accepted as "gelu_tanh", "gelu_new", "gelu_pytorch_tanh".
int ft_bottleneck_parse_act(const char *s, int *kind);
// The name written to adapter_config.json: "relu", "silu", "gelu_pytorch_tanh" (NULL if bad).
const char *ft_bottleneck_act_name(int kind);
// Trainable parameters of cfg on a model of config c: sites * (2*C*d + d + C).
size_t ft_bottleneck_count(const ft_config *c, const ft_bottleneck_cfg *cfg);

struct ft_bottleneck_ws;      // shared scratch of a set (bottleneck.c)

// One adapter site (lin->post). Parameters point into the set's flat buffer.
struct ft_bottleneck_set;

typedef struct ft_bottleneck {
    int C, d, act;
    float *down_w;            // (d, C)
    float *down_b;            // (d)
    float *up_w;              // (C, d)
    float *up_b;              // (C)
    float *d_down_w, *d_down_b, *d_up_w, *d_up_b;   // gradients (same shapes) or NULL
    float *h;                 // (cap, C) input saved by the last forward
    float *z;                 // (cap, d) pre-activation saved by the last forward
    size_t cap;               // rows h and z hold
    int saved_n;              // rows saved by the last forward (-1: none)
    struct ft_bottleneck_ws *ws;
    struct ft_bottleneck_set *set;   // the set the site belongs to
} ft_bottleneck;

// h' = h + up(f(down(h))) in place on out (N, C); saves h and z when the set trains.
void ft_bottleneck_forward(const ft_ops *ops, struct ft_bottleneck *b, float *out, int N);
// Given d(h') returns d(h) (a buffer the set owns, valid until the next call on any site of
// the set) and accumulates the adapter's gradients (when allocated). Uses what the last
// forward on this site saved; when it saved nothing for N rows (not training, or out of
// memory), the gradients are set to NaN (so a trainer's non-finite check catches the step),
// a message is recorded and dout is returned.
const float *ft_bottleneck_backward(const ft_ops *ops, struct ft_bottleneck *b, const float *dout, int N);

// Every site of a model, with its parameters in one flat buffer (for the optimizer).
// Layout: layer by layer, attn site then mlp site, each down_w, down_b, up_w, up_b.
typedef struct ft_bottleneck_set {
    ft_bottleneck_cfg cfg;
    float *params, *grads;    // (n_params,)
    size_t n_params;
    int n_sites;
    struct ft_bottleneck *sites;   // (n_sites,) in the layout order
    ft_model *model;          // attached to
    struct ft_bottleneck_ws *ws;
    const ft_ops *dev;        // a device copy (ft_bottleneck_to_device): params/grads from dev; else NULL
} ft_bottleneck_set;

// New set on m (down: PyTorch nn.Linear default init from the seeded RNG, up = 0), attached.
// Its forward saves what the backward needs.
int ft_bottleneck_new(ft_bottleneck_set **out, ft_model *m, const ft_bottleneck_cfg *cfg, uint64_t seed);
// Gradient buffer (zeroed) wired to every site; the forward then saves for the backward.
int ft_bottleneck_alloc_grads(ft_bottleneck_set *s);
// The site of layer l ("attn" FT_BN_ATTN or "mlp" FT_BN_MLP), or NULL.
ft_bottleneck *ft_bottleneck_site(ft_bottleneck_set *s, int l, unsigned where);
// PEFT-style module name of a site: "base_model.model.model.layers.L.self_attn.o_proj" /
// "...layers.L.mlp.down_proj".
void ft_bottleneck_module_name(int l, unsigned where, char *out, size_t cap);

// Write DIR/adapter_config.json and DIR/adapter_model.safetensors (F32), each atomically.
int ft_bottleneck_save(const ft_bottleneck_set *s, const char *dir, const char *base_model);
// Load DIR (peft_type BOTTLENECK; F32/F16/BF16 tensors) for m, check shapes, attach. Errors
// name the file. Refuses when m already has a bottleneck adapter attached.
int ft_bottleneck_apply(ft_model *m, const char *dir, ft_bottleneck_set **out);
void ft_bottleneck_destroy(ft_bottleneck_set *s);   // detaches; NULL is fine
// A copy of s for model m on the device of ops (not host memory): parameters uploaded,
// gradients (zeroed) when s has them, every workspace allocated there; not attached
// (ft_bottleneck_attach hooks it to m). For ft_model_to_device. 0, or -1 + ft_err().
int ft_bottleneck_to_device(const ft_bottleneck_set *s, ft_model *m, const ft_ops *ops, ft_bottleneck_set **out);

// Internal to bottleneck.c / bottleneck_io.c: allocate the set for cfg on m (params zero,
// not attached), and attach it.
int ft_bottleneck_alloc_set(ft_bottleneck_set **out, ft_model *m, const ft_bottleneck_cfg *cfg);
void ft_bottleneck_attach(ft_bottleneck_set *s);
// Unhook the set's sites from s->model (ft_bottleneck_attach hooks them again).
void ft_bottleneck_detach(ft_bottleneck_set *s);
// Whether m has a bottleneck adapter attached (at any site).
int ft_bottleneck_attached(const ft_model *m);
// Loops over every (layer l, site kind w, site b) of set s on s->model, in the flat-buffer order.
#define FT_BN_FOR_SITES(s, l, w, b)                                           \
    for (int l = 0, i_ = 0; l < (s)->model->cfg.n_layers; l++)               \
        for (unsigned w = FT_BN_ATTN; w <= FT_BN_MLP; w <<= 1)               \
            if ((s)->cfg.where & w)                                           \
                for (ft_bottleneck *b = &(s)->sites[i_++]; b; b = NULL)

#endif
