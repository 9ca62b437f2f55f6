// layer.c — a decoder layer's linears and norms by role (ft_arch's FT_LIN_*, FT_NORM_*), so
// code that walks them (load, save, device copies, adapters) indexes roles, not member names.
#include "model/model.h"

#include <stddef.h>

// ft_layer's members by role
static const size_t LIN_MEMBER[FT_LIN_COUNT] = {
    [FT_LIN_Q] = offsetof(ft_layer, q),       [FT_LIN_K] = offsetof(ft_layer, k),
    [FT_LIN_V] = offsetof(ft_layer, v),       [FT_LIN_O] = offsetof(ft_layer, o),
    [FT_LIN_GATE] = offsetof(ft_layer, gate), [FT_LIN_UP] = offsetof(ft_layer, up),
    [FT_LIN_DOWN] = offsetof(ft_layer, down)};
static const size_t NORM_MEMBER[FT_NORM_COUNT] = {[FT_NORM_ATTN] = offsetof(ft_layer, attn_norm),
                                                  [FT_NORM_MLP] = offsetof(ft_layer, mlp_norm),
                                                  [FT_NORM_Q] = offsetof(ft_layer, q_norm),
                                                  [FT_NORM_K] = offsetof(ft_layer, k_norm),
                                                  [FT_NORM_ATTN_POST] = offsetof(ft_layer, attn_post_norm),
                                                  [FT_NORM_MLP_POST] = offsetof(ft_layer, mlp_post_norm)};

ft_linear *ft_layer_linear(ft_layer *ly, int role) { return (ft_linear *)((char *)ly + LIN_MEMBER[role]); }
float **ft_layer_norm(ft_layer *ly, int role) { return (float **)((char *)ly + NORM_MEMBER[role]); }

ft_linear *ft_model_layer_linear(ft_model *m, int l, int i, const char **short_name) {
    if (l < 0 || l >= m->cfg.n_layers || i < 0 || i >= FT_LIN_COUNT) return NULL;
    if (short_name) *short_name = m->cfg.arch_row->lin[i].hf;
    return ft_layer_linear(&m->layers[l], i);
}
