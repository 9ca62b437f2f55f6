// gguf.c — GGUF v2/v3 reader. The file is mapped read-only; every count, length, dimension,
// type, offset and alignment is checked against the bytes that remain before anything is
// allocated or dereferenced (llama.cpp's CVE history: huge n_kv/n_tensors, 2^63 string
// lengths, n_dims > 4, overflowing dimension products, unknown types, bad alignments,
// misaligned/out-of-file/overlapping tensors, duplicate keys or names).
// The writer lives in gguf_write.c.
#include "format/gguf.h"
#include "core/err.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define GGUF_MAX_DEPTH 8   // nesting of arrays of arrays

// ---- type tables -----------------------------------------------------------------------

static const struct { const char *name; uint32_t block, size; } ggml_types[GGML_TYPE_COUNT] = {
    [0] = {"F32", 1, 4},        [1] = {"F16", 1, 2},        [2] = {"Q4_0", 32, 18},
    [3] = {"Q4_1", 32, 20},     [6] = {"Q5_0", 32, 22},     [7] = {"Q5_1", 32, 24},
    [8] = {"Q8_0", 32, 34},     [9] = {"Q8_1", 32, 40},     [10] = {"Q2_K", 256, 84},
    [11] = {"Q3_K", 256, 110},  [12] = {"Q4_K", 256, 144},  [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210},  [15] = {"Q8_K", 256, 292},  [16] = {"IQ2_XXS", 256, 66},
    [17] = {"IQ2_XS", 256, 74}, [18] = {"IQ3_XXS", 256, 98}, [19] = {"IQ1_S", 256, 50},
    [20] = {"IQ4_NL", 32, 18},  [21] = {"IQ3_S", 256, 110}, [22] = {"IQ2_S", 256, 82},
    [23] = {"IQ4_XS", 256, 136}, [24] = {"I8", 1, 1},       [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},       [27] = {"I64", 1, 8},       [28] = {"F64", 1, 8},
    [29] = {"IQ1_M", 256, 56},  [30] = {"BF16", 1, 2},      [34] = {"TQ1_0", 256, 54},
    [35] = {"TQ2_0", 256, 66},  [39] = {"MXFP4", 32, 17},
};

const char *ggml_type_name(uint32_t t) { return t < GGML_TYPE_COUNT ? ggml_types[t].name : NULL; }
uint32_t ggml_type_block(uint32_t t) { return ggml_type_name(t) ? ggml_types[t].block : 0; }

uint64_t ggml_type_nbytes(uint32_t t, uint64_t n) {
    if (!ggml_type_name(t) || n % ggml_types[t].block) return 0;
    uint64_t blocks = n / ggml_types[t].block;
    if (blocks > UINT64_MAX / ggml_types[t].size) return 0;
    return blocks * ggml_types[t].size;
}

static const char *const gguf_names[GGUF_T_COUNT] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string",
    "array", "uint64", "int64", "float64"};
static const uint8_t gguf_sizes[GGUF_T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *gguf_type_name(uint32_t t) { return t < GGUF_T_COUNT ? gguf_names[t] : NULL; }

// ---- bounded cursor --------------------------------------------------------------------

typedef struct {
    const uint8_t *p;
    uint64_t pos, size;
    const char *path;
} cur;

static uint64_t left(const cur *c) { return c->size - c->pos; }

static int need(cur *c, uint64_t n, const char *what) {
    if (n > left(c))
        return ft_err("%s: truncated at byte %llu: %s needs %llu bytes, %llu remain", c->path,
                      (unsigned long long)c->pos, what, (unsigned long long)n,
                      (unsigned long long)left(c));
    return 0;
}

static int rd(cur *c, void *out, uint64_t n, const char *what) {
    if (need(c, n, what)) return -1;
    memcpy(out, c->p + c->pos, n);
    c->pos += n;
    return 0;
}

static int rd_u32(cur *c, uint32_t *v, const char *what) { return rd(c, v, 4, what); }
static int rd_u64(cur *c, uint64_t *v, const char *what) { return rd(c, v, 8, what); }

static int rd_str(cur *c, const char **s, uint64_t *len, const char *what) {
    if (rd_u64(c, len, what)) return -1;
    if (*len > left(c))
        return ft_err("%s: %s at byte %llu has length %llu but only %llu bytes remain", c->path, what,
                      (unsigned long long)(c->pos - 8), (unsigned long long)*len,
                      (unsigned long long)left(c));
    *s = (const char *)c->p + c->pos;
    c->pos += *len;
    return 0;
}

// Minimum encoded size of one value of type t (used to bound counts before allocating).
static uint64_t min_size(uint32_t t) {
    if (t == GGUF_T_STRING) return 8;
    if (t == GGUF_T_ARRAY) return 12;
    return gguf_sizes[t];
}

// Skip over (validate) a value of type t; depth bounds nested arrays.
static int skip_value(cur *c, uint32_t t, int depth, const char *what) {
    if (t >= GGUF_T_COUNT) return ft_err("%s: %s: unknown value type %u", c->path, what, t);
    if (t == GGUF_T_STRING) {
        const char *s; uint64_t n;
        return rd_str(c, &s, &n, what);
    }
    if (t != GGUF_T_ARRAY) return need(c, gguf_sizes[t], what) ? -1 : (c->pos += gguf_sizes[t], 0);
    if (depth >= GGUF_MAX_DEPTH) return ft_err("%s: %s: arrays nested deeper than %d", c->path, what, GGUF_MAX_DEPTH);
    uint32_t et; uint64_t n;
    if (rd_u32(c, &et, what) || rd_u64(c, &n, what)) return -1;
    if (et >= GGUF_T_COUNT) return ft_err("%s: %s: unknown array element type %u", c->path, what, et);
    if (n > left(c) / min_size(et))
        return ft_err("%s: %s: array of %llu %s elements cannot fit in the %llu bytes that remain",
                      c->path, what, (unsigned long long)n, gguf_names[et], (unsigned long long)left(c));
    if (et != GGUF_T_STRING && et != GGUF_T_ARRAY) { c->pos += n * gguf_sizes[et]; return 0; }
    for (uint64_t i = 0; i < n; i++)
        if (skip_value(c, et, depth + 1, what)) return -1;
    return 0;
}

// Parse one metadata value at the cursor into *v (strings/arrays point into the map).
static int read_value(cur *c, uint32_t t, gguf_value *v, const char *key) {
    memset(v, 0, sizeof *v);
    v->type = t;
    if (t >= GGUF_T_COUNT) return ft_err("%s: key '%s': unknown value type %u", c->path, key, t);
    uint8_t b[8] = {0};
    switch (t) {
    case GGUF_T_STRING:
        return rd_str(c, &v->v.str.p, &v->v.str.len, "string value");
    case GGUF_T_ARRAY: {
        uint64_t start;
        if (rd_u32(c, &v->v.arr.type, "array type") || rd_u64(c, &v->v.arr.n, "array length")) return -1;
        start = c->pos;
        // validate the element region (bounded by the remaining bytes), then record its extent
        c->pos -= 12;
        if (skip_value(c, GGUF_T_ARRAY, 0, key)) return -1;
        v->v.arr.data = c->p + start;
        v->v.arr.nbytes = c->pos - start;
        if (v->v.arr.type == GGUF_T_STRING && v->v.arr.n) {
            // n <= nbytes/8 was checked by skip_value: the table is bounded by the file size
            uint64_t *ix = ft_malloc(v->v.arr.n * sizeof *ix);
            if (!ix) return -1;
            uint64_t off = 0;
            for (uint64_t i = 0; i < v->v.arr.n; i++) {
                uint64_t len;
                ix[i] = off;
                memcpy(&len, v->v.arr.data + off, 8);
                off += 8 + len;
            }
            v->v.arr.index = ix;
        }
        return 0;
    }
    default:
        if (rd(c, b, gguf_sizes[t], "value")) return -1;
        break;
    }
    switch (t) {
    case GGUF_T_UINT8: v->v.u = b[0]; break;
    case GGUF_T_INT8: v->v.i = (int8_t)b[0]; break;
    case GGUF_T_BOOL: v->v.u = b[0] != 0; break;
    case GGUF_T_UINT16: { uint16_t x; memcpy(&x, b, 2); v->v.u = x; break; }
    case GGUF_T_INT16: { int16_t x; memcpy(&x, b, 2); v->v.i = x; break; }
    case GGUF_T_UINT32: { uint32_t x; memcpy(&x, b, 4); v->v.u = x; break; }
    case GGUF_T_INT32: { int32_t x; memcpy(&x, b, 4); v->v.i = x; break; }
    case GGUF_T_FLOAT32: { float x; memcpy(&x, b, 4); v->v.f = x; break; }
    case GGUF_T_UINT64: memcpy(&v->v.u, b, 8); break;
    case GGUF_T_INT64: memcpy(&v->v.i, b, 8); break;
    case GGUF_T_FLOAT64: memcpy(&v->v.f, b, 8); break;
    }
    return 0;
}

// ---- open ------------------------------------------------------------------------------

static const gguf_file *sort_ctx;
static int cmp_kv(const void *a, const void *b) {
    const gguf_kv *x = &sort_ctx->kv[*(const uint64_t *)a], *y = &sort_ctx->kv[*(const uint64_t *)b];
    uint64_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int r = memcmp(x->key, y->key, n);
    return r ? r : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}
static int cmp_tname(const void *a, const void *b) {
    return strcmp(sort_ctx->tensors[*(const uint64_t *)a].name, sort_ctx->tensors[*(const uint64_t *)b].name);
}
static int cmp_toff(const void *a, const void *b) {
    const gguf_tensor *x = &sort_ctx->tensors[*(const uint64_t *)a], *y = &sort_ctx->tensors[*(const uint64_t *)b];
    return (x->offset > y->offset) - (x->offset < y->offset);
}

static int read_tensor_info(cur *c, gguf_file *g, uint64_t i) {
    gguf_tensor *t = &g->tensors[i];
    const char *name; uint64_t len;
    if (rd_str(c, &name, &len, "tensor name")) return -1;
    if (len == 0) return ft_err("%s: tensor %llu has an empty name", c->path, (unsigned long long)i);
    if (memchr(name, 0, len)) return ft_err("%s: tensor %llu: name contains a NUL byte", c->path, (unsigned long long)i);
    if (!(t->name = ft_malloc(len + 1))) return -1;
    memcpy(t->name, name, len);
    t->name[len] = 0;
    if (rd_u32(c, &t->n_dims, "tensor n_dims")) return -1;
    if (t->n_dims < 1 || t->n_dims > 4)
        return ft_err("%s: tensor '%s': n_dims = %u, expected 1..4", c->path, t->name, t->n_dims);
    uint64_t n = 1;
    for (uint32_t d = 0; d < 4; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (rd_u64(c, &t->ne[d], "tensor dimension")) return -1;
        if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX / n)
            return ft_err("%s: tensor '%s': dimension %u = %llu is zero or makes the element count overflow",
                          c->path, t->name, d, (unsigned long long)t->ne[d]);
        n *= t->ne[d];
    }
    if (rd_u32(c, &t->type, "tensor type")) return -1;
    if (!ggml_type_name(t->type))
        return ft_err("%s: tensor '%s': unknown tensor type %u", c->path, t->name, t->type);
    if (t->ne[0] % ggml_type_block(t->type))
        return ft_err("%s: tensor '%s': row length %llu is not a multiple of the %s block size %u", c->path,
                      t->name, (unsigned long long)t->ne[0], ggml_type_name(t->type), ggml_type_block(t->type));
    t->nbytes = ggml_type_nbytes(t->type, n);
    if (!t->nbytes) return ft_err("%s: tensor '%s': byte size overflows", c->path, t->name);
    if (rd_u64(c, &t->offset, "tensor offset")) return -1;
    return 0;
}

static int gguf_parse(gguf_file *g) {
    cur c = {g->map.data, 0, g->map.size, g->path};
    char magic[4];
    if (rd(&c, magic, 4, "magic")) return -1;
    if (memcmp(magic, "GGUF", 4)) return ft_err("%s: not a GGUF file (bad magic)", g->path);
    if (rd_u32(&c, &g->version, "version")) return -1;
    if (g->version == 1) return ft_err("%s: GGUF version 1 is not supported (convert it to v3)", g->path);
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xFFFF) == 0) return ft_err("%s: big-endian GGUF is not supported", g->path);
        return ft_err("%s: unsupported GGUF version %u", g->path, g->version);
    }
    if (rd_u64(&c, &g->n_tensors, "tensor count") || rd_u64(&c, &g->n_kv, "metadata count")) return -1;
    // each kv needs >= 13 bytes (key length, type, 1-byte value), each tensor info >= 32
    if (g->n_kv > left(&c) / 13)
        return ft_err("%s: metadata count %llu cannot fit in the file", g->path, (unsigned long long)g->n_kv);
    if (g->n_tensors > left(&c) / 32)
        return ft_err("%s: tensor count %llu cannot fit in the file", g->path, (unsigned long long)g->n_tensors);
    if (g->n_kv && !(g->kv = ft_calloc(g->n_kv, sizeof *g->kv))) return -1;
    g->alignment = 32;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        gguf_kv *kv = &g->kv[i];
        uint32_t t;
        if (rd_str(&c, &kv->key, &kv->key_len, "metadata key")) return -1;
        if (kv->key_len == 0) return ft_err("%s: metadata key %llu is empty", g->path, (unsigned long long)i);
        char key[80];
        snprintf(key, sizeof key, "%.*s", (int)(kv->key_len < 64 ? kv->key_len : 64), kv->key);
        if (rd_u32(&c, &t, "value type")) return -1;
        if (read_value(&c, t, &kv->val, key)) return -1;
        if (kv->key_len == 17 && !memcmp(kv->key, "general.alignment", 17)) {
            if (t != GGUF_T_UINT32)
                return ft_err("%s: general.alignment has type %s, expected uint32", g->path,
                              gguf_type_name(t) ? gguf_type_name(t) : "?");
            uint64_t a = kv->val.v.u;
            if (a == 0 || (a & (a - 1)))
                return ft_err("%s: general.alignment = %llu is not a power of two", g->path, (unsigned long long)a);
            g->alignment = a;
        }
    }
    if (g->n_kv > 1) {   // duplicate keys
        uint64_t *ix = ft_malloc(g->n_kv * sizeof *ix);
        if (!ix) return -1;
        for (uint64_t i = 0; i < g->n_kv; i++) ix[i] = i;
        sort_ctx = g;
        qsort(ix, g->n_kv, sizeof *ix, cmp_kv);
        for (uint64_t i = 1; i < g->n_kv; i++)
            if (!cmp_kv(&ix[i - 1], &ix[i])) {
                const gguf_kv *d = &g->kv[ix[i]];
                free(ix);
                return ft_err("%s: duplicate metadata key '%.*s'", g->path, (int)(d->key_len < 200 ? d->key_len : 200), d->key);
            }
        free(ix);
    }
    if (g->n_tensors) {
        if (!(g->tensors = ft_calloc(g->n_tensors, sizeof *g->tensors))) return -1;
        if (!(g->tensor_order = ft_malloc(g->n_tensors * sizeof *g->tensor_order))) return -1;
    }
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (read_tensor_info(&c, g, i)) return -1;
    uint64_t off = c.pos + (g->alignment - c.pos % g->alignment) % g->alignment;
    if (off > g->map.size && g->n_tensors == 0) off = g->map.size;   // vocab-only files end unpadded
    if (off > g->map.size)
        return ft_err("%s: data section starts at %llu, past the end of the file (%llu bytes)", g->path,
                      (unsigned long long)off, (unsigned long long)g->map.size);
    g->data_offset = off;
    uint64_t data_size = g->map.size - off;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return ft_err("%s: tensor '%s': offset %llu is not a multiple of the alignment %llu", g->path, t->name,
                          (unsigned long long)t->offset, (unsigned long long)g->alignment);
        if (t->offset > data_size || t->nbytes > data_size - t->offset)
            return ft_err("%s: tensor '%s': data [%llu, +%llu) lies outside the %llu-byte data section", g->path,
                          t->name, (unsigned long long)t->offset, (unsigned long long)t->nbytes,
                          (unsigned long long)data_size);
        t->data = g->map.data + off + t->offset;
        g->tensor_order[i] = i;
    }
    if (g->n_tensors > 1) {
        sort_ctx = g;
        qsort(g->tensor_order, g->n_tensors, sizeof(uint64_t), cmp_toff);
        for (uint64_t i = 1; i < g->n_tensors; i++) {
            const gguf_tensor *a = &g->tensors[g->tensor_order[i - 1]], *b = &g->tensors[g->tensor_order[i]];
            if (a->offset + a->nbytes > b->offset)
                return ft_err("%s: tensors '%s' and '%s' overlap", g->path, a->name, b->name);
        }
        qsort(g->tensor_order, g->n_tensors, sizeof(uint64_t), cmp_tname);
        for (uint64_t i = 1; i < g->n_tensors; i++)
            if (!strcmp(g->tensors[g->tensor_order[i - 1]].name, g->tensors[g->tensor_order[i]].name))
                return ft_err("%s: duplicate tensor name '%s'", g->path, g->tensors[g->tensor_order[i]].name);
    }
    return 0;
}

gguf_file *gguf_open(const char *path) {
    gguf_file *g = ft_calloc(1, sizeof *g);
    if (!g) return NULL;
    if (!(g->path = ft_strdup(path)) || ft_map_open(path, &g->map) || gguf_parse(g)) {
        gguf_close(g);
        return NULL;
    }
    return g;
}

void gguf_close(gguf_file *g) {
    if (!g) return;
    for (uint64_t i = 0; g->kv && i < g->n_kv; i++)
        if (g->kv[i].val.type == GGUF_T_ARRAY) free((void *)g->kv[i].val.v.arr.index);
    free(g->kv);
    for (uint64_t i = 0; g->tensors && i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->tensors);
    free(g->tensor_order);
    ft_map_close(&g->map);
    free(g->path);
    free(g);
}

// ---- lookups ---------------------------------------------------------------------------

const gguf_value *gguf_find(const gguf_file *g, const char *key) {
    size_t n = strlen(key);
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key_len == n && !memcmp(g->kv[i].key, key, n)) return &g->kv[i].val;
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name) {
    uint64_t lo = 0, hi = g->n_tensors;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        const gguf_tensor *t = &g->tensors[g->tensor_order[mid]];
        int r = strcmp(t->name, name);
        if (!r) return t;
        if (r < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

static const gguf_value *get(const gguf_file *g, const char *key) {
    const gguf_value *v = gguf_find(g, key);
    if (!v) ft_err("%s: metadata key '%s' is missing", g->path, key);
    return v;
}

static int bad_type(const gguf_file *g, const char *key, const gguf_value *v, const char *want) {
    return ft_err("%s: metadata key '%s' has type %s, expected %s", g->path, key, gguf_type_name(v->type), want);
}

static int is_signed(uint32_t t) {
    return t == GGUF_T_INT8 || t == GGUF_T_INT16 || t == GGUF_T_INT32 || t == GGUF_T_INT64;
}
static int is_unsigned(uint32_t t) {
    return t == GGUF_T_UINT8 || t == GGUF_T_UINT16 || t == GGUF_T_UINT32 || t == GGUF_T_UINT64;
}

int gguf_get_u64(const gguf_file *g, const char *key, uint64_t *out) {
    const gguf_value *v = get(g, key);
    if (!v) return -1;
    if (is_unsigned(v->type)) { *out = v->v.u; return 0; }
    if (is_signed(v->type)) {
        if (v->v.i < 0) return ft_err("%s: metadata key '%s' is negative (%lld)", g->path, key, (long long)v->v.i);
        *out = (uint64_t)v->v.i;
        return 0;
    }
    return bad_type(g, key, v, "an integer");
}

int gguf_get_i64(const gguf_file *g, const char *key, int64_t *out) {
    const gguf_value *v = get(g, key);
    if (!v) return -1;
    if (is_signed(v->type)) { *out = v->v.i; return 0; }
    if (is_unsigned(v->type)) {
        if (v->v.u > (uint64_t)INT64_MAX) return ft_err("%s: metadata key '%s' does not fit in int64", g->path, key);
        *out = (int64_t)v->v.u;
        return 0;
    }
    return bad_type(g, key, v, "an integer");
}

int gguf_get_f64(const gguf_file *g, const char *key, double *out) {
    const gguf_value *v = get(g, key);
    if (!v) return -1;
    if (v->type != GGUF_T_FLOAT32 && v->type != GGUF_T_FLOAT64) return bad_type(g, key, v, "a float");
    *out = v->v.f;
    return 0;
}

int gguf_get_bool(const gguf_file *g, const char *key, bool *out) {
    const gguf_value *v = get(g, key);
    if (!v) return -1;
    if (v->type != GGUF_T_BOOL) return bad_type(g, key, v, "bool");
    *out = v->v.u != 0;
    return 0;
}

int gguf_get_str(const gguf_file *g, const char *key, char **out) {
    const gguf_value *v = get(g, key);
    if (!v) return -1;
    if (v->type != GGUF_T_STRING) return bad_type(g, key, v, "string");
    if (!(*out = ft_malloc(v->v.str.len + 1))) return -1;
    memcpy(*out, v->v.str.p, v->v.str.len);
    (*out)[v->v.str.len] = 0;
    return 0;
}

int gguf_get_arr(const gguf_file *g, const char *key, uint32_t elem_type, uint64_t *n, const gguf_value **val) {
    const gguf_value *v = get(g, key);
    if (!v) return -1;
    if (v->type != GGUF_T_ARRAY) return bad_type(g, key, v, "array");
    if (v->v.arr.type != elem_type)
        return ft_err("%s: metadata key '%s' is an array of %s, expected %s", g->path, key,
                      gguf_type_name(v->v.arr.type), gguf_type_name(elem_type));
    *n = v->v.arr.n;
    *val = v;
    return 0;
}

const char *gguf_arr_str(const gguf_value *arr, uint64_t i, uint64_t *len) {
    uint64_t off = 0;
    if (arr->v.arr.index) off = arr->v.arr.index[i];
    else   // an array built in memory (not read from a file): walk
        for (uint64_t k = 0; k < i; k++) {
            uint64_t l;
            memcpy(&l, arr->v.arr.data + off, 8);
            off += 8 + l;
        }
    memcpy(len, arr->v.arr.data + off, 8);
    return (const char *)arr->v.arr.data + off + 8;
}

double gguf_arr_f64(const gguf_value *arr, uint64_t i) {
    if (arr->v.arr.type == GGUF_T_FLOAT64) { double d; memcpy(&d, arr->v.arr.data + 8 * i, 8); return d; }
    float f;
    memcpy(&f, arr->v.arr.data + 4 * i, 4);
    return f;
}

int64_t gguf_arr_i64(const gguf_value *arr, uint64_t i) {
    const uint8_t *p = arr->v.arr.data;
    switch (arr->v.arr.type) {
    case GGUF_T_UINT8: case GGUF_T_BOOL: return p[i];
    case GGUF_T_INT8: return (int8_t)p[i];
    case GGUF_T_UINT16: { uint16_t x; memcpy(&x, p + 2 * i, 2); return x; }
    case GGUF_T_INT16: { int16_t x; memcpy(&x, p + 2 * i, 2); return x; }
    case GGUF_T_UINT32: { uint32_t x; memcpy(&x, p + 4 * i, 4); return x; }
    case GGUF_T_INT32: { int32_t x; memcpy(&x, p + 4 * i, 4); return x; }
    case GGUF_T_UINT64: case GGUF_T_INT64: { int64_t x; memcpy(&x, p + 8 * i, 8); return x; }
    default: return 0;
    }
}
