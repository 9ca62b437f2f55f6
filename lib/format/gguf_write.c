// gguf_write.c — GGUF v3 writer: metadata is serialized as it is added (setting a key twice
// replaces it), tensor data is copied from the caller's buffers at write time; the file is
// written to a temporary name and renamed, with every tensor aligned to general.alignment.
#include "format/gguf.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;
    uint8_t *bytes;     // type + value, serialized
    size_t n;
} wkv;

typedef struct {
    char *name;
    uint32_t type, n_dims;
    uint64_t ne[4], nbytes;
    const void *data;
} wtensor;

struct gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    uint32_t alignment;
};

typedef struct { uint8_t *p; size_t n, cap; int failed; } buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = ft_realloc(b->p, cap);
        if (!p) { b->failed = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(buf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(buf *b, const char *s, uint64_t n) { put_u64(b, n); put(b, s, n); }

gguf_writer *gguf_writer_new(void) {
    gguf_writer *w = ft_calloc(1, sizeof *w);
    if (w) w->alignment = 32;
    return w;
}

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) { free(w->kv[i].key); free(w->kv[i].bytes); }
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->kv);
    free(w->t);
    free(w);
}

// Take ownership of a serialized value for key (replacing an earlier one).
static int add_kv(gguf_writer *w, const char *key, buf *b) {
    if (b->failed) { free(b->p); return -1; }
    if (!key || !*key) { free(b->p); return ft_err("gguf writer: empty metadata key"); }
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) {
            free(w->kv[i].bytes);
            w->kv[i].bytes = b->p;
            w->kv[i].n = b->n;
            return 0;
        }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
        wkv *p = ft_realloc(w->kv, cap * sizeof *p);
        if (!p) { free(b->p); return -1; }
        w->kv = p;
        w->cap_kv = cap;
    }
    char *k = ft_strdup(key);
    if (!k) { free(b->p); return -1; }
    w->kv[w->n_kv++] = (wkv){k, b->p, b->n};
    return 0;
}

static int scalar(gguf_writer *w, const char *key, uint32_t type, const void *v, size_t n) {
    buf b = {0};
    put_u32(&b, type);
    put(&b, v, n);
    return add_kv(w, key, &b);
}

int gguf_w_u32(gguf_writer *w, const char *key, uint32_t v) {
    if (!strcmp(key, "general.alignment")) {
        if (v == 0 || (v & (v - 1))) return ft_err("gguf writer: general.alignment %u is not a power of two", v);
        w->alignment = v;
    }
    return scalar(w, key, GGUF_T_UINT32, &v, 4);
}
int gguf_w_i32(gguf_writer *w, const char *key, int32_t v) { return scalar(w, key, GGUF_T_INT32, &v, 4); }
int gguf_w_u64(gguf_writer *w, const char *key, uint64_t v) { return scalar(w, key, GGUF_T_UINT64, &v, 8); }
int gguf_w_f32(gguf_writer *w, const char *key, float v) { return scalar(w, key, GGUF_T_FLOAT32, &v, 4); }
int gguf_w_bool(gguf_writer *w, const char *key, bool v) {
    uint8_t b = v;
    return scalar(w, key, GGUF_T_BOOL, &b, 1);
}
int gguf_w_str(gguf_writer *w, const char *key, const char *s) {
    buf b = {0};
    put_u32(&b, GGUF_T_STRING);
    put_str(&b, s, strlen(s));
    return add_kv(w, key, &b);
}

int gguf_w_value(gguf_writer *w, const char *key, const gguf_value *v) {
    buf b = {0};
    uint8_t raw[8];
    put_u32(&b, v->type);
    switch (v->type) {
    case GGUF_T_STRING: put_str(&b, v->v.str.p, v->v.str.len); break;
    case GGUF_T_ARRAY:   // the element bytes are already in file encoding
        put_u32(&b, v->v.arr.type);
        put_u64(&b, v->v.arr.n);
        put(&b, v->v.arr.data, v->v.arr.nbytes);
        break;
    case GGUF_T_FLOAT32: { float f = (float)v->v.f; put(&b, &f, 4); break; }
    case GGUF_T_FLOAT64: put(&b, &v->v.f, 8); break;
    case GGUF_T_UINT8: case GGUF_T_INT8: case GGUF_T_BOOL: case GGUF_T_UINT16: case GGUF_T_INT16:
    case GGUF_T_UINT32: case GGUF_T_INT32: case GGUF_T_UINT64: case GGUF_T_INT64: {
        uint64_t u = v->v.u;   // same bits for the signed members (two's complement)
        memcpy(raw, &u, 8);
        size_t n = (v->type <= GGUF_T_INT8 || v->type == GGUF_T_BOOL) ? 1
                 : v->type <= GGUF_T_INT16 ? 2 : v->type <= GGUF_T_INT32 ? 4 : 8;
        put(&b, raw, n);
        break;
    }
    default:
        free(b.p);
        return ft_err("gguf writer: key '%s': unknown value type %u", key, v->type);
    }
    if (v->type == GGUF_T_UINT32 && !strcmp(key, "general.alignment")) {
        free(b.p);
        return gguf_w_u32(w, key, (uint32_t)v->v.u);
    }
    return add_kv(w, key, &b);
}

static int arr_head(buf *b, uint32_t et, uint64_t n) {
    put_u32(b, GGUF_T_ARRAY);
    put_u32(b, et);
    put_u64(b, n);
    return 0;
}

int gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *s, uint64_t n) {
    buf b = {0};
    arr_head(&b, GGUF_T_STRING, n);
    for (uint64_t i = 0; i < n; i++) put_str(&b, s[i], strlen(s[i]));
    return add_kv(w, key, &b);
}
int gguf_w_arr_f32(gguf_writer *w, const char *key, const float *v, uint64_t n) {
    buf b = {0};
    arr_head(&b, GGUF_T_FLOAT32, n);
    put(&b, v, n * 4);
    return add_kv(w, key, &b);
}
int gguf_w_arr_i32(gguf_writer *w, const char *key, const int32_t *v, uint64_t n) {
    buf b = {0};
    arr_head(&b, GGUF_T_INT32, n);
    put(&b, v, n * 4);
    return add_kv(w, key, &b);
}

int gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims, const uint64_t *ne, const void *data) {
    if (!name || !*name) return ft_err("gguf writer: empty tensor name");
    if (!ggml_type_name(type)) return ft_err("gguf writer: tensor '%s': unknown type %u", name, type);
    if (n_dims < 1 || n_dims > 4) return ft_err("gguf writer: tensor '%s': n_dims %u not in 1..4", name, n_dims);
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return ft_err("gguf writer: duplicate tensor '%s'", name);
    wtensor t = {.type = type, .n_dims = n_dims, .data = data, .ne = {1, 1, 1, 1}};
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] == 0 || ne[d] > (uint64_t)INT64_MAX / n)
            return ft_err("gguf writer: tensor '%s': bad dimension %llu", name, (unsigned long long)ne[d]);
        t.ne[d] = ne[d];
        n *= ne[d];
    }
    if (ne[0] % ggml_type_block(type))
        return ft_err("gguf writer: tensor '%s': row length %llu not a multiple of %u", name,
                      (unsigned long long)ne[0], ggml_type_block(type));
    t.nbytes = ggml_type_nbytes(type, n);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 16;
        wtensor *p = ft_realloc(w->t, cap * sizeof *p);
        if (!p) return -1;
        w->t = p;
        w->cap_t = cap;
    }
    if (!(t.name = ft_strdup(name))) return -1;
    w->t[w->n_t++] = t;
    return 0;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return x + (a - x % a) % a; }

int gguf_writer_write(gguf_writer *w, const char *path) {
    buf h = {0};
    put(&h, "GGUF", 4);
    put_u32(&h, 3);
    put_u64(&h, w->n_t);
    put_u64(&h, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_str(&h, w->kv[i].key, strlen(w->kv[i].key));
        put(&h, w->kv[i].bytes, w->kv[i].n);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        put_str(&h, t->name, strlen(t->name));
        put_u32(&h, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(&h, t->ne[d]);
        put_u32(&h, t->type);
        put_u64(&h, off);
        off = align_up(off + t->nbytes, w->alignment);
    }
    static const uint8_t zeros[256];
    uint64_t pad = align_up(h.n, w->alignment) - h.n;
    while (pad) { size_t k = pad < sizeof zeros ? pad : sizeof zeros; put(&h, zeros, k); pad -= k; }
    if (h.failed) { free(h.p); return -1; }
    ft_writer *out = ft_writer_open(path);
    if (!out) { free(h.p); return -1; }
    int rc = ft_writer_write(out, h.p, h.n);
    free(h.p);
    for (size_t i = 0; rc == 0 && i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        rc = ft_writer_write(out, t->data, t->nbytes);
        // pad between tensors only: the last one ends the file
        for (pad = align_up(t->nbytes, w->alignment) - t->nbytes; rc == 0 && pad && i + 1 < w->n_t;) {
            size_t k = pad < sizeof zeros ? pad : sizeof zeros;
            rc = ft_writer_write(out, zeros, k);
            pad -= k;
        }
    }
    if (rc) { ft_writer_abort(out); return -1; }
    return ft_writer_commit(out);
}
