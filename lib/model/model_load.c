// model_load.c — the HF-named tensor table over one f32 parameter buffer, and the loaders:
// HF dirs (config.json + single/sharded safetensors in F32/F16/BF16) and GGUF files
// (dequantized with quant.h; Q/K rows un-permuted back to HF layout where the architecture's
// row says llama.cpp permutes them). Tensor names, shapes and order come from the row
// (lib/model/arch.h). The same loaders with `quant` set store each layer linear as NF4-DQ
// (qweight.h) as it is read, and the table then lists only the other tensors
// (ft_model_load_nf4, QLoRA).
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "format/gguf.h"
#include "model/model.h"
#include "model/model_save.h"
#include "format/quant.h"
#include "model/qweight.h"
#include "format/qtensor.h"
#include "format/safetensors.h"

static int add_tensor(ft_model *m, int *cap, const char *name, int n_dims, int64_t d0, int64_t d1) {
    if (m->n_tensors == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        ft_tensor_info *t = ft_realloc(m->tensors, (size_t)nc * sizeof *t);
        if (!t) return -1;
        m->tensors = t;
        *cap = nc;
    }
    ft_tensor_info *t = &m->tensors[m->n_tensors];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = n_dims;
    t->shape[0] = d0;
    t->shape[1] = n_dims == 2 ? d1 : 1;
    t->numel = (size_t)d0 * (size_t)t->shape[1];
    t->offset = m->n_params;
    m->n_params += (t->numel + 15) & ~(size_t)15;   // 64-byte aligned tensors
    return m->n_tensors++;
}

// Per layer, the tensor indices: norms, then each linear's weight and bias (-1: none).
enum { IX_NORM = 0, IX_W = FT_NORM_COUNT, IX_B = FT_NORM_COUNT + FT_LIN_COUNT, IX_N = FT_NORM_COUNT + 2 * FT_LIN_COUNT };

// quant: the layer linears get no table entry and no f32 storage (lin->w NULL, w_idx -1);
// m->qstore (L*FT_LIN_COUNT, zeroed) is allocated for the loader to fill.
static ft_model *model_new(const ft_config *cfg, int quant) {
    if (ft_config_validate(cfg, "model config") < 0) return NULL;
    const ft_arch *a = ft_config_arch(cfg);
    if (!a) return NULL;
    ft_model *m = ft_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    m->cfg.arch_row = a;
    const ft_config *c = &m->cfg;
    int cap = 0, C = c->hidden;
    char nm[96], gn[96];
    ft_arch_global_name(a, FT_GLOBAL_EMBED, gn, sizeof gn);
    int i_embed = add_tensor(m, &cap, gn, 2, c->vocab_size, C);
    if (i_embed < 0) goto fail;
    int *idx = ft_malloc(sizeof(int) * (size_t)c->n_layers * IX_N);
    if (!idx) goto fail;
    int bad = 0;
    for (int l = 0; l < c->n_layers; l++) {
        int *li = idx + l * IX_N;
        for (int r = 0; r < FT_NORM_COUNT; r++) li[IX_NORM + r] = -1;
        for (int s = 0; s < a->n_slots; s++) {
            const ft_arch_slot *sl = &a->layer_order[s];
            if (sl->is_norm) {
                ft_arch_norm_name(a, l, sl->role, nm, sizeof nm);
                bad |= (li[IX_NORM + sl->role] = add_tensor(m, &cap, nm, 1, ft_arch_norm_size(c, sl->role), 0)) < 0;
                if (li[IX_NORM + sl->role] >= 0) m->tensors[li[IX_NORM + sl->role]].hf_plus_one = a->norm_plus_one;
                continue;
            }
            const ft_arch_linear *d = &a->lin[sl->role];
            int out = ft_arch_dim_size(c, d->out), in = ft_arch_dim_size(c, d->in);
            char mod[80];
            ft_arch_linear_name(a, l, sl->role, mod, sizeof mod);
            snprintf(nm, sizeof nm, "%s.weight", mod);
            li[IX_W + sl->role] = quant ? -1 : add_tensor(m, &cap, nm, 2, out, in);
            bad |= !quant && li[IX_W + sl->role] < 0;
            li[IX_B + sl->role] = -1;
            if (c->attn_bias && d->attn_bias) {
                snprintf(nm, sizeof nm, "%s.bias", mod);
                bad |= (li[IX_B + sl->role] = add_tensor(m, &cap, nm, 1, out, 0)) < 0;
            }
        }
    }
    ft_arch_global_name(a, FT_GLOBAL_NORM, gn, sizeof gn);
    int i_norm = add_tensor(m, &cap, gn, 1, C, 0);
    if (i_norm >= 0) m->tensors[i_norm].hf_plus_one = a->norm_plus_one;
    ft_arch_global_name(a, FT_GLOBAL_HEAD, gn, sizeof gn);
    int i_head = c->tie_embeddings ? i_embed : add_tensor(m, &cap, gn, 2, c->vocab_size, C);
    if (bad || i_norm < 0 || i_head < 0) goto fail_idx;
    size_t bytes;
    if (!ft_mul_ok(m->n_params, sizeof(float), &bytes)) { ft_err("model too large"); goto fail_idx; }
    // calloc: large blocks come zeroed from mmap (page-aligned) without touching memory, so a
    // config.json announcing a huge model fails on its first missing tensor, not on memset
    m->params = calloc(m->n_params ? m->n_params : 16, sizeof(float));
    if (!m->params) {
        ft_err("out of memory allocating %zu bytes of model weights", bytes);
        goto fail_idx;
    }
    m->layers = ft_calloc((size_t)c->n_layers, sizeof *m->layers);
    m->inv_freq = ft_calloc((size_t)c->head_dim / 2, sizeof(float));
    if (!m->layers || !m->inv_freq) goto fail_idx;
    if (quant == 1 && !(m->qstore = ft_calloc((size_t)c->n_layers * FT_LIN_COUNT, sizeof *m->qstore))) goto fail_idx;
    if (quant == 2 && !(m->qtstore = ft_calloc((size_t)c->n_layers * FT_LIN_COUNT + 1, sizeof *m->qtstore))) goto fail_idx;
    ft_config_inv_freq(c, m->inv_freq);
    if (c->sliding_window > 0) {   // the local layers' own rope base
        if (!(m->inv_freq_local = ft_calloc((size_t)c->head_dim / 2, sizeof(float)))) goto fail_idx;
        ft_config_inv_freq_local(c, m->inv_freq_local);
    }
#define P(i) (m->params + m->tensors[i].offset)
    m->embed = P(i_embed);
    m->norm = P(i_norm);
    m->lm_head = P(i_head);
    for (int l = 0; l < c->n_layers; l++) {
        int *li = idx + l * IX_N;
        ft_layer *ly = &m->layers[l];
        for (int r = 0; r < FT_NORM_COUNT; r++) *ft_layer_norm(ly, r) = li[IX_NORM + r] >= 0 ? P(li[IX_NORM + r]) : NULL;
        for (int j = 0; j < FT_LIN_COUNT; j++) {
            ft_linear *lin = ft_layer_linear(ly, j);
            lin->w_idx = li[IX_W + j];
            lin->b_idx = li[IX_B + j];
            lin->w = li[IX_W + j] >= 0 ? P(li[IX_W + j]) : NULL;
            lin->b = li[IX_B + j] >= 0 ? P(li[IX_B + j]) : NULL;
            lin->out = ft_arch_dim_size(c, a->lin[j].out);
            lin->in = ft_arch_dim_size(c, a->lin[j].in);
        }
    }
#undef P
    free(idx);
    m->ops = ft_ops_cpu();
    return m;
fail_idx:
    free(idx);
fail:
    ft_model_free(m);
    return NULL;
}

ft_model *ft_model_new(const ft_config *cfg) { return model_new(cfg, 0); }

void ft_model_free(ft_model *m) {
    if (!m) return;
    if (m->release_device) m->release_device(m);   // set by ft_model_to_device
    if (m->qstore)
        for (int i = 0; i < m->cfg.n_layers * FT_LIN_COUNT; i++) ft_qweight_free(&m->qstore[i]);
    free(m->qstore);
    if (m->qtstore)
        for (int i = 0; i <= m->cfg.n_layers * FT_LIN_COUNT; i++) ft_qtensor_free(&m->qtstore[i]);
    free(m->qtstore);
    free(m->params);
    free(m->tensors);
    free(m->layers);
    free(m->inv_freq);
    free(m->inv_freq_local);
    free(m->path);
    free(m->tokenizer_path);
    free(m);
}

const ft_tensor_info *ft_model_tensor(const ft_model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

float *ft_model_tensor_data(ft_model *m, const char *name) {
    const ft_tensor_info *t = ft_model_tensor(m, name);
    return t ? m->params + t->offset : NULL;
}

ft_linear *ft_model_linear(ft_model *m, const char *name) {
    int l, role, n = ft_arch_parse_linear(m->cfg.arch_row, name, &l, &role);
    if (n < 0 || (name[n] && strcmp(name + n, ".weight") != 0)) return NULL;
    return ft_model_layer_linear(m, l, role, NULL);
}

double ft_model_flops_per_token(const ft_config *c, int T) {
    const ft_arch *a = ft_config_arch(c);
    double C = c->hidden, qd = (double)c->n_heads * c->head_dim, lin = 0;
    for (int j = 0; a && j < FT_LIN_COUNT; j++)                 // every linear's out * in (integers: exact)
        lin += (double)ft_arch_dim_size(c, a->lin[j].out) * ft_arch_dim_size(c, a->lin[j].in);
    double att = 2 * qd * (T + 1) / 2.0;                        // QK^T and PV, causal average
    return 2.0 * (c->n_layers * (lin + att) + (double)c->vocab_size * C);
}

// ---- HF safetensors ---------------------------------------------------------------------
static int convert_st(const st_tensor *t, float *dst, size_t n, const char *file) {
    if (t->nbytes != n * st_dtype_size(t->dtype)) return ft_err("%s: tensor %s: byte size mismatch", file, t->name);
    switch (t->dtype) {
    case ST_F32: memcpy(dst, t->data, n * 4); return 0;
    case ST_F16: {
        const uint8_t *p = t->data;
        for (size_t i = 0; i < n; i++) dst[i] = ft_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return 0;
    }
    case ST_BF16: {
        const uint8_t *p = t->data;
        for (size_t i = 0; i < n; i++) dst[i] = ft_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return 0;
    }
    default:
        return ft_err("%s: tensor %s: unsupported dtype %s (F32, F16, BF16 supported)", file, t->name,
                      st_dtype_name(t->dtype));
    }
}

// Reads the HF-named tensor `name`, expected shape (d0) or (d0, d1), into dst as f32.
typedef int (*tensor_reader)(void *ctx, const char *name, int n_dims, int64_t d0, int64_t d1, float *dst);

// QLoRA loading: each layer linear read into one f32 scratch (the largest linear) and
// quantized to NF4-DQ into m->qstore before the next is read.
static int quantize_linears(ft_model *m, tensor_reader rd, void *ctx, const char *path) {
    size_t maxn = 0;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; j < FT_LIN_COUNT; j++) {
            ft_linear *lin = ft_layer_linear(&m->layers[l], j);
            size_t n = (size_t)lin->in * (size_t)lin->out;
            maxn = n > maxn ? n : maxn;
        }
    float *tmp = ft_malloc(maxn * sizeof(float));   // (out, in) of one linear
    if (!tmp) return -1;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; j < FT_LIN_COUNT; j++) {
            ft_linear *lin = ft_layer_linear(&m->layers[l], j);
            char mod[80], nm[96];
            ft_arch_linear_name(m->cfg.arch_row, l, j, mod, sizeof mod);
            snprintf(nm, sizeof nm, "%s.weight", mod);
            if (rd(ctx, nm, 2, lin->out, lin->in, tmp) < 0) { free(tmp); return -1; }
            ft_qweight *q = &m->qstore[l * FT_LIN_COUNT + j];
            if (ft_qweight_init(q, tmp, lin->out, lin->in) < 0) {
                free(tmp);
                return ft_err_ctx("%s: tensor %s", path, nm);
            }
            lin->qw = q;
        }
    free(tmp);
    return 0;
}

typedef struct { st_set *s; const char *path; } st_ctx;

static int st_read(void *ctx, const char *name, int n_dims, int64_t d0, int64_t d1, float *dst) {
    const st_ctx *c = ctx;
    const st_tensor *t = st_find(c->s, name);
    if (!t) return ft_err("%s: missing tensor %s", c->path, name);
    int ok = t->n_dims == n_dims && (uint64_t)d0 == t->shape[0] && (n_dims == 1 || (uint64_t)d1 == t->shape[1]);
    if (!ok)
        return ft_err("%s: tensor %s: shape [%llu%s%llu] does not match the config's [%lld, %lld]", c->path, name,
                      (unsigned long long)t->shape[0], t->n_dims > 1 ? ", " : "",
                      t->n_dims > 1 ? (unsigned long long)t->shape[1] : 0ULL, (long long)d0, (long long)d1);
    return convert_st(t, dst, (size_t)d0 * (size_t)d1, c->path);
}

static ft_model *load_hf(const char *config_path, const char *st_path, const char *dir, int quant) {
    ft_config cfg;
    if (ft_config_from_json(&cfg, config_path) < 0) return NULL;
    st_set *s = st_open(st_path);
    if (!s) return NULL;
    // tie_word_embeddings may be absent from config.json while lm_head.weight is missing
    char head[96], embed[96];
    ft_arch_global_name(cfg.arch_row, FT_GLOBAL_HEAD, head, sizeof head);
    ft_arch_global_name(cfg.arch_row, FT_GLOBAL_EMBED, embed, sizeof embed);
    if (!cfg.tie_embeddings && !st_find(s, head) && st_find(s, embed)) cfg.tie_embeddings = true;
    st_ctx ctx = {s, st_path};
    ft_model *m = model_new(&cfg, quant);
    if (!m) goto fail;
    for (int i = 0; i < m->n_tensors; i++) {
        ft_tensor_info *ti = &m->tensors[i];
        if (st_read(&ctx, ti->name, ti->n_dims, ti->shape[0], ti->shape[1], m->params + ti->offset) < 0) goto fail;
        if (ti->hf_plus_one)   // HF stores w of x * (1 + w); ft holds 1 + w (as GGUF)
            for (size_t k = 0; k < ti->numel; k++) m->params[ti->offset + k] += 1.0f;
    }
    if (quant && quantize_linears(m, st_read, &ctx, st_path) < 0) goto fail;
    st_close(s);
    m->path = ft_strdup(dir);
    char tok[4096];
    snprintf(tok, sizeof tok, "%s/tokenizer.json", dir);
    struct stat sb;
    if (stat(tok, &sb) == 0) m->tokenizer_path = ft_strdup(tok);
    return m;
fail:
    st_close(s);
    ft_model_free(m);
    return NULL;
}

static ft_model *load_hf_dir(const char *dir, int quant) {
    char cfgp[4096];
    snprintf(cfgp, sizeof cfgp, "%s/config.json", dir);
    struct stat sb;
    if (stat(cfgp, &sb) != 0) { ft_err("%s: no config.json in this directory", dir); return NULL; }
    return load_hf(cfgp, dir, dir, quant);
}

ft_model *ft_model_load_hf(const char *dir) { return load_hf_dir(dir, 0); }

// ---- GGUF ------------------------------------------------------------------------------
static int load_gguf_tensor(const gguf_file *g, const gguf_tensor *t, float *dst, size_t n) {
    if (ggml_type_nbytes(t->type, n) == 0 || t->nbytes < ggml_type_nbytes(t->type, n))
        return ft_err("%s: tensor %s: unsupported type %s or truncated data", g->path, t->name,
                      ggml_type_name(t->type) ? ggml_type_name(t->type) : "?");
    if (t->type == GGML_F32) { memcpy(dst, t->data, n * 4); return 0; }
    if (ft_dequantize(t->type, t->data, dst, n) < 0)
        return ft_err("%s: tensor %s: cannot dequantize type %s", g->path, t->name,
                      ggml_type_name(t->type) ? ggml_type_name(t->type) : "?");
    return 0;
}

typedef struct { const gguf_file *g; const char *path; const ft_config *cfg; } gguf_ctx;

static int gguf_read(void *ctx, const char *name, int n_dims, int64_t d0, int64_t d1, float *dst) {
    const gguf_ctx *c = ctx;
    char gn[128];
    if (ft_arch_gguf_name(c->cfg->arch_row, name, gn, sizeof gn) < 0) snprintf(gn, sizeof gn, "?");
    const gguf_tensor *t = gguf_find_tensor(c->g, gn);
    if (!t) return ft_err("%s: missing tensor %s (%s)", c->path, gn, name);
    uint64_t ne0 = n_dims == 2 ? (uint64_t)d1 : (uint64_t)d0;
    uint64_t ne1 = n_dims == 2 ? (uint64_t)d0 : 1;
    uint64_t tne1 = t->n_dims >= 2 ? t->ne[1] : 1;
    int extra = 0;
    for (uint32_t d = 2; d < t->n_dims; d++) extra |= t->ne[d] != 1;
    if (t->ne[0] != ne0 || tne1 != ne1 || extra)
        return ft_err("%s: tensor %s: shape [%llu, %llu] (ggml order) does not match the metadata's [%llu, %llu]",
                      c->path, gn, (unsigned long long)t->ne[0], (unsigned long long)tne1, (unsigned long long)ne0,
                      (unsigned long long)ne1);
    if (load_gguf_tensor(c->g, t, dst, (size_t)ne0 * (size_t)ne1) < 0) return -1;
    int nh = ft_arch_gguf_permute_heads(c->cfg, name);
    if (nh) {
        int cols = n_dims == 2 ? (int)d1 : 1;
        if (ft_model_permute_rows(dst, nh, (int)d0, cols, 0) < 0) return -1;
    }
    return 0;
}

// Native loading (quant 2): each layer linear keeps the file's blocks when the kernels read its
// type (Q/K rows reordered whole), else it is dequantized once into an F32 qtensor; the LM head
// (the embedding when tied) gets a compact copy when its type is native.
static int native_linears(ft_model *m, gguf_ctx *ctx) {
    const ft_config *c = &m->cfg;
    for (int i = 0; i <= c->n_layers * FT_LIN_COUNT; i++) {
        int head = i == c->n_layers * FT_LIN_COUNT, l = head ? 0 : i / FT_LIN_COUNT, j = i % FT_LIN_COUNT;
        ft_linear *lin = head ? NULL : ft_layer_linear(&m->layers[l], j);
        int rows = head ? c->vocab_size : lin->out, cols = head ? c->hidden : lin->in;
        char nm[96], gn[128];
        if (head) ft_arch_global_name(c->arch_row, c->tie_embeddings ? FT_GLOBAL_EMBED : FT_GLOBAL_HEAD, nm, sizeof nm);
        else {
            char mod[80];
            ft_arch_linear_name(c->arch_row, l, j, mod, sizeof mod);
            snprintf(nm, sizeof nm, "%s.weight", mod);
        }
        if (ft_arch_gguf_name(c->arch_row, nm, gn, sizeof gn) < 0) snprintf(gn, sizeof gn, "?");
        const gguf_tensor *t = gguf_find_tensor(ctx->g, gn);
        uint64_t need = t ? ggml_type_nbytes(t->type, (uint64_t)rows * cols) : 0;
        int fits = t && t->n_dims >= 2 && t->ne[0] == (uint64_t)cols && t->ne[1] == (uint64_t)rows && need &&
                   t->nbytes >= need && ggml_type_nbytes(t->type, (uint64_t)cols) && ft_qtensor_native(t->type);
        ft_qtensor *q = &m->qtstore[i];
        if (fits) {
            int nh = head ? 0 : ft_arch_gguf_permute_heads(c, nm);
            if (ft_qtensor_init(q, t->type, rows, cols, t->data) < 0 || (nh && ft_qtensor_unpermute(q, nh) < 0))
                return ft_err_ctx("%s: tensor %s", ctx->path, gn);
        } else if (head) {
            continue;   // another type: the f32 lm_head serves
        } else {        // another type (or a shape gguf_read reports): dequantized once, held as F32
            float *tmp = ft_malloc((size_t)rows * cols * sizeof(float));
            int bad = !tmp || gguf_read(ctx, nm, 2, rows, cols, tmp) < 0 || ft_qtensor_init_f32(q, tmp, rows, cols) < 0;
            free(tmp);
            if (bad) return -1;
        }
        if (head) m->lm_head_qt = q;
        else lin->qt = q;
    }
    return 0;
}

static ft_model *load_gguf(const char *path, int quant) {
    gguf_file *g = gguf_open(path);
    if (!g) return NULL;
    ft_config cfg;
    ft_model *m = NULL;
    if (ft_config_from_gguf(&cfg, g) < 0) goto fail;
    if (!(m = model_new(&cfg, quant))) goto fail;
    gguf_ctx ctx = {g, path, &m->cfg};
    for (int i = 0; i < m->n_tensors; i++) {
        ft_tensor_info *ti = &m->tensors[i];
        if (gguf_read(&ctx, ti->name, ti->n_dims, ti->shape[0], ti->shape[1], m->params + ti->offset) < 0) goto fail;
    }
    if (quant == 1 && quantize_linears(m, gguf_read, &ctx, path) < 0) goto fail;
    if (quant == 2 && native_linears(m, &ctx) < 0) goto fail;
    // Llama 3.1-style scaling is stored as per-frequency divisors
    const gguf_tensor *rf = gguf_find_tensor(g, "rope_freqs.weight");
    if (rf) {
        int half = cfg.head_dim / 2;
        if (rf->type != GGML_F32 || rf->ne[0] != (uint64_t)half || rf->nbytes < (uint64_t)half * 4) {
            ft_err("%s: tensor rope_freqs.weight: expected F32 [%d]", path, half);
            goto fail;
        }
        const float *f = (const float *)rf->data;
        for (int i = 0; i < half; i++) m->inv_freq[i] /= f[i];
    }
    m->path = ft_strdup(path);
    m->tokenizer_path = ft_strdup(path);
    gguf_close(g);
    return m;
fail:
    gguf_close(g);
    ft_model_free(m);
    return NULL;
}

ft_model *ft_model_load_gguf(const char *path) { return load_gguf(path, 0); }

static ft_model *load_any(const char *path, int quant) {
    struct stat sb;
    if (stat(path, &sb) != 0) { ft_err("%s: no such file or directory", path); return NULL; }
    if (S_ISDIR(sb.st_mode)) return load_hf_dir(path, quant == 2 ? 0 : quant);
    size_t n = strlen(path);
    if (n > 12 && !strcmp(path + n - 12, ".safetensors")) {
        char dir[4096], cfgp[4200];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
        snprintf(cfgp, sizeof cfgp, "%s/config.json", dir);
        return load_hf(cfgp, path, dir, quant == 2 ? 0 : quant);
    }
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    if (f) {
        if (fread(magic, 1, 4, f) != 4) magic[0] = 0;
        fclose(f);
    }
    if (!memcmp(magic, "GGUF", 4)) return load_gguf(path, quant);
    ft_err("%s: not a model (expected an HF directory, a .safetensors file or a GGUF file)", path);
    return NULL;
}

ft_model *ft_model_load(const char *path) { return load_any(path, 0); }
ft_model *ft_model_load_nf4(const char *path) { return load_any(path, 1); }
ft_model *ft_model_load_native(const char *path) { return load_any(path, 2); }
