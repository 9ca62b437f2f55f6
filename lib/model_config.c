// model_config.c — ft_config from an HF config.json or GGUF metadata, its validation, and
// the rotary frequencies (plain, linear-scaled, and Llama 3.1 "llama3" scaling as HF computes them).
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "gguf.h"
#include "io.h"
#include "model.h"

void ft_config_add_eos(ft_config *c, int id) {
    if (id < 0 || c->n_eos >= FT_MAX_EOS) return;
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_ids[i] == id) return;
    c->eos_ids[c->n_eos++] = id;
}

static void config_defaults(ft_config *c) {
    memset(c, 0, sizeof *c);
    c->rms_eps = 1e-6f;
    c->rope_theta = 10000.f;
    c->rope_factor = 1.f;
    c->rope_low_freq_factor = 1.f;
    c->rope_high_freq_factor = 4.f;
    c->rope_orig_max_pos = 8192;
    c->max_pos = 2048;
    c->bos_id = -1;
}

int ft_config_validate(const ft_config *c, const char *src) {
    if (c->vocab_size <= 0 || c->hidden <= 0 || c->intermediate <= 0 || c->n_layers <= 0 || c->n_heads <= 0 ||
        c->n_kv_heads <= 0 || c->head_dim <= 0)
        return ft_err("%s: incomplete model config (vocab %d, hidden %d, intermediate %d, layers %d, heads %d, "
                      "kv heads %d, head_dim %d)", src, c->vocab_size, c->hidden, c->intermediate, c->n_layers,
                      c->n_heads, c->n_kv_heads, c->head_dim);
    if (c->n_heads % c->n_kv_heads)
        return ft_err("%s: num_attention_heads %d is not a multiple of num_key_value_heads %d", src, c->n_heads,
                      c->n_kv_heads);
    if (c->head_dim % 2) return ft_err("%s: head_dim %d is odd (rotary needs pairs)", src, c->head_dim);
    if (c->vocab_size > (1 << 26) || c->hidden > (1 << 16) || c->intermediate > (1 << 18) || c->n_layers > 1024 ||
        c->n_heads > 1024 || c->head_dim > 1024)
        return ft_err("%s: model config out of range", src);
    if (!(c->rms_eps > 0) || !(c->rope_theta > 0)) return ft_err("%s: bad rms_norm_eps or rope_theta", src);
    if (c->rope_scaling != FT_ROPE_NONE && !(c->rope_factor > 0)) return ft_err("%s: bad rope_scaling factor", src);
    if (c->rope_scaling == FT_ROPE_LLAMA3 && !(c->rope_high_freq_factor > c->rope_low_freq_factor))
        return ft_err("%s: rope_scaling llama3 needs high_freq_factor > low_freq_factor", src);
    return 0;
}

void ft_config_inv_freq(const ft_config *c, float *inv_freq) {
    int half = c->head_dim / 2;
    for (int i = 0; i < half; i++) {
        // HF: 1 / base ** (arange(0, D, 2).float() / D), in float32
        float e = (float)(2 * i) / (float)c->head_dim;
        double f = 1.0 / pow((double)c->rope_theta, (double)e);
        if (c->rope_scaling == FT_ROPE_LINEAR) {
            f /= c->rope_factor;
        } else if (c->rope_scaling == FT_ROPE_LLAMA3) {
            double old = c->rope_orig_max_pos, lo = c->rope_low_freq_factor, hi = c->rope_high_freq_factor;
            double wavelen = 2 * M_PI / f;
            double low_wl = old / lo, high_wl = old / hi;
            if (wavelen > low_wl) {
                f = f / c->rope_factor;
            } else if (wavelen >= high_wl) {   // medium band: smooth interpolation
                double s = (old / wavelen - lo) / (hi - lo);
                f = (1 - s) * f / c->rope_factor + s * f;
            }
        }
        inv_freq[i] = (float)f;
    }
}

// ---- config.json ----------------------------------------------------------------------
static int jint(json_t *o, const char *k, int dflt) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}
static double jnum(json_t *o, const char *k, double dflt) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : dflt;
}
static void add_eos_json(ft_config *c, json_t *v) {
    if (json_is_integer(v)) ft_config_add_eos(c, (int)json_integer_value(v));
    else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (json_is_integer(e)) ft_config_add_eos(c, (int)json_integer_value(e));
    }
}

int ft_config_from_json(ft_config *c, const char *path) {
    config_defaults(c);
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    if (!o) return ft_err("%s:%d: invalid JSON: %s", path, je.line, je.text);
    int rc = -1;
    if (!json_is_object(o)) { ft_err("%s: not a JSON object", path); goto out; }
    const char *mt = json_string_value(json_object_get(o, "model_type"));
    if (!mt) { ft_err("%s: no \"model_type\"", path); goto out; }
    if (!strcmp(mt, "llama") || !strcmp(mt, "mistral")) snprintf(c->arch, sizeof c->arch, "llama");
    else if (!strcmp(mt, "qwen2")) snprintf(c->arch, sizeof c->arch, "qwen2");
    else { ft_err("%s: unsupported model_type \"%s\" (supported: llama, mistral, qwen2)", path, mt); goto out; }
    c->vocab_size = jint(o, "vocab_size", 0);
    c->hidden = jint(o, "hidden_size", 0);
    c->intermediate = jint(o, "intermediate_size", 0);
    c->n_layers = jint(o, "num_hidden_layers", 0);
    c->n_heads = jint(o, "num_attention_heads", 0);
    c->n_kv_heads = jint(o, "num_key_value_heads", c->n_heads);
    json_t *hd = json_object_get(o, "head_dim");
    c->head_dim = json_is_integer(hd) ? (int)json_integer_value(hd) : (c->n_heads ? c->hidden / c->n_heads : 0);
    c->rms_eps = (float)jnum(o, "rms_norm_eps", 1e-6);
    c->rope_theta = (float)jnum(o, "rope_theta", 10000.0);
    c->max_pos = jint(o, "max_position_embeddings", 2048);
    json_t *tie = json_object_get(o, "tie_word_embeddings");
    c->tie_embeddings = json_is_boolean(tie) ? json_is_true(tie) : false;
    c->attn_bias = !strcmp(c->arch, "qwen2") || json_is_true(json_object_get(o, "attention_bias"));
    c->bos_id = jint(o, "bos_token_id", -1);
    add_eos_json(c, json_object_get(o, "eos_token_id"));
    json_t *rs = json_object_get(o, "rope_scaling");
    if (json_is_object(rs)) {
        const char *t = json_string_value(json_object_get(rs, "rope_type"));
        if (!t) t = json_string_value(json_object_get(rs, "type"));
        c->rope_factor = (float)jnum(rs, "factor", 1.0);
        if (t && !strcmp(t, "linear")) c->rope_scaling = FT_ROPE_LINEAR;
        else if (t && !strcmp(t, "llama3")) {
            c->rope_scaling = FT_ROPE_LLAMA3;
            c->rope_low_freq_factor = (float)jnum(rs, "low_freq_factor", 1.0);
            c->rope_high_freq_factor = (float)jnum(rs, "high_freq_factor", 4.0);
            c->rope_orig_max_pos = jint(rs, "original_max_position_embeddings", 8192);
        } else if (t && strcmp(t, "default") != 0) {
            ft_err("%s: unsupported rope_scaling type \"%s\" (supported: linear, llama3)", path, t);
            goto out;
        }
    }
    rc = ft_config_validate(c, path);
out:
    json_decref(o);
    return rc;
}

// ---- GGUF metadata ----------------------------------------------------------------------
static int g_int(const gguf_file *g, const char *arch, const char *key, int dflt, int required, int *out) {
    char k[128];
    snprintf(k, sizeof k, "%s.%s", arch, key);
    uint64_t v;
    if (!gguf_find(g, k)) {
        if (required) return ft_err("%s: missing metadata key %s", g->path, k);
        *out = dflt;
        return 0;
    }
    if (gguf_get_u64(g, k, &v) < 0) return -1;
    if (v > (1u << 30)) return ft_err("%s: metadata %s = %llu out of range", g->path, k, (unsigned long long)v);
    *out = (int)v;
    return 0;
}
static int g_f(const gguf_file *g, const char *arch, const char *key, double dflt, float *out) {
    char k[128];
    snprintf(k, sizeof k, "%s.%s", arch, key);
    double v = dflt;
    if (gguf_find(g, k) && gguf_get_f64(g, k, &v) < 0) return -1;
    *out = (float)v;
    return 0;
}

int ft_config_from_gguf(ft_config *c, const gguf_file *g) {
    config_defaults(c);
    char *arch = NULL;
    if (gguf_get_str(g, "general.architecture", &arch) < 0) return -1;
    int rc = -1;
    if (strcmp(arch, "llama") && strcmp(arch, "qwen2") && strcmp(arch, "mistral")) {
        ft_err("%s: unsupported architecture \"%s\" (supported: llama, mistral, qwen2)", g->path, arch);
        goto out;
    }
    snprintf(c->arch, sizeof c->arch, "%s", strcmp(arch, "qwen2") ? "llama" : "qwen2");
    if (g_int(g, arch, "embedding_length", 0, 1, &c->hidden) < 0 ||
        g_int(g, arch, "feed_forward_length", 0, 1, &c->intermediate) < 0 ||
        g_int(g, arch, "block_count", 0, 1, &c->n_layers) < 0 ||
        g_int(g, arch, "attention.head_count", 0, 1, &c->n_heads) < 0 ||
        g_int(g, arch, "attention.head_count_kv", c->n_heads, 0, &c->n_kv_heads) < 0 ||
        g_int(g, arch, "attention.key_length", c->n_heads ? c->hidden / c->n_heads : 0, 0, &c->head_dim) < 0 ||
        g_int(g, arch, "context_length", 2048, 0, &c->max_pos) < 0 ||
        g_f(g, arch, "attention.layer_norm_rms_epsilon", 1e-6, &c->rms_eps) < 0 ||
        g_f(g, arch, "rope.freq_base", 10000.0, &c->rope_theta) < 0)
        goto out;
    // vocab: ARCH.vocab_size, else the token list, else the embedding's rows
    const gguf_tensor *emb = gguf_find_tensor(g, "token_embd.weight");
    uint64_t ntok = 0;
    const gguf_value *toks;
    if (g_int(g, arch, "vocab_size", 0, 0, &c->vocab_size) < 0) goto out;
    if (!c->vocab_size && gguf_find(g, "tokenizer.ggml.tokens") &&
        gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &ntok, &toks) == 0)
        c->vocab_size = (int)ntok;
    if (!c->vocab_size && emb && emb->n_dims == 2) c->vocab_size = (int)emb->ne[1];
    // rope scaling (linear only in metadata; llama3 scaling arrives as the rope_freqs tensor)
    char k[128];
    snprintf(k, sizeof k, "%s.rope.scaling.type", arch);
    if (gguf_find(g, k)) {
        char *t = NULL;
        if (gguf_get_str(g, k, &t) < 0) goto out;
        int ok = !strcmp(t, "none") || !strcmp(t, "linear");
        if (!strcmp(t, "linear")) c->rope_scaling = FT_ROPE_LINEAR;
        if (!ok) ft_err("%s: unsupported rope scaling \"%s\"", g->path, t);
        free(t);
        if (!ok) goto out;
        if (c->rope_scaling == FT_ROPE_LINEAR && g_f(g, arch, "rope.scaling.factor", 1.0, &c->rope_factor) < 0)
            goto out;
    }
    c->tie_embeddings = gguf_find_tensor(g, "output.weight") == NULL;
    c->attn_bias = gguf_find_tensor(g, "blk.0.attn_q.bias") != NULL;
    uint64_t v;
    if (gguf_find(g, "tokenizer.ggml.bos_token_id") && gguf_get_u64(g, "tokenizer.ggml.bos_token_id", &v) == 0)
        c->bos_id = (int)v;
    static const char *eos_keys[] = {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                                     "tokenizer.ggml.eom_token_id"};
    for (size_t i = 0; i < sizeof eos_keys / sizeof *eos_keys; i++)
        if (gguf_find(g, eos_keys[i]) && gguf_get_u64(g, eos_keys[i], &v) == 0 && v < (1u << 30))
            ft_config_add_eos(c, (int)v);
    rc = ft_config_validate(c, g->path);
out:
    free(arch);
    return rc;
}
