// model_save.c — HF dir and GGUF export of an ft_model (see model_save.h): the HF dir of
// ft-merge (built under a temporary name and renamed) and of full fine-tuning (written into
// OUT), with config.json in the stored dtype, the tokenizer files of an HF source or made from
// a GGUF source's metadata (lib/tokenize ft_tokenizer_gguf_write_hf), generation_config.json.
#include "model/model_save.h"
#include "core/err.h"
#include "format/gguf.h"
#include "core/io.h"
#include "format/quant.h"
#include "format/safetensors.h"
#include "tokenize/tokenizer.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ft_model_gguf_name(const char *hf, char *out, size_t n) {
    if (ft_arch_gguf_name(ft_arch_table(NULL), hf, out, n) < 0) snprintf(out, n, "?");
}

int ft_model_permute_rows(float *w, int n_head, int rows, int cols, int to_gguf) {
    // GGUF row h*D + 2i + j  <->  HF row h*D + j*D/2 + i
    int D = rows / n_head, half = D / 2;
    float *tmp = ft_malloc((size_t)rows * cols * sizeof(float));
    if (!tmp) return -1;
    memcpy(tmp, w, (size_t)rows * cols * sizeof(float));
    for (int h = 0; h < n_head; h++)
        for (int j = 0; j < 2; j++)
            for (int i = 0; i < half; i++) {
                size_t hf = (size_t)(h * D + j * half + i), gg = (size_t)(h * D + 2 * i + j);
                memcpy(w + (to_gguf ? gg : hf) * cols, tmp + (to_gguf ? hf : gg) * cols, (size_t)cols * sizeof(float));
            }
    free(tmp);
    return 0;
}

// Remove a directory we created (flat: only files inside).
static void rm_flat_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *p = ft_path_join(dir, e->d_name);
            if (p) unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int dir_empty_or_absent(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 1 : 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    return empty;
}

static int copy_file(const char *src, const char *dst) {
    char *data;
    size_t len;
    if (ft_read_all(src, &data, &len)) return -1;
    int rc = ft_write_all(dst, data, len);
    free(data);
    return rc;
}

// Convert n floats to dtype storage (malloc'd).
static void *convert(const float *src, size_t n, int dtype) {
    if (dtype == ST_F32) {
        float *d = ft_malloc(n * 4);
        if (d) memcpy(d, src, n * 4);
        return d;
    }
    uint16_t *d = ft_malloc(n * 2);
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++) d[i] = dtype == ST_F16 ? ft_f32_to_f16(src[i]) : ft_f32_to_bf16(src[i]);
    return d;
}

// A tensor's values as HF stores them: a (1 + w) norm's w (ft holds 1 + w), else as they are.
static void *convert_hf(const ft_tensor_info *t, const float *src, int dtype) {
    if (!t->hf_plus_one) return convert(src, t->numel, dtype);
    float *w = ft_malloc(t->numel * sizeof(float));
    if (!w) return NULL;
    for (size_t k = 0; k < t->numel; k++) w[k] = src[k] - 1.0f;
    void *out = convert(w, t->numel, dtype);
    free(w);
    return out;
}

int ft_model_copy_tokenizer_files(const ft_model *m, const char *dir) {
    static const char *const files[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "generation_config.json", "vocab.json", "merges.txt",
                                        "tokenizer.model", "chat_template.jinja", "added_tokens.json"};
    if (!m->path) return 0;
    struct stat sb;
    char *src = NULL;
    size_t n = strlen(m->path);
    if (!stat(m->path, &sb) && S_ISDIR(sb.st_mode)) src = ft_strdup(m->path);
    else if (n > 12 && !strcmp(m->path + n - 12, ".safetensors")) {   // config.json beside the file
        const char *slash = strrchr(m->path, '/');
        src = slash ? strndup(m->path, (size_t)(slash - m->path)) : ft_strdup(".");
    }
    if (!src) return 0;   // GGUF: the tokenizer lives in its metadata
    int rc = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files && !rc; i++) {
        char *s = ft_path_join(src, files[i]), *d = ft_path_join(dir, files[i]);
        if (!s || !d) rc = -1;
        else if (!stat(s, &sb) && S_ISREG(sb.st_mode)) rc = copy_file(s, d);
        free(s);
        free(d);
    }
    free(src);
    return rc;
}

static const char *dtype_hf_name(int dtype) {
    return dtype == ST_F32 ? "float32" : dtype == ST_F16 ? "float16" : "bfloat16";
}

// m->path's GGUF file (NULL when the source is not one).
static gguf_file *source_gguf(const ft_model *m) {
    size_t n = m->path ? strlen(m->path) : 0;
    if (n < 5 || strcmp(m->path + n - 5, ".gguf")) return NULL;
    return gguf_open(m->path);
}

static int write_text(const char *dir, const char *name, const char *text) {
    char *p = ft_path_join(dir, name);
    int rc = !p || !text ? ft_err("%s/%s: out of memory", dir, name) : ft_write_all(p, text, strlen(text));
    free(p);
    return rc;
}

// config.json: the source's when it was an HF dir (keeps fields ft does not model) with the
// stored dtype, else generated (ft_config_to_json); then tokenizer files and generation_config.json.
static int write_hf_meta(const ft_model *m, const char *dir, int dtype) {
    char *src_cfg = NULL;
    struct stat sb;
    int bad = 0, pad = -1;
    if (m->path && !stat(m->path, &sb) && S_ISDIR(sb.st_mode)) src_cfg = ft_path_join(m->path, "config.json");
    gguf_file *g = source_gguf(m);
    if (g) {
        uint64_t v;
        if (gguf_find(g, "tokenizer.ggml.padding_token_id") && !gguf_get_u64(g, "tokenizer.ggml.padding_token_id", &v))
            pad = (int)v;
        gguf_close(g);
    }
    if (src_cfg && !stat(src_cfg, &sb)) {
        json_error_t e;
        json_t *j = json_load_file(src_cfg, JSON_PRESERVE_ORDER, &e);
        if (!j) { ft_err("%s: %s", src_cfg, e.text); bad = 1; }
        else {
            // transformers 5 reads "dtype", earlier versions "torch_dtype": both say what is stored
            json_object_set_new(j, "torch_dtype", json_string(dtype_hf_name(dtype)));
            json_object_set_new(j, "dtype", json_string(dtype_hf_name(dtype)));
            char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            bad = write_text(dir, "config.json", s) != 0;
            free(s);
            json_decref(j);
        }
    } else {
        char *cfg = ft_config_to_json(&m->cfg, dtype_hf_name(dtype), pad);
        bad = !cfg || write_text(dir, "config.json", cfg);
        free(cfg);
    }
    free(src_cfg);
    if (bad || ft_model_copy_tokenizer_files(m, dir)) return -1;
    if (m->path && (g = source_gguf(m))) {   // a GGUF's tokenizer is metadata: written as HF's files
        gguf_close(g);
        if (ft_tokenizer_gguf_write_hf(m->path, dir, m->cfg.max_pos)) return -1;
    }
    char *gen = ft_path_join(dir, "generation_config.json");
    if (!gen) return -1;
    int have = !stat(gen, &sb);
    free(gen);
    if (have) return 0;   // copied from the source
    json_t *j = json_object();
    json_object_set_new(j, "_from_model_config", json_true());
    if (m->cfg.bos_id >= 0) json_object_set_new(j, "bos_token_id", json_integer(m->cfg.bos_id));
    if (m->cfg.n_eos == 1) json_object_set_new(j, "eos_token_id", json_integer(m->cfg.eos_ids[0]));
    else if (m->cfg.n_eos > 1) {
        json_t *e = json_array();
        for (int i = 0; i < m->cfg.n_eos; i++) json_array_append_new(e, json_integer(m->cfg.eos_ids[i]));
        json_object_set_new(j, "eos_token_id", e);
    }
    if (pad >= 0) json_object_set_new(j, "pad_token_id", json_integer(pad));
    char *s = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    int rc = write_text(dir, "generation_config.json", s);
    free(s);
    return rc;
}

// The weights (sharded beyond shard_bytes; 0: one file) and the metadata files into dir.
static int write_hf_files(const ft_model *m, const char *dir, int dtype, uint64_t shard_bytes) {
    int rc = -1, n_shards = 0;
    void **bufs = ft_calloc((size_t)m->n_tensors, sizeof *bufs);
    int *shard_of = ft_calloc((size_t)m->n_tensors, sizeof *shard_of);
    json_t *wmap = json_object();
    if (!bufs || !shard_of || !wmap) goto out;
    size_t esz = st_dtype_size(dtype);
    // assign tensors to shards in table order
    uint64_t cur = 0, total = 0;
    char head[96];
    ft_arch_global_name(m->cfg.arch_row, FT_GLOBAL_HEAD, head, sizeof head);
    for (int i = 0; i < m->n_tensors; i++) {
        const ft_tensor_info *t = &m->tensors[i];
        shard_of[i] = -1;
        if (m->cfg.tie_embeddings && !strcmp(t->name, head)) continue;
        uint64_t b = (uint64_t)t->numel * esz;
        if (n_shards == 0 || (shard_bytes && cur > 0 && cur + b > shard_bytes)) { n_shards++; cur = 0; }
        shard_of[i] = n_shards - 1;
        cur += b;
        total += b;
    }
    for (int s = 0; s < n_shards; s++) {
        st_writer *w = st_writer_new();
        if (!w) goto out;
        char name[96];
        if (n_shards == 1) snprintf(name, sizeof name, "model.safetensors");
        else snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, n_shards);
        int bad = 0;
        for (int i = 0; i < m->n_tensors && !bad; i++) {
            if (shard_of[i] != s) continue;
            const ft_tensor_info *t = &m->tensors[i];
            if (!(bufs[i] = convert_hf(t, m->params + t->offset, dtype))) { bad = 1; break; }
            uint64_t shape[2] = {(uint64_t)t->shape[0], (uint64_t)t->shape[1]};
            if (st_writer_add(w, t->name, dtype, t->n_dims, shape, bufs[i])) bad = 1;
            json_object_set_new(wmap, t->name, json_string(name));
        }
        char *p = ft_path_join(dir, name);
        if (!bad && (!p || st_writer_meta(w, "format", "pt") || st_writer_write(w, p))) bad = 1;
        free(p);
        st_writer_free(w);
        for (int i = 0; i < m->n_tensors; i++)
            if (shard_of[i] == s) { free(bufs[i]); bufs[i] = NULL; }
        if (bad) goto out;
    }
    if (n_shards > 1) {
        json_t *idx = json_object(), *meta = json_object();
        json_object_set_new(meta, "total_size", json_integer((json_int_t)total));
        json_object_set_new(idx, "metadata", meta);
        json_object_set(idx, "weight_map", wmap);
        char *s = json_dumps(idx, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(idx);
        int bad = write_text(dir, "model.safetensors.index.json", s);
        free(s);
        if (bad) goto out;
    }
    if (write_hf_meta(m, dir, dtype)) goto out;
    rc = 0;
out:
    if (bufs)
        for (int i = 0; i < m->n_tensors; i++) free(bufs[i]);
    free(bufs);
    free(shard_of);
    json_decref(wmap);
    return rc;
}

int ft_model_save_hf(const ft_model *m, const char *dir, int dtype, uint64_t shard_bytes) {
    if (dtype != ST_F32 && dtype != ST_F16 && dtype != ST_BF16)
        return ft_err("%s: unsupported output dtype %s (use f32, f16 or bf16)", dir, st_dtype_name(dtype));
    if (!dir_empty_or_absent(dir)) return ft_err("%s: exists and is not empty; choose a new output directory", dir);
    // through a symlink: built beside the link's target and renamed onto it (the link stays)
    char *final = ft_output_target(dir);
    if (!final) return -1;
    size_t dl = strlen(final);
    char *tmp = ft_malloc(dl + 16);
    if (!tmp) { free(final); return -1; }
    snprintf(tmp, dl + 16, "%s.tmp.XXXXXX", final);
    if (!mkdtemp(tmp)) {
        free(tmp);
        free(final);
        return ft_err("%s: cannot create a temporary directory: %s", dir, strerror(errno));
    }
    chmod(tmp, 0755);
    int rc = -1;
    if (write_hf_files(m, tmp, dtype, shard_bytes)) goto out;
    rmdir(final);   // empty or absent
    if (rename(tmp, final) != 0) { ft_err("%s: cannot rename into place: %s", dir, strerror(errno)); goto out; }
    rc = 0;
out:
    if (rc) rm_flat_dir(tmp);
    free(tmp);
    free(final);
    return rc;
}

int ft_model_save_hf_into(const ft_model *m, const char *dir) {
    if (ft_mkdirs(dir)) return -1;
    return write_hf_files(m, dir, ST_F32, 0);
}

// ---- GGUF ----------------------------------------------------------------------------------

static int file_type_of(uint32_t type) {
    switch (type) {
    case GGML_F32: return 0;
    case GGML_F16: return 1;
    case GGML_Q8_0: return 7;
    case GGML_BF16: return 32;
    default: return -1;
    }
}

static int write_model_meta(gguf_writer *w, const ft_config *c) {
    const char *a = ft_config_arch(c) ? ft_config_arch(c)->name : NULL;
    if (!a) return -1;
    char k[128];
    int bad = gguf_w_str(w, "general.architecture", a);
#define KU32(name, val) (snprintf(k, sizeof k, "%s." name, a), bad |= gguf_w_u32(w, k, (uint32_t)(val)))
#define KF32(name, val) (snprintf(k, sizeof k, "%s." name, a), bad |= gguf_w_f32(w, k, (float)(val)))
    KU32("block_count", c->n_layers);
    KU32("context_length", c->max_pos);
    KU32("embedding_length", c->hidden);
    KU32("feed_forward_length", c->intermediate);
    KU32("attention.head_count", c->n_heads);
    KU32("attention.head_count_kv", c->n_kv_heads);
    KU32("rope.dimension_count", c->head_dim);
    KU32("attention.key_length", c->head_dim);     // head_dim need not be hidden / heads (Qwen3, Gemma)
    KU32("attention.value_length", c->head_dim);
    if (c->sliding_window > 0) KU32("attention.sliding_window", c->sliding_window);
    KU32("vocab_size", c->vocab_size);
    KF32("rope.freq_base", c->rope_theta);
    KF32("attention.layer_norm_rms_epsilon", c->rms_eps);
#undef KU32
#undef KF32
    return bad ? -1 : 0;
}

int ft_model_save_gguf(const ft_model *m, const char *path, uint32_t type, const char *src_gguf,
                       int allow_no_tokenizer) {
    if (file_type_of(type) < 0) return ft_err("%s: unsupported GGUF output type %s (use f32, f16, bf16 or q8_0)", path,
                                              ggml_type_name(type) ? ggml_type_name(type) : "?");
    gguf_file *src = NULL;
    if (src_gguf && !(src = gguf_open(src_gguf))) return -1;
    if (!src && !allow_no_tokenizer)
        return ft_err("%s: the base model is not a GGUF file, so there is no tokenizer metadata to carry over; "
                      "merge against the GGUF base or write --format hf", path);
    int rc = -1;
    gguf_writer *w = gguf_writer_new();
    void **bufs = ft_calloc((size_t)m->n_tensors + 1, sizeof *bufs);
    if (!w || !bufs) goto out;
    if (src) {
        for (uint64_t i = 0; i < src->n_kv; i++) {
            const gguf_kv *kv = &src->kv[i];
            char key[512];
            if (kv->key_len >= sizeof key) continue;
            memcpy(key, kv->key, kv->key_len);
            key[kv->key_len] = 0;
            if (!strcmp(key, "general.file_type") || !strcmp(key, "general.alignment")) continue;
            if (gguf_w_value(w, key, &kv->val)) goto out;
        }
    } else if (write_model_meta(w, &m->cfg)) goto out;
    if (gguf_w_u32(w, "general.file_type", (uint32_t)file_type_of(type))) goto out;
    char head[96];
    ft_arch_global_name(m->cfg.arch_row, FT_GLOBAL_HEAD, head, sizeof head);
    for (int i = 0; i < m->n_tensors; i++) {
        const ft_tensor_info *t = &m->tensors[i];
        if (m->cfg.tie_embeddings && !strcmp(t->name, head)) continue;
        char gn[128];
        if (ft_arch_gguf_name(m->cfg.arch_row, t->name, gn, sizeof gn) < 0) {
            ft_err("%s: no GGUF name for tensor %s", path, t->name);
            goto out;
        }
        uint64_t rows = t->n_dims == 2 ? (uint64_t)t->shape[0] : 1, cols = t->n_dims == 2 ? (uint64_t)t->shape[1] : (uint64_t)t->shape[0];
        float *f = ft_malloc(t->numel * sizeof(float));
        if (!f) goto out;
        memcpy(f, m->params + t->offset, t->numel * sizeof(float));
        int nh = ft_arch_gguf_permute_heads(&m->cfg, t->name);
        if (nh) {
            if (ft_model_permute_rows(f, nh, (int)rows, (int)cols, 1)) { free(f); goto out; }
        }
        uint32_t tt = t->n_dims == 1 ? GGML_F32 : type;
        if (tt == GGML_Q8_0 && cols % 32) tt = GGML_F16;
        void *data = f;
        if (tt == GGML_F16 || tt == GGML_BF16) {
            data = convert(f, t->numel, tt == GGML_F16 ? ST_F16 : ST_BF16);
            free(f);
        } else if (tt == GGML_Q8_0) {
            data = ft_malloc(ggml_type_nbytes(GGML_Q8_0, t->numel));
            if (data && ft_quantize_q8_0(f, data, t->numel)) { free(data); data = NULL; }
            free(f);
        }
        if (!data) goto out;
        bufs[i] = data;
        uint64_t ne[2] = {cols, rows};
        if (gguf_w_tensor(w, gn, tt, t->n_dims, ne, data)) goto out;
    }
    if (src) {   // per-frequency rope factors (Llama 3.1) are carried over as they were
        const gguf_tensor *rf = gguf_find_tensor(src, "rope_freqs.weight");
        if (rf && gguf_w_tensor(w, rf->name, rf->type, rf->n_dims, rf->ne, rf->data)) goto out;
    }
    rc = gguf_writer_write(w, path);
out:
    if (bufs)
        for (int i = 0; i <= m->n_tensors; i++) free(bufs[i]);
    free(bufs);
    gguf_writer_free(w);
    gguf_close(src);
    return rc;
}
