// ft-info — describe model and data files as JSON, one object per input (one line each):
// GGUF (metadata + tensors), safetensors (file, index or dir), FTOK token streams (counts and
// length percentiles) and HF model directories (config, tokenizer summary, tensors).
// --dump NAME writes one tensor dequantized to little-endian f32 (for parity checks).
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "core/err.h"
#include "format/ftok.h"
#include "format/gguf.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "format/quant.h"
#include "format/safetensors.h"

#define PROG "ft-info"

static int opt_all = 0;            // print metadata arrays whole
static uint64_t opt_head = 8;      // elements shown of a summarised array
#define ARRAY_INLINE_MAX 32        // arrays up to this many scalar elements are printed whole

static void usage(void) {
    printf("Usage: ft-info [OPTIONS] FILE...\n\n"
           "Print one JSON object per FILE (one per line) describing it:\n"
           "  GGUF         version, alignment, metadata, every tensor (name, dtype, shape, bytes, offset)\n"
           "  safetensors  a .safetensors file, a model.safetensors.index.json or a directory holding one:\n"
           "               __metadata__ and every tensor (name, dtype, shape, bytes)\n"
           "  FTOK         header, record/token/trained-token counts, length percentiles ('-' = stdin)\n"
           "  model dir    config.json, tokenizer summary, adapter_config.json, tensors\n\n"
           "Options:\n"
           "  -o FILE        write to FILE (default stdout; written atomically)\n"
           "      --all      print large metadata arrays (token lists) whole instead of summarised\n"
           "      --head N   elements shown of a summarised array (default 8)\n"
           "      --dump NAME  write tensor NAME of the single FILE as raw little-endian f32\n"
           "                 (dequantized; GGUF or safetensors)\n"
           "  -q, -v         quieter / more verbose\n"
           "  -h, --help     this help\n"
           "      --version  print the version\n\n"
           "Exit status: 0 ok, 1 a file is malformed or unreadable, 2 usage.\n");
}

// ---- JSON helpers ------------------------------------------------------------------------

// A JSON string from arbitrary bytes: invalid UTF-8 bytes become U+FFFD.
static json_t *jstr(const char *p, size_t n) {
    if (ft_utf8_invalid_at(p, n) < 0) return json_stringn(p, n);
    char *buf = malloc(3 * n + 1);
    if (!buf) return json_null();
    size_t o = 0, i = 0;
    while (i < n) {
        long bad = ft_utf8_invalid_at(p + i, n - i);
        size_t good = bad < 0 ? n - i : (size_t)bad;
        memcpy(buf + o, p + i, good);
        o += good;
        i += good;
        if (bad >= 0) { memcpy(buf + o, "\xEF\xBF\xBD", 3); o += 3; i++; }
    }
    json_t *s = json_stringn(buf, o);
    free(buf);
    return s;
}

static json_t *ju64(uint64_t v) {
    if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    return json_string(b);
}

static json_t *jreal(double d) {
    json_t *r = json_real(d);   // NaN/inf are not JSON: spell them
    if (r) return r;
    return json_string(d != d ? "nan" : d > 0 ? "inf" : "-inf");
}

// ---- GGUF --------------------------------------------------------------------------------

static json_t *scalar_json(uint32_t t, const uint8_t *p) {
    switch (t) {
    case GGUF_T_UINT8: return json_integer(p[0]);
    case GGUF_T_INT8: return json_integer((int8_t)p[0]);
    case GGUF_T_BOOL: return json_boolean(p[0]);
    case GGUF_T_UINT16: { uint16_t x; memcpy(&x, p, 2); return json_integer(x); }
    case GGUF_T_INT16: { int16_t x; memcpy(&x, p, 2); return json_integer(x); }
    case GGUF_T_UINT32: { uint32_t x; memcpy(&x, p, 4); return json_integer(x); }
    case GGUF_T_INT32: { int32_t x; memcpy(&x, p, 4); return json_integer(x); }
    case GGUF_T_UINT64: { uint64_t x; memcpy(&x, p, 8); return ju64(x); }
    case GGUF_T_INT64: { int64_t x; memcpy(&x, p, 8); return json_integer(x); }
    case GGUF_T_FLOAT32: { float x; memcpy(&x, p, 4); return jreal(x); }
    case GGUF_T_FLOAT64: { double x; memcpy(&x, p, 8); return jreal(x); }
    default: return json_null();
    }
}

static const uint8_t sizes[GGUF_T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

// An array's elements (already validated by gguf_open). *used = bytes consumed.
static json_t *array_json(uint32_t et, uint64_t n, const uint8_t *p, uint64_t *used) {
    int whole = opt_all || (n <= ARRAY_INLINE_MAX && et != GGUF_T_ARRAY);
    uint64_t show = whole ? n : (n < opt_head ? n : opt_head);
    json_t *items = json_array();
    const uint8_t *q = p;
    for (uint64_t i = 0; i < n; i++) {
        json_t *v = NULL;
        if (et == GGUF_T_STRING) {
            uint64_t len;
            memcpy(&len, q, 8);
            if (i < show) v = jstr((const char *)q + 8, len);
            q += 8 + len;
        } else if (et == GGUF_T_ARRAY) {
            uint32_t t2; uint64_t n2, u2;
            memcpy(&t2, q, 4);
            memcpy(&n2, q + 4, 8);
            json_t *sub = array_json(t2, n2, q + 12, &u2);
            if (i < show) v = sub; else json_decref(sub);
            q += 12 + u2;
        } else {
            if (i < show) v = scalar_json(et, q);
            else { q += sizes[et] * (n - i); break; }
            q += sizes[et];
        }
        if (v) json_array_append_new(items, v);
    }
    *used = (uint64_t)(q - p);
    if (whole) return items;
    return json_pack("{s:s,s:s,s:o,s:o}", "type", "array", "elem_type", gguf_type_name(et), "count", ju64(n),
                     "head", items);
}

static json_t *value_json(const gguf_value *v) {
    uint8_t b[8];
    switch (v->type) {
    case GGUF_T_STRING: return jstr(v->v.str.p, v->v.str.len);
    case GGUF_T_ARRAY: { uint64_t used; return array_json(v->v.arr.type, v->v.arr.n, v->v.arr.data, &used); }
    case GGUF_T_FLOAT32: case GGUF_T_FLOAT64: return jreal(v->v.f);
    case GGUF_T_BOOL: return json_boolean(v->v.u);
    case GGUF_T_INT8: case GGUF_T_INT16: case GGUF_T_INT32: case GGUF_T_INT64: return json_integer(v->v.i);
    default: memcpy(b, &v->v.u, 8); return ju64(v->v.u);
    }
}

static json_t *info_gguf(const char *path) {
    gguf_file *g = gguf_open(path);
    if (!g) return NULL;
    json_t *meta = json_object(), *ts = json_array();
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gguf_kv *kv = &g->kv[i];
        json_t *k = jstr(kv->key, kv->key_len);
        json_object_set_new(meta, json_string_value(k), value_json(&kv->val));
        json_decref(k);
    }
    uint64_t params = 0, bytes = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        json_t *shape = json_array();
        uint64_t n = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) { json_array_append_new(shape, ju64(t->ne[d])); n *= t->ne[d]; }
        params += n;
        bytes += t->nbytes;
        json_array_append_new(ts, json_pack("{s:s,s:s,s:o,s:o,s:o}", "name", t->name, "dtype",
                                            ggml_type_name(t->type), "shape", shape, "bytes", ju64(t->nbytes),
                                            "offset", ju64(t->offset)));
    }
    json_t *o = json_pack("{s:s,s:s,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "file", path, "format", "gguf", "version",
                          (int)g->version, "alignment", ju64(g->alignment), "data_offset", ju64(g->data_offset),
                          "n_kv", ju64(g->n_kv), "n_tensors", ju64(g->n_tensors), "params", ju64(params),
                          "metadata", meta, "tensors", ts);
    json_object_set_new(o, "tensor_bytes", ju64(bytes));
    gguf_close(g);
    return o;
}

// ---- safetensors -------------------------------------------------------------------------

static json_t *st_json(const st_set *s) {
    json_t *ts = json_array();
    uint64_t params = 0, bytes = 0;
    for (size_t i = 0; i < s->n_tensors; i++) {
        const st_tensor *t = &s->tensors[i];
        json_t *shape = json_array();
        uint64_t n = 1;
        for (int d = 0; d < t->n_dims; d++) { json_array_append_new(shape, ju64(t->shape[d])); n *= t->shape[d]; }
        params += n;
        bytes += t->nbytes;
        json_array_append_new(ts, json_pack("{s:s,s:s,s:o,s:o}", "name", t->name, "dtype", st_dtype_name(t->dtype),
                                            "shape", shape, "bytes", ju64(t->nbytes)));
    }
    json_t *meta = s->metadata_json ? json_loads(s->metadata_json, 0, NULL) : json_object();
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "files", ju64(s->n_files), "metadata", meta ? meta : json_object(),
                     "n_tensors", ju64(s->n_tensors), "params", ju64(params), "tensor_bytes", ju64(bytes),
                     "tensors", ts);
}

static json_t *info_safetensors(const char *path) {
    st_set *s = st_open(path);
    if (!s) return NULL;
    json_t *o = json_pack("{s:s,s:s}", "file", path, "format", "safetensors");
    json_object_update_new(o, st_json(s));
    st_close(s);
    return o;
}

// ---- FTOK --------------------------------------------------------------------------------

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static json_t *info_ftok(const char *path) {
    ftok_reader *r = ftok_open(path);
    if (!r) return NULL;
    const ftok_header *h = ftok_reader_header(r);
    ftok_record rec = {0};
    uint64_t tokens = 0, trained = 0, n = 0, cap = 0;
    uint32_t *lens = NULL;
    int rc;
    while ((rc = ftok_next(r, &rec)) == 1) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            uint32_t *p = ft_realloc(lens, cap * sizeof *p);
            if (!p) { rc = -1; break; }
            lens = p;
        }
        lens[n++] = rec.n;
        tokens += rec.n;
        trained += ftok_record_trained(&rec);
    }
    ftok_record_free(&rec);
    json_t *o = NULL;
    if (rc == 0) {
        char id[32];
        snprintf(id, sizeof id, "%016llx", (unsigned long long)h->tokenizer_id);
        json_t *len = json_object();
        if (n) {
            qsort(lens, n, sizeof *lens, cmp_u32);
            // nearest-rank percentiles
            static const int ps[] = {50, 90, 95, 99};
            json_object_set_new(len, "min", json_integer(lens[0]));
            for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
                uint64_t k = (ps[i] * n + 99) / 100;
                char key[8];
                snprintf(key, sizeof key, "p%d", ps[i]);
                json_object_set_new(len, key, json_integer(lens[k ? k - 1 : 0]));
            }
            json_object_set_new(len, "max", json_integer(lens[n - 1]));
            json_object_set_new(len, "mean", json_real((double)tokens / (double)n));
        }
        o = json_pack("{s:s,s:s,s:i,s:b,s:I,s:s,s:o,s:o,s:o,s:o}", "file", path, "format", "ftok", "version",
                      (int)h->version, "mask", (h->flags & FTOK_FLAG_MASK) != 0, "vocab_size", (json_int_t)h->vocab_size,
                      "tokenizer_id", id, "records", ju64(n), "tokens", ju64(tokens), "trained_tokens", ju64(trained),
                      "length", len);
    }
    free(lens);
    ftok_close(r);
    return o;
}

// ---- HF model directory --------------------------------------------------------------------

static json_t *load_json(const char *dir, const char *name, int *err) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat sb;
    if (stat(p, &sb) != 0) return NULL;
    json_error_t je;
    json_t *j = json_load_file(p, JSON_REJECT_DUPLICATES, &je);
    if (!j) { *err = ft_err("%s:%d: invalid JSON: %s", p, je.line, je.text); return NULL; }
    return j;
}

static json_t *tokenizer_summary(json_t *tok, json_t *tcfg) {
    json_t *s = json_object(), *model = json_object_get(tok, "model");
    json_t *type = json_object_get(model, "type"), *vocab = json_object_get(model, "vocab");
    json_t *merges = json_object_get(model, "merges"), *added = json_object_get(tok, "added_tokens");
    if (type) json_object_set(s, "model", type);
    if (vocab) json_object_set_new(s, "vocab_size", json_integer((json_int_t)(json_is_object(vocab) ? json_object_size(vocab) : json_array_size(vocab))));
    if (merges) json_object_set_new(s, "merges", json_integer((json_int_t)json_array_size(merges)));
    if (json_is_array(added)) {
        json_t *sp = json_array();
        size_t i; json_t *a;
        json_array_foreach(added, i, a) if (json_is_true(json_object_get(a, "special")))
            json_array_append(sp, json_object_get(a, "content"));
        json_object_set_new(s, "added_tokens", json_integer((json_int_t)json_array_size(added)));
        json_object_set_new(s, "special_tokens", sp);
    }
    json_t *pre = json_object_get(tok, "pre_tokenizer"), *norm = json_object_get(tok, "normalizer");
    if (json_is_object(pre)) json_object_set(s, "pre_tokenizer", json_object_get(pre, "type"));
    if (json_is_object(norm)) json_object_set(s, "normalizer", json_object_get(norm, "type"));
    if (tcfg) {
        static const char *keys[] = {"bos_token", "eos_token", "pad_token", "unk_token", "model_max_length"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            json_t *v = json_object_get(tcfg, keys[i]);
            if (json_is_object(v)) v = json_object_get(v, "content");
            if (v) json_object_set(s, keys[i], v);
        }
        json_object_set_new(s, "chat_template", json_boolean(json_object_get(tcfg, "chat_template") != NULL));
    }
    return s;
}

static json_t *info_dir(const char *path) {
    int err = 0;
    json_t *cfg = load_json(path, "config.json", &err);
    json_t *acfg = err ? NULL : load_json(path, "adapter_config.json", &err);
    json_t *tok = err ? NULL : load_json(path, "tokenizer.json", &err);
    json_t *tcfg = err ? NULL : load_json(path, "tokenizer_config.json", &err);
    json_t *o = NULL;
    char p[4096];
    struct stat sb;
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", path);
    int has_st = stat(p, &sb) == 0;
    snprintf(p, sizeof p, "%s/model.safetensors", path);
    has_st |= stat(p, &sb) == 0;
    snprintf(p, sizeof p, "%s/adapter_model.safetensors", path);
    has_st |= stat(p, &sb) == 0;
    if (!err && !cfg && !acfg && !has_st)
        err = ft_err("%s: not a model directory (no config.json, adapter_config.json or *.safetensors)", path);
    if (!err) {
        o = json_pack("{s:s,s:s}", "file", path, "format", acfg && !cfg ? "adapter-dir" : "model-dir");
        if (cfg) json_object_set(o, "config", cfg);
        if (acfg) json_object_set(o, "adapter_config", acfg);
        if (tok || tcfg) json_object_set_new(o, "tokenizer", tokenizer_summary(tok, tcfg));
        if (has_st) {
            st_set *s = st_open(path);
            if (!s) { json_decref(o); o = NULL; }
            else { json_object_set_new(o, "weights", st_json(s)); st_close(s); }
        }
    }
    json_decref(cfg); json_decref(acfg); json_decref(tok); json_decref(tcfg);
    return o;
}

// ---- dispatch ----------------------------------------------------------------------------

static json_t *info_file(const char *path) {
    struct stat sb;
    if (strcmp(path, "-") != 0) {
        if (stat(path, &sb) != 0) { ft_err("%s: cannot open: no such file or directory", path); return NULL; }
        if (S_ISDIR(sb.st_mode)) return info_dir(path);
    }
    uint8_t magic[8] = {0};
    size_t got = 0;
    if (strcmp(path, "-") != 0) {
        FILE *f = fopen(path, "rb");
        if (!f) { ft_err("%s: cannot open", path); return NULL; }
        got = fread(magic, 1, sizeof magic, f);
        fclose(f);
    } else {
        return info_ftok(path);   // stdin: only streams make sense
    }
    if (got >= 4 && !memcmp(magic, "GGUF", 4)) return info_gguf(path);
    if (got >= 4 && (!memcmp(magic, "FTOK", 4) || !memcmp(magic, "\x28\xB5\x2F\xFD", 4))) return info_ftok(path);
    size_t n = strlen(path);
    if (n >= 5 && !strcmp(path + n - 5, ".gguf")) return info_gguf(path);
    if ((n >= 4 && !strcmp(path + n - 4, ".tok")) || (n >= 8 && !strcmp(path + n - 8, ".tok.zst"))) return info_ftok(path);
    return info_safetensors(path);   // its own checks name what is wrong
}

static int dump_tensor(const char *path, const char *name, ft_writer *w) {
    float *buf = NULL;
    uint64_t n = 1;
    uint8_t magic[4] = {0};
    FILE *f = fopen(path, "rb");
    if (f) { if (fread(magic, 1, 4, f) != 4) memset(magic, 0, 4); fclose(f); }
    if (!memcmp(magic, "GGUF", 4)) {
        gguf_file *g = gguf_open(path);
        if (!g) return -1;
        const gguf_tensor *t = gguf_find_tensor(g, name);
        if (!t) { gguf_close(g); return ft_err("%s: no tensor '%s'", path, name); }
        for (uint32_t d = 0; d < t->n_dims; d++) n *= t->ne[d];
        if (!(buf = ft_malloc(n * sizeof *buf))) { gguf_close(g); return -1; }
        int rc = ft_dequantize(t->type, t->data, buf, n);
        if (rc) ft_err("%s: tensor '%s': cannot dequantize type %s", path, name, ggml_type_name(t->type));
        gguf_close(g);
        if (rc) { free(buf); return -1; }
    } else {
        st_set *s = st_open(path);
        if (!s) return -1;
        const st_tensor *t = st_find(s, name);
        if (!t) { st_close(s); return ft_err("%s: no tensor '%s'", path, name); }
        for (int d = 0; d < t->n_dims; d++) n *= t->shape[d];
        uint32_t type = t->dtype == ST_F32 ? GGML_F32 : t->dtype == ST_F16 ? GGML_F16 : t->dtype == ST_BF16 ? GGML_BF16 : 99;
        if (type == 99) { st_close(s); return ft_err("%s: tensor '%s': dtype %s is not a float type", path, name, st_dtype_name(t->dtype)); }
        if (!(buf = ft_malloc(n * sizeof *buf + 1))) { st_close(s); return -1; }
        ft_dequantize(type, t->data, buf, n);
        st_close(s);
    }
    int rc = ft_writer_write(w, buf, n * sizeof *buf);
    free(buf);
    return rc;
}

int main(int argc, char **argv) {
    enum { O_ALL = 256, O_HEAD, O_DUMP, O_VERSION };
    static const struct option opts[] = {
        {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, O_VERSION}, {"all", no_argument, 0, O_ALL},
        {"head", required_argument, 0, O_HEAD}, {"dump", required_argument, 0, O_DUMP},
        {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'}, {0, 0, 0, 0}};
    const char *out = "-", *dump = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:qv", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(); return 0;
        case O_VERSION: ft_cli_version(PROG); return 0;
        case 'o': out = optarg; break;
        case 'q': ft_verbosity = 0; break;
        case 'v': ft_verbosity = 2; break;
        case O_ALL: opt_all = 1; break;
        case O_HEAD:
            if (ft_parse_u64("--head", optarg, &opt_head)) return ft_cli_usage(PROG, "%s", ft_errmsg());
            break;
        case O_DUMP: dump = optarg; break;
        default:
            return ft_cli_usage(PROG, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return ft_cli_usage(PROG, "no input file");
    if (dump && argc - optind != 1) return ft_cli_usage(PROG, "--dump takes exactly one input file");
    ft_writer *w = ft_writer_open(out);
    if (!w) return ft_cli_fail(PROG, FT_EXIT_DATA);
    int status = 0;
    if (dump) {
        if (dump_tensor(argv[optind], dump, w)) { ft_cli_fail(PROG, FT_EXIT_DATA); status = FT_EXIT_DATA; }
    } else {
        for (int i = optind; i < argc; i++) {
            json_t *o = info_file(argv[i]);
            if (!o) { ft_cli_fail(PROG, FT_EXIT_DATA); status = FT_EXIT_DATA; continue; }
            char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(o);
            if (!s || ft_writer_printf(w, "%s\n", s)) { free(s); ft_cli_fail(PROG, FT_EXIT_DATA); status = FT_EXIT_DATA; break; }
            free(s);
            if (ft_writer_flush(w)) { ft_cli_fail(PROG, FT_EXIT_DATA); status = FT_EXIT_DATA; break; }
        }
    }
    // a file given with -o is written only when everything succeeded
    if (status && strcmp(out, "-") != 0) ft_writer_abort(w);
    else if (ft_writer_commit(w)) return ft_cli_fail(PROG, FT_EXIT_DATA);
    return status;
}
