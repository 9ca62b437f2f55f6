// ops.h — the op table: every numeric kernel the forward and backward passes use, written
// once against this interface with a CPU implementation (kernels/cpu/, the reference) and a
// CUDA twin (kernels/cuda/, tested op by op against the CPU).
//
// Conventions: row-major f32; "N" is the number of token positions (B*T flattened); linear
// weights are stored like HF nn.Linear, (out, in). Backward functions ACCUMULATE (+=) into
// gradient buffers (callers zero them), so shared inputs (residual stream, tied weights)
// sum naturally. A NULL gradient pointer means "not needed" (frozen parameter) and is skipped.
#ifndef FT_OPS_H
#define FT_OPS_H

#include <stddef.h>
#include <stdint.h>

struct ft_qweight;
struct ft_qtensor;

typedef struct ft_ops {
    const char *name;   // "cpu", "cuda"

    // out(N,O) = x(N,I) @ w(O,I)^T + bias(O)   (bias may be NULL)
    void (*matmul)(float *out, const float *x, const float *w, const float *bias, int N, int I, int O);
    // dx(N,I) += dout(N,O) @ w(O,I); dw(O,I) += dout^T @ x; dbias(O) += sum_n dout
    void (*matmul_backward)(float *dx, float *dw, float *dbias, const float *dout, const float *x,
                            const float *w, int N, int I, int O);

    // out(N,C) = x / rms(x) * weight; rstd(N) saved for backward
    void (*rmsnorm)(float *out, float *rstd, const float *x, const float *weight, int N, int C, float eps);
    void (*rmsnorm_backward)(float *dx, float *dweight, const float *dout, const float *x, const float *weight,
                             const float *rstd, int N, int C);

    // In-place rotary embedding (HF "rotate_half" convention: pairs (i, i + D/2)) on x(N, H, D)
    // at positions pos(N); inv_freq(D/2) holds the (possibly rope-scaled) frequencies.
    void (*rope)(float *x, const int32_t *pos, const float *inv_freq, int N, int H, int D);
    // Backward: the inverse rotation applied in place to dx(N, H, D).
    void (*rope_backward)(float *dx, const int32_t *pos, const float *inv_freq, int N, int H, int D);

    // Causal self-attention with GQA and document masking, for B rows of T positions:
    // q(B,T,Hq,D), k/v(B,T,Hkv,D) -> out(B,T,Hq,D). doc(B,T): position t attends to s <= t
    // only when doc[b,s] == doc[b,t] (NULL = one document per row). Softmax scale 1/sqrt(D).
    // lse(B,Hq,T) saves the log-sum-exp of each row for the backward pass.
    void (*attention)(float *out, float *lse, const float *q, const float *k, const float *v,
                      const int32_t *doc, int B, int T, int Hq, int Hkv, int D);
    void (*attention_backward)(float *dq, float *dk, float *dv, const float *dout, const float *out,
                               const float *lse, const float *q, const float *k, const float *v,
                               const int32_t *doc, int B, int T, int Hq, int Hkv, int D);

    // out(N,F) = silu(gate) * up
    void (*swiglu)(float *out, const float *gate, const float *up, int N, int F);
    void (*swiglu_backward)(float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                            int N, int F);

    // out(N,C) = table[ids[n]]
    void (*embedding)(float *out, const int32_t *ids, const float *table, int N, int C);
    void (*embedding_backward)(float *dtable, const int32_t *ids, const float *dout, int N, int C);

    // LM head fused with cross-entropy, computed in chunks of rows so (N,V) logits never exist
    // at once: for each n with mask[n] != 0, loss += -log softmax(h[n] @ w^T)[target[n]].
    // Returns the summed loss (caller divides by the token count of the whole step); when
    // dh/dw are non-NULL, adds d(loss * grad_scale)/dh and /dw.  h(N,C), w(V,C).
    double (*lm_head_xent)(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                           const uint8_t *mask, int N, int C, int V, float grad_scale);
    // lm_head_xent with per-row results and per-position gradient weights, for objectives over
    // whole sequences (lib/train/objective.h). row_logp (host memory; NULL = none) receives, for each
    // row r in [0, n_rows), the sum of log softmax(h[n] @ w^T)[target[n]] over the counted
    // positions n with row[n] == r, in position order (rows without one get 0); row == NULL
    // makes every position its own row (row_logp has N entries). gweight(N), when non-NULL,
    // scales position n's gradient by gweight[n] in place of grad_scale, so a loss L(row_logp)
    // back-propagates with gweight[n] = -dL/d row_logp[row[n]]. A row index outside
    // [0, n_rows) poisons the loss (NaN), as a bad target does. row and gweight live where target
    // does (device memory). Same return value as lm_head_xent.
    double (*lm_head_xent_rows)(float *dh, float *dw, const float *h, const float *w, const int32_t *target,
                                const uint8_t *mask, int N, int C, int V, float grad_scale, const float *gweight,
                                const int32_t *row, double *row_logp, int n_rows);
    // Plain logits for inference: logits(N,V) = h @ w^T (small N, e.g. last position).
    void (*lm_head_logits)(float *logits, const float *h, const float *w, int N, int C, int V);

    // AdamW step with bias correction and decoupled weight decay, in place on p(n), m(n), v(n).
    void (*adamw)(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int step);

    // Elementwise helpers used by the model glue.
    void (*add)(float *out, const float *a, const float *b, size_t n);        // out = a + b
    void (*add_inplace)(float *out, const float *a, size_t n);                 // out += a
    void (*scale_add)(float *out, const float *a, float s, size_t n);          // out += s * a

    // ---- added for the PEFT methods (CUDA twins may be NULL: see docs/cuda.md) ----
    // Frozen quantized weight (QLoRA, lib/model/qweight.h): out(N,O) = x(N,I) @ deq(w)(O,I)^T + bias,
    // the dequantization fused tile by tile (the f32 matrix never exists whole).
    void (*qmatmul)(float *out, const float *x, const struct ft_qweight *w, const float *bias, int N);
    // dx(N,I) += dout(N,O) @ deq(w)   (the base stays frozen: no weight gradient)
    void (*qmatmul_backward)(float *dx, const float *dout, const struct ft_qweight *w, int N);
    // Pointwise activation out(n) = f(x) (bottleneck adapters), kind FT_ACT_*; backward
    // dx += dout * f'(x).
    void (*act)(float *out, const float *x, size_t n, int kind);
    void (*act_backward)(float *dx, const float *dout, const float *x, size_t n, int kind);
    // Inverted dropout (LoRA dropout): out(i) = x(i) / (1 - p) when ft_rng_hash_float(seed, i)
    // >= p, else 0 (lib/core/rng.h; out may be x). The mask depends only on (seed, i), so the same
    // call on the gradient is the backward.
    void (*dropout)(float *out, const float *x, size_t n, float p, uint64_t seed);

    // ---- memory: every tensor the ops touch lives in buffers from here --------------------
    // Capabilities: the device kind (FT_DEVICE_*) and whether its buffers are plain host
    // pointers (the CPU table: code outside kernels/ may then skip staging copies; it still
    // must not read or write them except through the functions below).
    int device;
    int host_access;
    // alloc: `bytes` of device memory, 64-byte aligned, contents undefined; NULL + ft_err() on
    // failure. free(NULL) is a no-op. upload copies host -> device, download device -> host,
    // copy device -> device, zero sets bytes to 0; each returns 0 or -1 + ft_err().
    void *(*alloc)(size_t bytes);
    void (*free)(void *p);
    int (*upload)(void *dst, const void *src, size_t bytes);
    int (*download)(void *dst, const void *src, size_t bytes);
    int (*copy)(void *dst, const void *src, size_t bytes);
    int (*zero)(void *dst, size_t bytes);

    // Attention of n new queries q(n, Hq, D) at absolute positions p0.. over a KV cache
    // kc/vc(>= p0+n, Hkv, D) (keys after rope): query i attends to cached positions 0..p0+i.
    // out(n, Hq, D). Softmax scale 1/sqrt(D). (KV-cache decoding, lib/model/model_kv.c.)
    void (*attention_cached)(float *out, const float *q, const float *kc, const float *vc, int n, int p0, int Hq,
                             int Hkv, int D);
    // Sum of squares of x(n) in double (the gradient norm: lib/optim/optim.c), and x(n) *= s (clipping).
    double (*sumsq)(const float *x, size_t n);
    void (*scale)(float *x, float s, size_t n);

    // ---- DoRA, bottleneck adapters, prompt/prefix tuning (lib/model/dora.c, bottleneck.c, virtual.c;
    // no CUDA twins yet: docs/cuda.md). Reductions accumulate in double, as lib/model/dora.c did. ----
    // x(n) = v (a bottleneck backward without a saved forward poisons its gradients with NaN).
    void (*fill)(float *x, float v, size_t n);
    // out(n) = a / b elementwise (out may be a or b): DoRA's gain mag / norm.
    void (*div)(float *out, const float *a, const float *b, size_t n);
    // out(N,O) = g(O) * x(N,O), g broadcast over the rows (out may be x).
    void (*scale_cols)(float *out, const float *g, const float *x, int N, int O);
    // Prefix-projection MLP (tanh): d(n) *= 1 - y(n)^2 in place, y = tanh of the forward.
    void (*tanh_backward)(float *d, const float *y, size_t n);
    // DoRA row norms of V = W + s B A (W (O,I), A (r,I), B (O,r)) from P = A W^T (r,O):
    // G(r,r) = A A^T, n(O) = sqrt(max(||W_j||^2 + 2 s B_j.P_j + s^2 B_j G B_j^T, 1e-60)).
    void (*dora_norm)(float *n, float *G, const float *P, const float *W, const float *A, const float *B, float s,
                      int r, int I, int O);
    // DoRA output: out(N,O) += (g - 1) * (out - bias) + g * s * d, out holding x W^T + bias
    // (bias may be NULL), d = x A^T B^T.
    void (*dora_combine)(float *out, const float *d, const float *g, const float *bias, float s, int N, int O);
    // DoRA backward through the gain g = mag / n: dg_j = sum_n dout(n,j) z(n,j) (z = V x before
    // the bias), dmag_j += dg_j / n_j (dmag NULL: skipped), c_j = -dg_j g_j / n_j^2 (written).
    void (*dora_gain_backward)(float *dmag, float *c, const float *dout, const float *z, const float *n,
                               const float *g, int N, int O);
    // DoRA backward through the norm (dV = diag(c) V): dB(O,r) += s c (P^T + s B G) and
    // Bc(O,r) = s c B (each skipped when NULL); dA(r,I) += s (Bc^T B) A (after the caller's
    // dA += Bc^T W); dW(O,I) += diag(c) (W + s B A).
    void (*dora_norm_backward_B)(float *dB, float *Bc, const float *B, const float *P, const float *G,
                                 const float *c, float s, int r, int O);
    void (*dora_norm_backward_A)(float *dA, const float *Bc, const float *B, const float *A, float s, int r, int I,
                                 int O);
    void (*dora_norm_backward_W)(float *dW, const float *c, const float *W, const float *A, const float *B, float s,
                                 int r, int I, int O);

    // ---- Gemma 3 (lib/model/model_block.c) ----
    // out(N,F) = gelu_tanh(gate) * up (GeGLU, HF gelu_pytorch_tanh); backward as swiglu's.
    void (*geglu)(float *out, const float *gate, const float *up, int N, int F);
    void (*geglu_backward)(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int N,
                           int F);
    // attention / attention_backward / attention_cached with a sliding window and a score scale:
    // query t sees keys s with t - window < s <= t (window 0: no window), scores scaled by
    // `scale` in place of 1/sqrt(D).
    void (*attention_window)(float *out, float *lse, const float *q, const float *k, const float *v,
                             const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window, float scale);
    void (*attention_window_backward)(float *dq, float *dk, float *dv, const float *dout, const float *out,
                                      const float *lse, const float *q, const float *k, const float *v,
                                      const int32_t *doc, int B, int T, int Hq, int Hkv, int D, int window,
                                      float scale);
    void (*attention_cached_window)(float *out, const float *q, const float *kc, const float *vc, int n, int p0,
                                    int Hq, int Hkv, int D, int window, float scale);
    // ---- inference: compact weights and batched decoding (kernels/cpu/cpu_qdot.c,
    // cpu_attn_decode.c; no CUDA twins yet: ft_model_to_device refuses a model holding them) ----
    // Frozen weight kept in its GGUF storage (format/qtensor.h: Q4_0, Q4_1, Q8_0, Q4_K, Q6_K,
    // BF16, F16, F32): out(N,O) = x(N,I) @ deq(w)(O,I)^T + bias (bias may be NULL). For
    // N <= FT_QT_FUSED_MAX_N dequantization is fused into the dot products and a row's result
    // does not depend on the other rows; above, bands are dequantized for sgemm.
    void (*qtmatmul)(float *out, const float *x, const struct ft_qtensor *w, const float *bias, int N);
    // Batched decoding over a slotted KV cache kc/vc(S, max_T, Hkv, D) (keys after rope): new
    // row i (q(n,Hq,D), k/v(n,Hkv,D)) belongs to slot slot[i] at position pos[i]; its key and
    // value are first stored at kc/vc[slot[i], pos[i]], then it attends to positions 0..pos[i]
    // of its slot. out(n,Hq,D), softmax scale 1/sqrt(D). slot and pos live where q does.
    void (*attention_decode)(float *out, float *kc, float *vc, const float *q, const float *k, const float *v,
                             const int32_t *slot, const int32_t *pos, int n, int max_T, int Hq, int Hkv, int D);
} ft_ops;

// Rows up to which qtmatmul takes the fused (row-independent) path.
#define FT_QT_FUSED_MAX_N 32

enum { FT_DEVICE_CPU = 0, FT_DEVICE_CUDA = 1, FT_DEVICE_GUARD = 2 };

// FT_ACT_TANH: the prefix-projection MLP (lib/model/virtual.c); not a bottleneck activation.
enum { FT_ACT_RELU = 0, FT_ACT_SILU = 1, FT_ACT_GELU_TANH = 2, FT_ACT_TANH = 3 };

// The CPU reference implementation (kernels/cpu/).
const ft_ops *ft_ops_cpu(void);
// The CPU table at --precision bf16 (kernels/cpu/cpu_bf16_ops.c): linear layers and the LM
// head multiply bf16-rounded operands with f32 accumulation (AVX512_BF16 where the CPU has it,
// an exact but slow emulation otherwise); all else as ft_ops_cpu(). name "cpu-bf16".
const ft_ops *ft_ops_cpu_bf16(void);
// 1 when this CPU runs ft_ops_cpu_bf16() natively (AVX512_BF16): the faster precision.
int ft_ops_cpu_bf16_native(void);
// The CUDA implementation, or NULL when this build has no CUDA or no device is visible.
const ft_ops *ft_ops_cuda(void);
// The guard backend (kernels/guard/): the CPU kernels behind device handles that are not
// host pointers (any host access of device memory faults at once); NULL + ft_err() when the
// address range cannot be reserved. For testing the device path without a GPU.
const ft_ops *ft_ops_guard(void);
// The table named "cpu", "cuda" or "guard"; NULL + ft_err() (what is known) otherwise.
const ft_ops *ft_ops_by_name(const char *name);

#endif
