// model_config.c — ft_config from an HF config.json or GGUF metadata (the architecture's row
// found by lib/model/arch.h from model_type / general.architecture), its validation, and the rotary
// frequencies (plain, linear-scaled, and Llama 3.1 "llama3" scaling as HF computes them), and
// the config.json ft writes for it (ft_config_to_json).
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "format/gguf.h"
#include "core/io.h"
#include "core/json_get.h"
#include "model/model.h"

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

void ft_config_inv_freq_local(const ft_config *c, float *inv_freq) {
    ft_config l = *c;
    l.rope_theta = c->rope_local_theta > 0 ? c->rope_local_theta : c->rope_theta;
    l.rope_scaling = FT_ROPE_NONE;
    ft_config_inv_freq(&l, inv_freq);
}

bool ft_config_layer_swa(const ft_config *c, int l) {
    return c->sliding_window > 0 && c->swa_pattern > 0 && (l + 1) % c->swa_pattern != 0;
}

const char *ft_config_ctx_warning(const ft_config *c, long len, int n_virtual, const char *flag, char *buf,
                                  size_t cap) {
    long need = len + (n_virtual > 0 ? n_virtual : 0);
    if (c->max_pos < 1 || need <= c->max_pos) return NULL;
    char extra[64] = "";
    if (n_virtual > 0) snprintf(extra, sizeof extra, " (+ %d virtual tokens)", n_virtual);
    snprintf(buf, cap, "warning: %s %ld%s is above the model's max_position_embeddings %d: positions past %d were "
             "never trained and the model may degrade there (use %s %ld or less)", flag, len, extra, c->max_pos,
             c->max_pos, flag, (long)c->max_pos - (n_virtual > 0 ? n_virtual : 0));
    return buf;
}

// ---- config.json ----------------------------------------------------------------------
// Every key ft uses is type-checked (lib/core/json_get.h): absent or null takes the default, a
// value of another type is an error naming the key. eos_token_id: an integer or a list of them.
static int add_eos_json(ft_config *c, const json_t *o, const char *path) {
    json_t *v = json_object_get(o, "eos_token_id");
    if (!v || json_is_null(v)) return 0;
    long long id;
    if (ft_json_integral(v, &id)) {
        if (id >= 0 && id < (1 << 30)) ft_config_add_eos(c, (int)id);
        return 0;
    }
    if (!json_is_array(v)) return ft_json_type_err(path, "eos_token_id", "an integer or a list of integers", v);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!ft_json_integral(e, &id)) {
            char key[48];
            snprintf(key, sizeof key, "eos_token_id[%zu]", i);
            return ft_json_type_err(path, key, "an integer", e);
        }
        if (id >= 0 && id < (1 << 30)) ft_config_add_eos(c, (int)id);
    }
    return 0;
}

static int rope_scaling_json(ft_config *c, const json_t *o, const char *path) {
    json_t *rs;
    int k = ft_json_get_obj(o, "rope_scaling", path, &rs);
    if (k <= 0) return k;
    char file[4200];   // nested keys are named as rope_scaling.KEY
    snprintf(file, sizeof file, "%s: rope_scaling", path);
    const char *t = NULL;
    double f, lo, hi;
    if (ft_json_get_str(rs, "rope_type", file, NULL, &t) < 0 || (!t && ft_json_get_str(rs, "type", file, NULL, &t) < 0) ||
        ft_json_get_num(rs, "factor", file, 1.0, &f) < 0)
        return -1;
    c->rope_factor = (float)f;
    if (t && !strcmp(t, "linear")) {
        c->rope_scaling = FT_ROPE_LINEAR;
    } else if (t && !strcmp(t, "llama3")) {
        c->rope_scaling = FT_ROPE_LLAMA3;
        if (ft_json_get_num(rs, "low_freq_factor", file, 1.0, &lo) < 0 ||
            ft_json_get_num(rs, "high_freq_factor", file, 4.0, &hi) < 0 ||
            ft_json_get_int(rs, "original_max_position_embeddings", file, 1, INT_MAX, 8192, &c->rope_orig_max_pos) < 0)
            return -1;
        c->rope_low_freq_factor = (float)lo;
        c->rope_high_freq_factor = (float)hi;
    } else if (t && strcmp(t, "default") != 0) {
        return ft_err("%s: unsupported rope_scaling type \"%s\" (supported: linear, llama3)", path, t);
    }
    return 0;
}

// Gemma 3's attention keys: sliding_window, its layer pattern (sliding_window_pattern or
// layer_types, which must repeat N-1 sliding layers and one full one), rope_local_base_freq,
// query_pre_attn_scalar; logit soft-capping is refused (Gemma 2's, not supported).
static int gemma_json(ft_config *c, const json_t *o, const char *path) {
    double local, qs;
    c->swa_pattern = c->arch_row->swa_pattern;
    if (ft_json_get_int(o, "sliding_window", path, 0, INT_MAX, 0, &c->sliding_window) < 0 ||
        ft_json_get_int(o, "sliding_window_pattern", path, 1, 1024, c->swa_pattern, &c->swa_pattern) < 0 ||
        ft_json_get_num(o, "rope_local_base_freq", path, 10000.0, &local) < 0 ||
        ft_json_get_num(o, "query_pre_attn_scalar", path, (double)c->head_dim, &qs) < 0)
        return -1;
    c->rope_local_theta = (float)local;
    c->query_scalar = (float)qs;
    static const char *const caps[] = {"final_logit_softcapping", "attn_logit_softcapping"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(o, caps[i]);
        if (v && !json_is_null(v)) return ft_err("%s: %s is not supported (only null)", path, caps[i]);
    }
    json_t *lt = json_object_get(o, "layer_types");
    if (lt && !json_is_null(lt)) {
        if (!json_is_array(lt)) return ft_json_type_err(path, "layer_types", "a list of strings", lt);
        size_t n = json_array_size(lt), first_full = n;
        for (size_t i = 0; i < n; i++) {
            const char *t = json_string_value(json_array_get(lt, i));
            if (t && !strcmp(t, "full_attention") && first_full == n) first_full = i;
        }
        int pat = first_full < n ? (int)first_full + 1 : 0;
        for (size_t i = 0; i < n; i++) {
            const char *t = json_string_value(json_array_get(lt, i));
            int swa = pat ? (int)((i + 1) % (size_t)pat) != 0 : 1;
            if (!t || strcmp(t, swa ? "sliding_attention" : "full_attention"))
                return ft_err("%s: layer_types[%zu] = %s: only a repeating pattern of sliding_attention layers and one "
                              "full_attention layer is supported", path, i, t ? t : "(not a string)");
        }
        c->swa_pattern = pat ? pat : 1024;
    }
    return 0;
}

int ft_config_from_json(ft_config *c, const char *path) {
    config_defaults(c);
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    if (!o) return ft_err("%s:%d: invalid JSON: %s", path, je.line, je.text);
    int rc = -1;
    if (!json_is_object(o)) { ft_err("%s: not a JSON object", path); goto out; }
    const char *mt = NULL;
    if (ft_json_get_str(o, "model_type", path, NULL, &mt) < 0) goto out;
    if (!mt) { ft_err("%s: no \"model_type\"", path); goto out; }
    if (!(c->arch_row = ft_arch_from_hf(mt, path))) goto out;
    snprintf(c->arch, sizeof c->arch, "%s", c->arch_row->name);
    double eps, theta;
    int tie, bias;
    if (ft_json_get_int(o, "vocab_size", path, 0, INT_MAX, 0, &c->vocab_size) < 0 ||
        ft_json_get_int(o, "hidden_size", path, 0, INT_MAX, 0, &c->hidden) < 0 ||
        ft_json_get_int(o, "intermediate_size", path, 0, INT_MAX, 0, &c->intermediate) < 0 ||
        ft_json_get_int(o, "num_hidden_layers", path, 0, INT_MAX, 0, &c->n_layers) < 0 ||
        ft_json_get_int(o, "num_attention_heads", path, 0, INT_MAX, 0, &c->n_heads) < 0 ||
        ft_json_get_int(o, "num_key_value_heads", path, 0, INT_MAX, c->n_heads, &c->n_kv_heads) < 0 ||
        ft_json_get_int(o, "head_dim", path, 0, INT_MAX, c->n_heads ? c->hidden / c->n_heads : 0, &c->head_dim) < 0 ||
        ft_json_get_num(o, "rms_norm_eps", path, 1e-6, &eps) < 0 ||
        ft_json_get_num(o, "rope_theta", path, 10000.0, &theta) < 0 ||
        ft_json_get_int(o, "max_position_embeddings", path, 0, INT_MAX, 2048, &c->max_pos) < 0 ||
        ft_json_get_bool(o, "tie_word_embeddings", path, 0, &tie) < 0 ||
        ft_json_get_bool(o, c->arch_row->bias_key, path, 0, &bias) < 0 ||
        ft_json_get_int(o, "bos_token_id", path, INT_MIN, INT_MAX, -1, &c->bos_id) < 0 ||
        add_eos_json(c, o, path) < 0 || rope_scaling_json(c, o, path) < 0)
        goto out;
    c->rms_eps = (float)eps;
    c->rope_theta = (float)theta;
    c->tie_embeddings = tie;
    c->attn_bias = c->arch_row->qkv_bias || bias;
    if (c->arch_row->swa_pattern && gemma_json(c, o, path) < 0) goto out;
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
    if (!(c->arch_row = ft_arch_from_gguf(arch, g->path))) goto out;
    snprintf(c->arch, sizeof c->arch, "%s", c->arch_row->name);
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
    const ft_arch *a = c->arch_row;
    char tn[128];
    snprintf(tn, sizeof tn, "%s.weight", a->global[FT_GLOBAL_EMBED].gguf);
    const gguf_tensor *emb = gguf_find_tensor(g, tn);
    uint64_t ntok = 0;
    const gguf_value *toks;
    if (g_int(g, arch, "vocab_size", 0, 0, &c->vocab_size) < 0) goto out;
    if (!c->vocab_size && gguf_find(g, "tokenizer.ggml.tokens") &&
        gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &ntok, &toks) == 0)
        c->vocab_size = (int)ntok;
    if (!c->vocab_size && emb && emb->n_dims == 2) c->vocab_size = (int)emb->ne[1];
    // the row's end-of-turn token (Gemma's <end_of_turn>, not in the metadata): generation stops at it
    uint64_t nt = 0;
    const gguf_value *tl;
    if (a->eot_token && gguf_find(g, "tokenizer.ggml.tokens") &&
        gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &nt, &tl) == 0)
        for (uint64_t i = 0; i < nt; i++) {
            uint64_t len;
            const char *t = gguf_arr_str(tl, i, &len);
            if (t && len == strlen(a->eot_token) && !memcmp(t, a->eot_token, len)) { ft_config_add_eos(c, (int)i); break; }
        }
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
    if (a->swa_pattern) {   // Gemma 3: llama.cpp's fixed pattern and local rope base
        if (g_int(g, arch, "attention.sliding_window", 0, 0, &c->sliding_window) < 0) goto out;
        c->swa_pattern = a->swa_pattern;
        c->rope_local_theta = 10000.f;
    }
    snprintf(tn, sizeof tn, "%s.weight", a->global[FT_GLOBAL_HEAD].gguf);
    c->tie_embeddings = gguf_find_tensor(g, tn) == NULL;
    snprintf(tn, sizeof tn, "%s.0.%s.bias", a->gguf_layers, a->lin[FT_LIN_Q].gguf);   // present: attn_bias
    c->attn_bias = gguf_find_tensor(g, tn) != NULL;
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

// ---- config.json out ----------------------------------------------------------------------
// A float config value as the shortest decimal that round-trips (1e-05, not 9.99999974e-06).
static json_t *jfloat(float f) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", (double)f);
    for (int p = 1; p <= 9; p++) {
        char t[32];
        snprintf(t, sizeof t, "%.*g", p, (double)f);
        if ((float)strtod(t, NULL) == f) { strcpy(buf, t); break; }
    }
    return json_real(strtod(buf, NULL));
}

char *ft_config_to_json(const ft_config *c, const char *dtype, int pad_id) {
    const ft_arch *a = ft_config_arch(c);
    if (!a) return NULL;
    json_t *j = json_object();
    json_t *arch = json_array();
    json_array_append_new(arch, json_string(a->hf_class));
    json_object_set_new(j, "architectures", arch);
    json_object_set_new(j, "model_type", json_string(a->hf_model_type));
    json_object_set_new(j, "vocab_size", json_integer(c->vocab_size));
    json_object_set_new(j, "hidden_size", json_integer(c->hidden));
    json_object_set_new(j, "intermediate_size", json_integer(c->intermediate));
    json_object_set_new(j, "num_hidden_layers", json_integer(c->n_layers));
    json_object_set_new(j, "num_attention_heads", json_integer(c->n_heads));
    json_object_set_new(j, "num_key_value_heads", json_integer(c->n_kv_heads));
    json_object_set_new(j, "head_dim", json_integer(c->head_dim));
    json_object_set_new(j, a->hf_act_key ? a->hf_act_key : "hidden_act", json_string(a->hf_act));
    if (a->swa_pattern) {   // Gemma 3's attention
        json_object_set_new(j, "sliding_window", c->sliding_window > 0 ? json_integer(c->sliding_window) : json_null());
        json_object_set_new(j, "sliding_window_pattern", json_integer(c->swa_pattern));
        json_t *lt = json_array();
        for (int l = 0; l < c->n_layers; l++)
            json_array_append_new(lt, json_string(ft_config_layer_swa(c, l) ? "sliding_attention" : "full_attention"));
        if (c->sliding_window > 0) json_object_set_new(j, "layer_types", lt);
        else json_decref(lt);
        json_object_set_new(j, "rope_local_base_freq", jfloat(c->rope_local_theta > 0 ? c->rope_local_theta : c->rope_theta));
        json_object_set_new(j, "query_pre_attn_scalar", jfloat(c->query_scalar > 0 ? c->query_scalar : (float)c->head_dim));
        json_object_set_new(j, "final_logit_softcapping", json_null());
        json_object_set_new(j, "attn_logit_softcapping", json_null());
    }
    json_object_set_new(j, "rms_norm_eps", jfloat(c->rms_eps));
    json_object_set_new(j, "rope_theta", jfloat(c->rope_theta));
    json_object_set_new(j, "max_position_embeddings", json_integer(c->max_pos));
    json_object_set_new(j, "tie_word_embeddings", json_boolean(c->tie_embeddings));
    if (a->bias_key_written) json_object_set_new(j, a->bias_key, json_boolean(c->attn_bias));
    if (c->rope_scaling != FT_ROPE_NONE) {
        json_t *rs = json_object();
        json_object_set_new(rs, "rope_type", json_string(c->rope_scaling == FT_ROPE_LLAMA3 ? "llama3" : "linear"));
        json_object_set_new(rs, "factor", jfloat(c->rope_factor));
        if (c->rope_scaling == FT_ROPE_LLAMA3) {
            json_object_set_new(rs, "low_freq_factor", jfloat(c->rope_low_freq_factor));
            json_object_set_new(rs, "high_freq_factor", jfloat(c->rope_high_freq_factor));
            json_object_set_new(rs, "original_max_position_embeddings", json_integer(c->rope_orig_max_pos));
        }
        json_object_set_new(j, "rope_scaling", rs);
    }
    if (c->bos_id >= 0) json_object_set_new(j, "bos_token_id", json_integer(c->bos_id));
    if (c->n_eos == 1) json_object_set_new(j, "eos_token_id", json_integer(c->eos_ids[0]));
    else if (c->n_eos > 1) {
        json_t *e = json_array();
        for (int i = 0; i < c->n_eos; i++) json_array_append_new(e, json_integer(c->eos_ids[i]));
        json_object_set_new(j, "eos_token_id", e);
    }
    if (pad_id >= 0) json_object_set_new(j, "pad_token_id", json_integer(pad_id));
    json_object_set_new(j, "dtype", json_string(dtype));
    json_object_set_new(j, "torch_dtype", json_string(dtype));
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    json_decref(j);
    if (!s) ft_err("config.json: out of memory");
    return s;
}
