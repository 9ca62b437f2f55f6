// arch.c — the architecture table (see arch.h) and the lookups and tensor naming built on it.
// This is the only file that compares architecture names.
#include "model/arch.h"
#include "core/err.h"
#include "model/model.h"

#include <stdio.h>
#include <string.h>

// The Llama family's globals and linears: HF LlamaDecoderLayer / llama.cpp LLM_ARCH_LLAMA names.
#define LLAMA_GLOBAL_LIN                                                                                 \
    .hf_layers = "model.layers", .gguf_layers = "blk",                                                 \
    .global = {[FT_GLOBAL_EMBED] = {"model.embed_tokens", "token_embd"},                                 \
               [FT_GLOBAL_NORM] = {"model.norm", "output_norm"},                                         \
               [FT_GLOBAL_HEAD] = {"lm_head", "output"}},                                                \
    .lin = {[FT_LIN_Q] = {"q_proj", "self_attn", "attn_q", "q", FT_DIM_Q, FT_DIM_HIDDEN, true, FT_ROPE_ROWS_Q},   \
            [FT_LIN_K] = {"k_proj", "self_attn", "attn_k", "k", FT_DIM_KV, FT_DIM_HIDDEN, true, FT_ROPE_ROWS_KV}, \
            [FT_LIN_V] = {"v_proj", "self_attn", "attn_v", "v", FT_DIM_KV, FT_DIM_HIDDEN, true, FT_ROPE_ROWS_NONE}, \
            [FT_LIN_O] = {"o_proj", "self_attn", "attn_output", "o", FT_DIM_HIDDEN, FT_DIM_Q, false,              \
                          FT_ROPE_ROWS_NONE},                                                                    \
            [FT_LIN_GATE] = {"gate_proj", "mlp", "ffn_gate", "gate", FT_DIM_FFN, FT_DIM_HIDDEN, false,            \
                             FT_ROPE_ROWS_NONE},                                                                 \
            [FT_LIN_UP] = {"up_proj", "mlp", "ffn_up", "up", FT_DIM_FFN, FT_DIM_HIDDEN, false, FT_ROPE_ROWS_NONE}, \
            [FT_LIN_DOWN] = {"down_proj", "mlp", "ffn_down", "down", FT_DIM_HIDDEN, FT_DIM_FFN, false,            \
                             FT_ROPE_ROWS_NONE}}

// The Llama layer: two norms, SiLU MLP.
#define LLAMA_LAYER                                                                                      \
    LLAMA_GLOBAL_LIN,                                                                                    \
    .norm = {[FT_NORM_ATTN] = {"input_layernorm", "attn_norm"},                                          \
             [FT_NORM_MLP] = {"post_attention_layernorm", "ffn_norm"}},                                  \
    .layer_order = {{true, FT_NORM_ATTN}, {false, FT_LIN_Q}, {false, FT_LIN_K}, {false, FT_LIN_V},               \
                    {false, FT_LIN_O}, {false, FT_LIN_GATE}, {false, FT_LIN_UP}, {false, FT_LIN_DOWN},           \
                    {true, FT_NORM_MLP}},                                                                        \
    .n_slots = 9, .act = FT_ACT_SILU, .hf_act = "silu"

// Qwen3 (HF Qwen3DecoderLayer, llama.cpp LLM_ARCH_QWEN3): Llama's layer plus q_norm/k_norm per head.
#define QWEN3_LAYER                                                                                      \
    LLAMA_GLOBAL_LIN,                                                                                    \
    .norm = {[FT_NORM_ATTN] = {"input_layernorm", "attn_norm"},                                          \
             [FT_NORM_MLP] = {"post_attention_layernorm", "ffn_norm"},                                   \
             [FT_NORM_Q] = {"self_attn.q_norm", "attn_q_norm"}, [FT_NORM_K] = {"self_attn.k_norm", "attn_k_norm"}}, \
    .layer_order = {{true, FT_NORM_ATTN}, {false, FT_LIN_Q}, {false, FT_LIN_K}, {false, FT_LIN_V},               \
                    {false, FT_LIN_O}, {true, FT_NORM_Q}, {true, FT_NORM_K}, {false, FT_LIN_GATE},                \
                    {false, FT_LIN_UP}, {false, FT_LIN_DOWN}, {true, FT_NORM_MLP}},                              \
    .n_slots = 11, .act = FT_ACT_SILU, .hf_act = "silu"

// Gemma 3 text (HF Gemma3DecoderLayer, llama.cpp LLM_ARCH_GEMMA3): pre- and post-norms around
// attention and the MLP, q/k norms, GeGLU.
#define GEMMA3_LAYER                                                                                     \
    LLAMA_GLOBAL_LIN,                                                                                    \
    .norm = {[FT_NORM_ATTN] = {"input_layernorm", "attn_norm"},                                          \
             [FT_NORM_MLP] = {"pre_feedforward_layernorm", "ffn_norm"},                                  \
             [FT_NORM_Q] = {"self_attn.q_norm", "attn_q_norm"}, [FT_NORM_K] = {"self_attn.k_norm", "attn_k_norm"}, \
             [FT_NORM_ATTN_POST] = {"post_attention_layernorm", "post_attention_norm"},                  \
             [FT_NORM_MLP_POST] = {"post_feedforward_layernorm", "post_ffw_norm"}},                      \
    .layer_order = {{true, FT_NORM_ATTN}, {false, FT_LIN_Q}, {false, FT_LIN_K}, {false, FT_LIN_V},               \
                    {false, FT_LIN_O}, {true, FT_NORM_Q}, {true, FT_NORM_K}, {true, FT_NORM_ATTN_POST},           \
                    {true, FT_NORM_MLP}, {false, FT_LIN_GATE}, {false, FT_LIN_UP}, {false, FT_LIN_DOWN},          \
                    {true, FT_NORM_MLP_POST}},                                                                   \
    .n_slots = 13, .act = FT_ACT_GELU_TANH, .hf_act = "gelu_pytorch_tanh"

static const char *const LLAMA_HF[] = {"llama", "mistral", NULL};     // SmolLM, TinyLlama, Llama 3.x: "llama"
static const char *const LLAMA_GGUF[] = {"llama", "mistral", NULL};
static const char *const QWEN2_HF[] = {"qwen2", NULL};
static const char *const QWEN2_GGUF[] = {"qwen2", NULL};
static const char *const QWEN3_HF[] = {"qwen3", NULL};
static const char *const QWEN3_GGUF[] = {"qwen3", NULL};
static const char *const GEMMA3_HF[] = {"gemma3_text", NULL};         // the 270M and 1B text models
static const char *const GEMMA3_GGUF[] = {"gemma3", NULL};

static const ft_arch ARCHS[] = {
    {.name = "llama", .hf_model_types = LLAMA_HF, .hf_model_type = "llama", .hf_class = "LlamaForCausalLM",
     .gguf_archs = LLAMA_GGUF, LLAMA_LAYER, .qkv_bias = false, .bias_key = "attention_bias",
     .bias_key_written = true, .gguf_permute_qk = true},
    {.name = "qwen2", .hf_model_types = QWEN2_HF, .hf_model_type = "qwen2", .hf_class = "Qwen2ForCausalLM",
     .gguf_archs = QWEN2_GGUF, LLAMA_LAYER, .qkv_bias = true, .bias_key = "attention_bias",
     .bias_key_written = false, .gguf_permute_qk = false},
    {.name = "qwen3", .hf_model_types = QWEN3_HF, .hf_model_type = "qwen3", .hf_class = "Qwen3ForCausalLM",
     .gguf_archs = QWEN3_GGUF, QWEN3_LAYER, .qkv_bias = false, .bias_key = "attention_bias",
     .bias_key_written = true, .gguf_permute_qk = false},
    {.name = "gemma3", .hf_model_types = GEMMA3_HF, .hf_model_type = "gemma3_text", .hf_class = "Gemma3ForCausalLM",
     .gguf_archs = GEMMA3_GGUF, GEMMA3_LAYER, .qkv_bias = false, .bias_key = "attention_bias",
     .bias_key_written = true, .gguf_permute_qk = false, .norm_plus_one = true, .embed_scale = true,
     .swa_pattern = 6, .hf_act_key = "hidden_activation", .eot_token = "<end_of_turn>"},
};
#define N_ARCHS ((int)(sizeof ARCHS / sizeof *ARCHS))

const ft_arch *ft_arch_table(int *n) {
    if (n) *n = N_ARCHS;
    return ARCHS;
}

const ft_arch *ft_arch_by_name(const char *name) {
    for (int i = 0; name && i < N_ARCHS; i++)
        if (!strcmp(ARCHS[i].name, name)) return &ARCHS[i];
    return NULL;
}

static int in_list(const char *const *list, const char *s) {
    for (; *list; list++)
        if (!strcmp(*list, s)) return 1;
    return 0;
}

const char *ft_arch_supported(int gguf, char *buf, size_t cap) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < N_ARCHS; i++)
        for (const char *const *n = gguf ? ARCHS[i].gguf_archs : ARCHS[i].hf_model_types; *n; n++) {
            int w = snprintf(buf + k, cap - k, "%s%s", k ? ", " : "", *n);
            if (w < 0 || (size_t)w >= cap - k) return buf;
            k += (size_t)w;
        }
    return buf;
}

const ft_arch *ft_arch_from_hf(const char *mt, const char *src) {
    for (int i = 0; i < N_ARCHS; i++)
        if (in_list(ARCHS[i].hf_model_types, mt)) return &ARCHS[i];
    char list[256];
    ft_err("%s: unsupported model_type \"%s\" (supported: %s)", src, mt, ft_arch_supported(0, list, sizeof list));
    return NULL;
}

const ft_arch *ft_arch_from_gguf(const char *ga, const char *src) {
    for (int i = 0; i < N_ARCHS; i++)
        if (in_list(ARCHS[i].gguf_archs, ga)) return &ARCHS[i];
    char list[256];
    ft_err("%s: unsupported architecture \"%s\" (supported: %s)", src, ga, ft_arch_supported(1, list, sizeof list));
    return NULL;
}

const ft_arch *ft_config_arch(const ft_config *c) {
    if (c->arch_row) return c->arch_row;
    const ft_arch *a = ft_arch_by_name(c->arch);
    if (!a) {
        char list[256] = "";
        size_t k = 0;
        for (int i = 0; i < N_ARCHS; i++) k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", ARCHS[i].name);
        ft_err("model config: unknown architecture \"%s\" (known: %s)", c->arch, list);
    }
    return a;
}

int ft_arch_dim_size(const ft_config *c, ft_arch_dim d) {
    switch (d) {
    case FT_DIM_HIDDEN: return c->hidden;
    case FT_DIM_FFN: return c->intermediate;
    case FT_DIM_Q: return c->n_heads * c->head_dim;
    case FT_DIM_KV: return c->n_kv_heads * c->head_dim;
    }
    return 0;
}

void ft_arch_linear_name(const ft_arch *a, int l, int role, char *out, size_t cap) {
    snprintf(out, cap, "%s.%d.%s.%s", a->hf_layers, l, a->lin[role].module, a->lin[role].hf);
}

void ft_arch_global_name(const ft_arch *a, int role, char *out, size_t cap) {
    snprintf(out, cap, "%s.weight", a->global[role].hf);
}

bool ft_arch_has_norm(const ft_arch *a, int role) { return role >= 0 && role < FT_NORM_COUNT && a->norm[role].hf; }

int ft_arch_norm_size(const ft_config *c, int role) {
    return role == FT_NORM_Q || role == FT_NORM_K ? c->head_dim : c->hidden;
}

void ft_arch_norm_name(const ft_arch *a, int l, int role, char *out, size_t cap) {
    snprintf(out, cap, "%s.%d.%s.weight", a->hf_layers, l, a->norm[role].hf);
}

// "PREFIX.N." at the start of s: the layer in *l, the length or -1.
static int layer_prefix(const char *s, const char *prefix, int *l) {
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) || s[n] != '.' || s[n + 1] < '0' || s[n + 1] > '9') return -1;
    long v = 0;
    size_t k = n + 1;
    for (; s[k] >= '0' && s[k] <= '9'; k++) {
        v = v * 10 + (s[k] - '0');
        if (v > 1000000) return -1;
    }
    if (s[k] != '.' || (s[n + 1] == '0' && k > n + 2)) return -1;   // no leading zeros: one spelling per name
    *l = (int)v;
    return (int)k + 1;
}

// s starts with "A.B" followed by '.' or the end: the length, else -1.
static int starts_pair(const char *s, const char *a, const char *b) {
    size_t na = strlen(a), nb = b ? strlen(b) : 0;
    if (strncmp(s, a, na)) return -1;
    if (b) {
        if (s[na] != '.' || strncmp(s + na + 1, b, nb)) return -1;
        na += 1 + nb;
    }
    return s[na] == '.' || !s[na] ? (int)na : -1;
}

int ft_arch_parse_linear(const ft_arch *a, const char *name, int *l, int *role) {
    int k = layer_prefix(name, a->hf_layers, l);
    if (k < 0) return -1;
    for (int r = 0; r < FT_LIN_COUNT; r++) {
        int n = starts_pair(name + k, a->lin[r].module, a->lin[r].hf);
        if (n >= 0) {
            *role = r;
            return k + n;
        }
    }
    return -1;
}

// One side of the name map: the global names, then per layer norms and linears.
static int map_name(const ft_arch *a, const char *in, int to_gguf, char *out, size_t cap) {
    for (int g = 0; g < FT_GLOBAL_COUNT; g++) {
        const char *from = to_gguf ? a->global[g].hf : a->global[g].gguf, *to = to_gguf ? a->global[g].gguf : a->global[g].hf;
        int n = starts_pair(in, from, NULL);
        if (n >= 0 && in[n]) {
            snprintf(out, cap, "%s%s", to, in + n);
            return 0;
        }
    }
    int l, k = layer_prefix(in, to_gguf ? a->hf_layers : a->gguf_layers, &l);
    if (k < 0) return -1;
    const char *rest = in + k;
    for (int r = 0; r < FT_NORM_COUNT; r++) {
        if (!a->norm[r].hf) continue;
        int n = starts_pair(rest, to_gguf ? a->norm[r].hf : a->norm[r].gguf, NULL);
        if (n >= 0 && rest[n]) {
            snprintf(out, cap, "%s.%d.%s%s", to_gguf ? a->gguf_layers : a->hf_layers, l,
                     to_gguf ? a->norm[r].gguf : a->norm[r].hf, rest + n);
            return 0;
        }
    }
    for (int r = 0; r < FT_LIN_COUNT; r++) {
        const ft_arch_linear *li = &a->lin[r];
        int n = to_gguf ? starts_pair(rest, li->module, li->hf) : starts_pair(rest, li->gguf, NULL);
        if (n < 0 || !rest[n]) continue;
        if (to_gguf) snprintf(out, cap, "%s.%d.%s%s", a->gguf_layers, l, li->gguf, rest + n);
        else snprintf(out, cap, "%s.%d.%s.%s%s", a->hf_layers, l, li->module, li->hf, rest + n);
        return 0;
    }
    return -1;
}

int ft_arch_gguf_name(const ft_arch *a, const char *hf, char *out, size_t cap) { return map_name(a, hf, 1, out, cap); }
int ft_arch_hf_name(const ft_arch *a, const char *gguf, char *out, size_t cap) { return map_name(a, gguf, 0, out, cap); }

int ft_arch_gguf_permute_heads(const ft_config *c, const char *hf) {
    const ft_arch *a = ft_config_arch(c);
    int l, role;
    if (!a || !a->gguf_permute_qk || ft_arch_parse_linear(a, hf, &l, &role) < 0) return 0;
    switch (a->lin[role].rope_rows) {
    case FT_ROPE_ROWS_Q: return c->n_heads;
    case FT_ROPE_ROWS_KV: return c->n_kv_heads;
    default: return 0;
    }
}
