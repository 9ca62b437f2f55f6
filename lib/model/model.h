// model.h — Llama-family decoder models: configuration, weights in one f32 buffer with an
// HF-named tensor table (llm.c style), LoRA hook points on every linear layer, the forward
// pass over packed batches (training activations kept for the backward pass) and an
// inference path with a KV cache.
//
// Everything inside is in Hugging Face conventions: linear weights are (out, in) row-major
// like nn.Linear, rotary embedding is HF "rotate_half" (pairs (i, i + D/2)), and GGUF Q/K
// rows are un-permuted on load. So adapters trained on an ft_model are valid for the HF model.
//
// The architecture (tensor names, linears by role, biases, GGUF layout) is a row of the table
// in lib/model/arch.h, found when the config is read and kept in ft_config.arch_row.
//
// Files: model_config.c (ft_config), model_load.c (tensor table, HF dirs, GGUF),
// model_forward.c (forward, activations), model_block.c (the decoder block, forward and
// backward), model_kv.c (KV cache decoding), model_kvbatch.c (batched decoding over cache slots),
// model_device.c (a model on a device op table).
#ifndef FT_MODEL_H
#define FT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/arch.h"
#include "ops.h"

struct gguf_file;
struct ft_qweight;        // frozen quantized linear weight (QLoRA NF4): lib/model/qweight.h
struct ft_qtensor;        // frozen weight in its compact GGUF storage (inference): format/qtensor.h
struct ft_bottleneck;     // bottleneck adapter on a linear's output: lib/model/bottleneck.h
struct ft_virtual;        // prompt / prefix tuning virtual tokens: lib/model/virtual.h

// ---- configuration --------------------------------------------------------------------
enum { FT_ROPE_NONE = 0, FT_ROPE_LINEAR = 1, FT_ROPE_LLAMA3 = 2 };
#define FT_MAX_EOS 8

typedef struct ft_config {
    char arch[32];            // "llama" (also Mistral, SmolLM, TinyLlama), "qwen2": the row's name
    const ft_arch *arch_row;  // its row of lib/model/arch.h; NULL in a config built in memory: found by
                              // arch when the model is made (ft_model_new), and then never NULL
    int vocab_size;           // V
    int hidden;               // C
    int intermediate;         // F
    int n_layers;             // L
    int n_heads;              // Hq
    int n_kv_heads;           // Hkv (GQA: Hq % Hkv == 0)
    int head_dim;             // D (usually C / Hq)
    float rms_eps;
    float rope_theta;
    int rope_scaling;         // FT_ROPE_*
    float rope_factor;        // linear / llama3 "factor"
    float rope_low_freq_factor, rope_high_freq_factor;   // llama3
    int rope_orig_max_pos;    // llama3 "original_max_position_embeddings"
    int max_pos;              // max_position_embeddings / context_length
    bool tie_embeddings;      // lm_head shares model.embed_tokens.weight
    bool attn_bias;           // the row's attn_bias linears (q/k/v) carry biases (qwen2 always)
    int bos_id;               // -1 unknown
    int n_eos;                // EOS / end-of-turn ids (generation stops at any)
    int eos_ids[FT_MAX_EOS];
    // Gemma 3 (0 elsewhere): sliding-window attention of sliding_window keys (the query's own
    // included) on the layers l with (l + 1) % swa_pattern != 0, whose rope base is
    // rope_local_theta (no rope scaling); attention scores scaled by 1/sqrt(query_scalar)
    // (query_pre_attn_scalar; 0: head_dim).
    int sliding_window;
    int swa_pattern;
    float rope_local_theta;
    float query_scalar;
} ft_config;

// From an HF config.json (path of the file). Fills every field, sets defaults HF uses.
int ft_config_from_json(ft_config *c, const char *path);
// From GGUF metadata (general.architecture, ARCH.block_count, ...).
int ft_config_from_gguf(ft_config *c, const struct gguf_file *g);
// Checks consistency (divisibility, positive sizes); message names the source.
int ft_config_validate(const ft_config *c, const char *src);
// Rotary frequencies inv_freq(D/2), including rope scaling (linear, llama3).
void ft_config_inv_freq(const ft_config *c, float *inv_freq);
// The same for the sliding-window layers (base rope_local_theta, unscaled).
void ft_config_inv_freq_local(const ft_config *c, float *inv_freq);
// Whether layer l attends through a sliding window (Gemma 3's local layers).
bool ft_config_layer_swa(const ft_config *c, int l);
// Add an EOS/end-of-turn id (deduplicated; ignored when full or negative).
void ft_config_add_eos(ft_config *c, int id);
// The HF config.json text for c (LlamaForCausalLM / Qwen2ForCausalLM, lib/model/arch.h), malloc'd:
// dtype is what the weights are stored as ("float32", "bfloat16", "float16"), written as both
// "dtype" (transformers 5) and "torch_dtype" (earlier versions); pad_id >= 0 adds pad_token_id.
char *ft_config_to_json(const ft_config *c, const char *dtype, int pad_id);
// When a row of len positions (a flag's value, e.g. "--seq-len"; n_virtual prompt/prefix
// tokens in front) reaches past the model's max_position_embeddings: the warning for the tool
// to print, in buf; NULL when it fits (or max_pos is unknown).
const char *ft_config_ctx_warning(const ft_config *c, long len, int n_virtual, const char *flag, char *buf,
                                  size_t cap);

// ---- weights --------------------------------------------------------------------------
// One entry of the size/offset table: an HF-named tensor living in model->params.
typedef struct ft_tensor_info {
    char name[96];            // "model.layers.3.self_attn.q_proj.weight"
    int n_dims;               // 1 or 2
    int64_t shape[2];         // HF (row-major) shape: (out, in) for linears
    size_t offset;            // in floats, into params
    size_t numel;
    bool hf_plus_one;         // a (1 + w) norm (ft_arch.norm_plus_one): held as 1 + w, HF files store w
} ft_tensor_info;

// LoRA hook on a linear layer: y += scale * (x @ A^T) @ B^T.
// Memory is owned by whoever attaches it (lib/peft/lora.c); the forward only reads A and B.
// The backward can recompute u = x @ A^T (N, r) from the saved linear input.
typedef struct ft_lora {
    float *A;                 // (r, in)
    float *B;                 // (out, r)
    float *dA, *dB;           // gradients (same shapes) or NULL; for the trainer's use
    int r;
    float scale;              // alpha / r (or alpha / sqrt(r) for rsLoRA)
    // DoRA (lib/model/dora.h): NULL = plain LoRA. y = b + mag / ||W + scale*B@A||_row * (W + scale*B@A) x
    float *mag;               // (out) lora_magnitude_vector
    float *dmag;              // (out) its gradient or NULL
    float *norm;              // (out) ||W + scale*B@A||_row precomputed for a frozen DoRA adapter
                              // (inference: lib/peft/lora.c ft_adapter_apply), or NULL: each forward computes it
    // LoRA dropout on the adapter's input (PEFT lora_B(lora_A(dropout(x)))): training only,
    // set per micro-batch by the trainer (ft_adapter_set_dropout); 0 = off. Not with DoRA.
    float drop_p;
    uint64_t drop_seed;       // the mask is ops->dropout's hash of (drop_seed, element index)
    // PEFT lora_bias: lora_B's own bias, y += scale * (B A x + bias); NULL = none (not with DoRA)
    float *bias;              // (out)
    float *dbias;             // (out) its gradient or NULL
} ft_lora;

typedef struct ft_linear {
    float *w;                 // (out, in)  into params; NULL when qw holds the weight
    const struct ft_qweight *qw; // frozen quantized weight (QLoRA) or NULL
    const struct ft_qtensor *qt; // frozen weight in its GGUF blocks (inference only: ft_model_load_native) or NULL
    float *b;                 // (out) or NULL
    int in, out;
    ft_lora *lora;            // NULL = no adapter
    struct ft_bottleneck *post; // bottleneck adapter applied to this linear's output, or NULL
    int w_idx, b_idx;         // index in model->tensors (b_idx -1 when no bias)
} ft_linear;

typedef struct ft_layer {
    float *attn_norm;         // (C) model.layers.N.input_layernorm.weight
    ft_linear q, k, v, o;     // q (Hq*D, C), k/v (Hkv*D, C), o (C, Hq*D)
    float *mlp_norm;          // (C) model.layers.N.post_attention_layernorm.weight
    ft_linear gate, up, down; // gate/up (F, C), down (C, F)
    // only where the row has them (else NULL): per-head q/k norms (D) before rope; Gemma's
    // norms (C) on the attention and MLP outputs before the residual add
    float *q_norm, *k_norm;
    float *attn_post_norm, *mlp_post_norm;
} ft_layer;

typedef struct ft_model {
    ft_config cfg;
    float *params;            // (n_params,) every weight, f32, one allocation
    size_t n_params;
    int n_tensors;
    ft_tensor_info *tensors;  // (n_tensors,) table in HF names; offsets into params
    float *embed;             // (V, C) model.embed_tokens.weight
    ft_layer *layers;         // (L,)
    float *norm;              // (C) model.norm.weight
    float *lm_head;           // (V, C) lm_head.weight (== embed when tied)
    float *inv_freq;          // (D/2) rotary frequencies (scaled)
    const ft_ops *ops;        // op table used by the forward (default: ft_ops_cpu())
    struct ft_virtual *virt;  // prompt/prefix tuning virtual tokens (lib/model/virtual.h) or NULL
    struct ft_qweight *qstore; // (L*FT_LIN_COUNT) NF4 storage of the linears, owned (QLoRA, lib/model/qweight.h) or NULL
    struct ft_qtensor *qtstore; // (L*FT_LIN_COUNT + 1) compact GGUF storage of the linears and the LM head, owned
                              // (ft_model_load_native, lib/model/qweight.h) or NULL
    const struct ft_qtensor *lm_head_qt; // the LM head's compact copy for inference logits, or NULL
    char *path;               // where it was loaded from
    char *tokenizer_path;     // tokenizer.json of an HF dir, or the .gguf itself; NULL if none
    struct ft_model_dev *dev; // device copies of attached adapters (lib/model/model_device.c) or NULL
    void (*release_device)(struct ft_model *m);   // frees the device buffers; set by ft_model_to_device
    float *inv_freq_local;    // (D/2) rotary frequencies of the sliding-window layers, or NULL (none)
} ft_model;

// Load from an HF dir (config.json + model.safetensors or sharded index; F32/F16/BF16),
// a GGUF file (dequantized to f32; llama-arch Q/K rows un-permuted), or a .safetensors
// file next to a config.json. Errors name the file and the tensor.
ft_model *ft_model_load(const char *path);
ft_model *ft_model_load_hf(const char *dir);
ft_model *ft_model_load_gguf(const char *path);
void ft_model_free(ft_model *m);
// Build the tensor table for cfg and allocate params (zeroed); used by the loaders and by
// tests that make models in memory.
ft_model *ft_model_new(const ft_config *cfg);
// Tensor by HF name, or NULL.
const ft_tensor_info *ft_model_tensor(const ft_model *m, const char *name);
float *ft_model_tensor_data(ft_model *m, const char *name);
// The linear layer named "model.layers.N.self_attn.q_proj" (or with ".weight"), or NULL;
// for attaching adapters by PEFT target name.
ft_linear *ft_model_linear(ft_model *m, const char *name);
// Iterate the linears of layer l by role: i = FT_LIN_Q..FT_LIN_DOWN (0..FT_LIN_COUNT-1) ->
// q,k,v,o,gate,up,down; short_name gets the row's HF name "q_proj", ...; NULL out of range.
ft_linear *ft_model_layer_linear(ft_model *m, int l, int i, const char **short_name);
// The member of ly holding linear `role` (ly->q for FT_LIN_Q, ...). These three: lib/model/layer.c.
ft_linear *ft_layer_linear(ft_layer *ly, int role);
// The member of ly holding norm `role` (ly->attn_norm for FT_NORM_ATTN, ly->mlp_norm).
float **ft_layer_norm(ft_layer *ly, int role);
// Move m onto the op table `ops` (kernels/ops.h): on a table whose buffers are host memory
// (cpu) it only switches m->ops; otherwise the parameters go into one device buffer (uploaded
// once; every tensor pointer of m then is a device handle, not for host access) and m->ops
// runs the forward/decode. Attached adapters are copied to the device: LoRA and DoRA hooks
// (the linears then point at the model's device copies; the adapter's own stay on the host),
// a bottleneck adapter set (lin->post), prompt/prefix virtual tokens (m->virt), and the NF4
// weights of a quantized base (lin->qw); gradients (zeroed) when the host copies had them.
// Refused naming the op when the table lacks one they need (docs/cuda.md). Call after the
// adapters are applied. (lib/model/model_device.c)
int ft_model_to_device(ft_model *m, const ft_ops *ops);
// The device copies of the attached LoRA hooks (after ft_model_to_device onto a device) as
// flat buffers: A then B (then DoRA's mag) of each hook in layer/linear order, and the same
// layout for their gradients (zeroed at the move; NULL unless every hook had dA/dB(/dmag)). Returns the float count,
// 0 when there are none. For training on a device (tests/cuda, benchmarks).
size_t ft_model_device_lora(const ft_model *m, float **params, float **grads);
// The same for the device copy of an attached bottleneck set or of the virtual tokens: their
// flat trainable parameters and gradients (NULL unless the host copy had gradients), in the
// host's layout (ft_bottleneck_set.params, ft_virtual_params). 0 when there is none.
size_t ft_model_device_adapter(const ft_model *m, float **params, float **grads);
// Frees m's device buffers (ft_model_free calls it through m->release_device); nothing on the
// host-memory tables.
void ft_model_release_device(ft_model *m);
// FLOPs (2 per multiply-add) of the forward pass per token, for rows of T tokens (causal
// attention averaged over positions; lm_head on every position). For GFLOP/s reports.
double ft_model_flops_per_token(const ft_config *c, int T);

// ---- activations and the forward pass ---------------------------------------------------
// Per-layer activations (N = B*T positions). Everything the backward needs.
typedef struct ft_layer_acts {
    float *x;                 // (N, C) layer input (residual stream)
    float *ln1;               // (N, C) input_layernorm(x): input of q/k/v
    float *ln1_rstd;          // (N)
    float *q;                 // (N, Hq*D)  q_proj(ln1) (+bias, +LoRA), after rope
    float *k;                 // (N, Hkv*D) after rope
    float *v;                 // (N, Hkv*D)
    float *att;               // (N, Hq*D)  attention output: input of o_proj
    float *lse;               // (B, Hq, T) softmax log-sum-exp per query row
    float *x_mid;             // (N, C) x + o_proj(att): input of post_attention_layernorm
    float *ln2;               // (N, C) post_attention_layernorm(x_mid): input of gate/up
    float *ln2_rstd;          // (N)
    float *gate;              // (N, F) gate_proj(ln2), before silu
    float *up;                // (N, F) up_proj(ln2)
    float *act;               // (N, F) silu(gate) * up: input of down_proj
    // only when the row has the norms (else NULL):
    float *q_pre, *k_pre;     // (N, Hq*D), (N, Hkv*D) q/k projections before their per-head norm
    float *q_rstd, *k_rstd;   // (N*Hq), (N*Hkv)
    float *ao, *ao_rstd;      // (N, C) o_proj output before the post-attention norm, (N)
    float *mo, *mo_rstd;      // (N, C) down_proj output before the post-MLP norm, (N)
} ft_layer_acts;
// The output of layer l (x_mid + down_proj(act)) is the x of layer l+1, and a->x_out after
// the last layer.

typedef struct ft_acts {
    int B, T;                 // capacity (forward may use smaller B, T with B*T <= B*T cap)
    int train;                // 1: every layer's activations kept; 0: one set reused
    int L;
    float *buf;               // one allocation
    size_t n_floats;
    ft_layer_acts *layer;     // (L,) (in inference mode all entries share the same memory)
    float *x_out;             // (N, C) output of the last layer (input of model.norm)
    float *lnf;               // (N, C) model.norm(x_out): input of lm_head
    float *lnf_rstd;          // (N)
    float *tmp;               // (N, max(C, F, Hq*D)) scratch: projection outputs before residual add
    float *lora_tmp;          // (N, r) + (N, out) scratch for LoRA, grown on demand
    size_t lora_cap;
    int32_t *pos;             // (N) positions used by the last forward (device buffer)
    int32_t *doc;             // (N) document ids used by the last forward (device buffer)
    // Buffers of the op table ops (kernels/ops.h): buf, pos, doc, tok, tgt, msk, logits and
    // lora_tmp are device memory; pos_h/doc_h the host staging of pos/doc (the same buffers
    // when ops->host_access). tok/tgt/msk receive the caller's ids, targets and mask when the
    // device cannot read host memory (on the CPU the caller's arrays are used as they are).
    const ft_ops *ops;
    int32_t *pos_h, *doc_h;   // (N)
    int32_t *tok, *tgt;       // (N) device copies (NULL when ops->host_access)
    uint8_t *msk;             // (N)
    float *logits;            // (rows, V) device logits for ft_model_logits, grown on demand
    size_t logits_cap;        // floats
} ft_acts;

// Activation buffers for B rows of T positions, on the CPU table (ft_acts_alloc) or on m's
// (ft_model_acts_alloc: what ft_model_forward needs when m is on a device).
int ft_acts_alloc(ft_acts *a, const ft_config *c, int B, int T, int train);
int ft_acts_alloc_ops(ft_acts *a, const ft_ops *ops, const ft_config *c, int B, int T, int train);
int ft_model_acts_alloc(const ft_model *m, ft_acts *a, int B, int T, int train);
void ft_acts_free(ft_acts *a);
// Helpers of the model glue: a's device logits buffer of at least n floats (NULL + ft_err on
// failure); ids (n) as the device reads them: ids itself on host-memory tables, else
// uploaded into dev (NULL on failure; NULL ids stay NULL).
float *ft_acts_logits(ft_acts *a, size_t n);
const int32_t *ft_acts_ids(ft_acts *a, int32_t *dev, const int32_t *ids, size_t n);

// Forward over B rows of T tokens: tokens/pos/doc are (B, T) row-major.
// pos NULL: 0..T-1 per row; doc NULL: one document per row. For packed rows pass positions
// restarting at each document and a doc id per token (attention stays within a document).
// tokens NULL: the caller has written the input embeddings into a->layer[0].x (N, C)
// (not with m->virt). With m->virt (prompt/prefix tuning, lib/model/virtual.h) the n virtual
// positions run in front of every row and a->lnf holds only the rows' own B*T positions;
// doc must be NULL and a sized for T + n. Leaves model.norm output in a->lnf. Returns 0 or -1.
int ft_model_forward(ft_model *m, ft_acts *a, const int32_t *tokens, const int32_t *pos, const int32_t *doc,
                     int B, int T);
// The factor token embeddings are multiplied by before the first layer: sqrt(hidden) where the
// row says so (Gemma), else 1.
float ft_model_embed_scale(const ft_config *c);
// Summed cross-entropy over positions n < N with mask[n] != 0 (NULL = all) of a->lnf
// against targets(N) (already shifted: target[n] is the token after n). No gradients.
double ft_model_loss(ft_model *m, ft_acts *a, const int32_t *targets, const uint8_t *mask, int N);
// The loss head's per-row results (kernels/ops.h lm_head_xent_rows) over the N = B*T real
// positions: for sequence-level objectives (lib/train/objective.h), which turn whole rows'
// log-probabilities into a loss and its per-position gradient weights.
typedef struct ft_loss_rows {
    const float *gweight;     // (N) gradient weight of each position in place of grad_scale, or NULL
    const int32_t *row;       // (N) row of each position in [0, n_rows), or NULL: one row per position
    double *row_logp;         // (n_rows) out: summed log-probabilities of the targets, or NULL
    int n_rows;
} ft_loss_rows;
// ft_model_loss that also fills rows->row_logp (rows may be NULL).
double ft_model_loss_rows(ft_model *m, ft_acts *a, const int32_t *targets, const uint8_t *mask, int N,
                          const ft_loss_rows *rows);
// The same over rows row0 .. row0+N-1 of a->lnf (targets, mask: N entries).
double ft_model_loss_at(ft_model *m, ft_acts *a, int row0, const int32_t *targets, const uint8_t *mask, int N);
// logits(n_rows, V) (host memory) for rows `rows` of a->lnf (NULL rows: the first n_rows).
void ft_model_logits(ft_model *m, ft_acts *a, const int *rows, int n_rows, float *logits);

// One decoder layer l over B rows of T positions (lib/model/model_block.c), shared by the training
// forward and KV-cache decoding: la->x in, io->out (the next layer's input) out, every
// intermediate kept in la; keys/values written to io->k/io->v (after rope). p0 == 0: causal
// attention over those (document ids io->doc or NULL); p0 > 0 (decoding, B = 1): the T new
// queries attend over the cache io->kc/io->vc, positions 0 .. p0 + i. prefix: prompt/prefix
// tuning's virtual keys/values are written over the first positions of each row (training).
// Uses a->pos, a->tmp and a->lora_tmp (reserved for B*T rows).
typedef struct ft_block_io {
    int B, T, p0;
    float *k, *v;             // (B*T, Hkv*D) this layer's keys (after rope) and values
    const float *kc, *vc;     // p0 > 0: the whole cache, (p0 + T, Hkv*D)
    const int32_t *doc;       // (B*T) device buffer or NULL
    int prefix;
    float *out;               // (B*T, C)
    // batched decoding (ft_model_decode_batch): when slot is set, row i is a new position of
    // sequence slot[i] (device buffer) and attends over that slot of kslots/vslots
    // (S, max_T, Hkv*D) with the op table's attention_decode, which stores k/v there first
    const int32_t *slot;
    float *kslots, *vslots;
    int max_T;
} ft_block_io;
void ft_block_forward(ft_model *m, int l, ft_layer_acts *la, const ft_acts *a, const ft_block_io *io);

// One linear layer with its hooks (lib/model/linear.c): out(N, lin->out) = x(N, lin->in) @ w^T + b
// (w or the quantized qw), + LoRA or DoRA, then the bottleneck adapter on the output.
// tmp must hold ft_linear_scratch(lin, N, 0) floats (may be NULL when that is 0).
void ft_linear_forward(const ft_ops *ops, const ft_linear *lin, float *out, const float *x, int N, float *tmp);
// logits(n, V) = h(n, C) @ lm_head^T on m's op table: the compact head (m->lm_head_qt) when the
// model has one, else the f32 lm_head (lib/model/linear.c).
void ft_model_head_logits(const ft_model *m, float *logits, const float *h, int n);
// Scratch floats ft_linear_forward (backward = 0) or ft_linear_backward (1) needs for N rows.
size_t ft_linear_scratch(const ft_linear *lin, int N, int backward);
// Grow *buf (capacity *cap floats) to the largest ft_linear_scratch of m's linears for N rows.
int ft_model_reserve_scratch(ft_model *m, int N, int backward, float **buf, size_t *cap);

// ---- inference with a KV cache (one sequence) ---------------------------------------------
typedef struct ft_kvcache {
    int L, max_T, kv_dim;     // kv_dim = Hkv * D
    int n;                    // positions filled
    float *k, *v;             // (L, max_T, kv_dim) each, keys after rope
    ft_acts acts;             // inference activations for up to max_chunk positions
    int max_chunk;
    const ft_ops *ops;        // the model's op table at init: k, v are its device buffers
} ft_kvcache;

int ft_kvcache_init(ft_kvcache *kv, const ft_model *m, int max_T, int max_chunk);
void ft_kvcache_free(ft_kvcache *kv);
void ft_kvcache_reset(ft_kvcache *kv);
// Append n tokens (any n; processed in chunks of max_chunk) at positions kv->n.. and write
// the logits (V) of the last one into logits (may be NULL). -1 when the cache is full.
int ft_model_decode(ft_model *m, ft_kvcache *kv, const int32_t *tokens, int n, float *logits);

// ---- batched decoding: many sequences, one slot each in a shared cache ----------------------
// Each forward runs the new positions of several sequences as rows of one batch (the linears
// see M = rows, not one matrix-vector product per sequence); a finished sequence's slot is
// reset and refilled by the next (continuous batching: tools/ft-eval/generate.c). Not with
// prompt/prefix tuning (m->virt): ft_model_decode is.
typedef struct ft_kvbatch {
    int L, S, max_T, kv_dim;  // S slots of max_T positions
    int max_rows;             // rows per forward (larger calls are split)
    int *len;                 // (S) positions filled in each slot (host)
    float *k, *v;             // (L, S, max_T, kv_dim) each, keys after rope (device buffers)
    float *kn, *vn;           // (max_rows, kv_dim) the new rows' keys/values of one layer
    int32_t *slot, *slot_h;   // (max_rows) slot of each row: device buffer, host staging
    ft_acts acts;             // inference activations for max_rows positions
    const ft_ops *ops;
} ft_kvbatch;
int ft_kvbatch_init(ft_kvbatch *kb, const ft_model *m, int S, int max_T, int max_rows);
// Whether m decodes in batches (ft_kvbatch): plain causal attention, no virtual tokens.
int ft_model_can_batch_decode(const ft_model *m);
void ft_kvbatch_free(ft_kvbatch *kb);
// Empty slot s for a new sequence.
void ft_kvbatch_reset(ft_kvbatch *kb, int s);
// Append n rows: row i is token tokens[i] of sequence slots[i], at that slot's next position
// (a slot's rows in order). logits (n_out, V) host memory: those of rows out_rows[0..n_out)
// in ascending order (NULL/0: none). -1 (nothing appended for the failing chunk) on a bad
// token or slot, or a full slot.
int ft_model_decode_batch(ft_model *m, ft_kvbatch *kb, const int32_t *tokens, const int32_t *slots, int n,
                          float *logits, const int *out_rows, int n_out);

#endif
