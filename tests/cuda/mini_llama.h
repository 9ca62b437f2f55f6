// mini_llama.h — a small Llama-shaped decoder (embedding, L blocks of RMSNorm + GQA attention
// with RoPE and document masks + SwiGLU MLP, final RMSNorm, LM head tied to the embedding,
// chunked cross-entropy) written only against the op table, forward and backward, with
// optional LoRA on every linear layer. Memory goes through a tiny allocator table, so the same
// code runs on the CPU ops (host memory) and on the CUDA ops (device memory). Test and bench
// code for kernels/cuda (whole-model check, training throughput), not the product's model.
#ifndef FT_MINI_LLAMA_H
#define FT_MINI_LLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"

typedef struct mini_mem {
    void *(*alloc)(size_t bytes);  // NULL on failure
    void (*release)(void *p);
    int (*upload)(void *dst, const void *src, size_t bytes);
    int (*download)(void *dst, const void *src, size_t bytes);
    int (*zero)(void *dst, size_t bytes);
} mini_mem;

extern const mini_mem mini_mem_host;  // malloc / memcpy / memset
extern const mini_mem mini_mem_cuda;  // ft_cuda_* (kernels/cuda/ft_cuda.h)

typedef struct mini_cfg {
    int V, C, F, L, Hq, Hkv, D;  // vocab, hidden, intermediate, layers, heads, kv heads, head dim
    int B, T;                    // rows and positions per step
    int lora_r;                  // 0: full training; > 0: LoRA on all 7 linears, base frozen
    float lora_scale;
} mini_cfg;

typedef struct mini_model mini_model;

// Allocates parameters, gradients and activations on the backend; parameters are set from a
// seeded host generator (identical on every backend). NULL + ft_err message on failure.
mini_model *mini_create(const mini_cfg *cfg, const ft_ops *ops, const mini_mem *mem, uint64_t seed);
void mini_free(mini_model *m);
// One forward + backward over ids/targets/mask/doc (host arrays of B*T; doc may be NULL):
// gradients are zeroed first; returns the mean loss over the masked tokens.
double mini_step(mini_model *m, const int32_t *ids, const int32_t *targets, const uint8_t *mask,
                 const int32_t *doc);
// The trainable gradients (full: every parameter; LoRA: the adapters) as one host array of
// mini_grad_count() floats, in a fixed order; 0 or -1.
size_t mini_grad_count(const mini_model *m);
int mini_grads(const mini_model *m, float *out);
// AdamW on every trainable tensor (moments allocated on the first call); 0 or -1.
int mini_adamw(mini_model *m, float lr, int step);
// Parameters in matmuls (for FLOP counts): 7 linears per layer plus the LM head.
double mini_matmul_params(const mini_cfg *c);

#endif
