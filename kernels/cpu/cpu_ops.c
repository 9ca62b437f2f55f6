// cpu_ops.c — the CPU op table (the reference implementation of kernels/ops.h): gathers the
// per-op functions of kernels/cpu/*.c into one ft_ops.
#include "ops.h"
#include "cpu_internal.h"

static const ft_ops cpu_ops = {
    .name = "cpu",
    .matmul = ft_cpu_matmul,
    .matmul_backward = ft_cpu_matmul_backward,
    .rmsnorm = ft_cpu_rmsnorm,
    .rmsnorm_backward = ft_cpu_rmsnorm_backward,
    .rope = ft_cpu_rope,
    .rope_backward = ft_cpu_rope_backward,
    .attention = ft_cpu_attention,
    .attention_backward = ft_cpu_attention_backward,
    .swiglu = ft_cpu_swiglu,
    .swiglu_backward = ft_cpu_swiglu_backward,
    .embedding = ft_cpu_embedding,
    .embedding_backward = ft_cpu_embedding_backward,
    .lm_head_xent = ft_cpu_lm_head_xent,
    .lm_head_xent_rows = ft_cpu_lm_head_xent_rows,
    .lm_head_logits = ft_cpu_lm_head_logits,
    .adamw = ft_cpu_adamw,
    .add = ft_cpu_add,
    .add_inplace = ft_cpu_add_inplace,
    .scale_add = ft_cpu_scale_add,
    .qmatmul = ft_cpu_qmatmul,
    .qmatmul_backward = ft_cpu_qmatmul_backward,
    .act = ft_cpu_act,
    .act_backward = ft_cpu_act_backward,
    .dropout = ft_cpu_dropout,
    .device = FT_DEVICE_CPU,
    .host_access = 1,
    .alloc = ft_cpu_alloc,
    .free = ft_cpu_free,
    .upload = ft_cpu_copy,
    .download = ft_cpu_copy,
    .copy = ft_cpu_copy,
    .zero = ft_cpu_zero,
    .attention_cached = ft_cpu_attention_cached,
    .sumsq = ft_cpu_sumsq,
    .scale = ft_cpu_scale,
};

const ft_ops *ft_ops_cpu(void) { return &cpu_ops; }
