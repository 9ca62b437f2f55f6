// safetensors.c — safetensors reader and writer. The reader maps each file and validates
// its header the way the reference implementation does: u64 header length <= 100 MB and
// inside the file, a JSON object (no duplicate keys), known dtypes, shapes whose element
// count (without overflow) times the dtype size equals the byte range, ranges that start
// at 0 and are contiguous, non-overlapping and end exactly at the end of the file.
// Sharded checkpoints are read through model.safetensors.index.json.
// The writer streams the header (padded with spaces to 8 bytes) then every tensor.
#include "format/safetensors.h"
#include "core/err.h"
#include "format/quant.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ST_MAX_HEADER (100u * 1000 * 1000)

static const struct { const char *name; size_t size; } dtypes[ST_DTYPE_COUNT] = {
    [ST_F32] = {"F32", 4}, [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2}, [ST_F64] = {"F64", 8},
    [ST_I64] = {"I64", 8}, [ST_I32] = {"I32", 4}, [ST_I16] = {"I16", 2},  [ST_I8] = {"I8", 1},
    [ST_U8] = {"U8", 1},   [ST_BOOL] = {"BOOL", 1}, [ST_U16] = {"U16", 2}, [ST_U32] = {"U32", 4},
    [ST_U64] = {"U64", 8}, [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
};

size_t st_dtype_size(int d) { return d >= 0 && d < ST_DTYPE_COUNT ? dtypes[d].size : 0; }
const char *st_dtype_name(int d) { return d >= 0 && d < ST_DTYPE_COUNT ? dtypes[d].name : NULL; }
int st_dtype_from_name(const char *name) {
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (!strcmp(dtypes[i].name, name)) return i;
    return -1;
}

void st_close(st_set *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_files; i++) { ft_map_close(&s->maps[i]); free(s->paths[i]); }
    for (size_t i = 0; i < s->n_tensors; i++) free(s->tensors[i].name);
    free(s->maps);
    free(s->paths);
    free(s->tensors);
    free(s->metadata_json);
    free(s);
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}
static int cmp_data(const void *a, const void *b) {
    const st_tensor *x = a, *y = b;
    if (x->data != y->data) return (x->data > y->data) - (x->data < y->data);
    return (x->nbytes > y->nbytes) - (x->nbytes < y->nbytes);   // empty tensors first
}

// Parse one tensor entry of a header. begin/end are returned for the range checks.
static int parse_entry(const char *path, const char *key, json_t *e, st_tensor *t, uint64_t *b, uint64_t *end) {
    if (!json_is_object(e)) return ft_err("%s: tensor '%s': entry is not an object", path, key);
    json_t *dt = json_object_get(e, "dtype"), *sh = json_object_get(e, "shape"), *of = json_object_get(e, "data_offsets");
    if (!json_is_string(dt)) return ft_err("%s: tensor '%s': missing or non-string dtype", path, key);
    if ((t->dtype = st_dtype_from_name(json_string_value(dt))) < 0)
        return ft_err("%s: tensor '%s': unknown dtype '%s'", path, key, json_string_value(dt));
    if (!json_is_array(sh)) return ft_err("%s: tensor '%s': missing shape", path, key);
    if (json_array_size(sh) > 8) return ft_err("%s: tensor '%s': %zu dimensions (at most 8)", path, key, json_array_size(sh));
    t->n_dims = (int)json_array_size(sh);
    uint64_t n = 1;
    for (int d = 0; d < t->n_dims; d++) {
        json_t *v = json_array_get(sh, d);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return ft_err("%s: tensor '%s': shape[%d] is not a non-negative integer", path, key, d);
        t->shape[d] = (uint64_t)json_integer_value(v);
        if (t->shape[d] && n > UINT64_MAX / t->shape[d])
            return ft_err("%s: tensor '%s': shape element count overflows", path, key);
        n *= t->shape[d];
    }
    if (n > UINT64_MAX / dtypes[t->dtype].size) return ft_err("%s: tensor '%s': byte size overflows", path, key);
    t->nbytes = n * dtypes[t->dtype].size;
    if (!json_is_array(of) || json_array_size(of) != 2 || !json_is_integer(json_array_get(of, 0)) ||
        !json_is_integer(json_array_get(of, 1)) || json_integer_value(json_array_get(of, 0)) < 0 ||
        json_integer_value(json_array_get(of, 1)) < json_integer_value(json_array_get(of, 0)))
        return ft_err("%s: tensor '%s': data_offsets must be [begin, end] with 0 <= begin <= end", path, key);
    *b = (uint64_t)json_integer_value(json_array_get(of, 0));
    *end = (uint64_t)json_integer_value(json_array_get(of, 1));
    if (*end - *b != t->nbytes)
        return ft_err("%s: tensor '%s': data_offsets span %llu bytes but its %s shape needs %llu", path, key,
                      (unsigned long long)(*end - *b), dtypes[t->dtype].name, (unsigned long long)t->nbytes);
    return 0;
}

// Parse the map m (file path) and append its tensors to s. *meta receives __metadata__ (or NULL).
static int parse_file(st_set *s, const char *path, const ft_map *m, json_t **meta) {
    if (m->size < 8) return ft_err("%s: too short for a safetensors file (%zu bytes)", path, m->size);
    uint64_t hl;
    memcpy(&hl, m->data, 8);
    if (hl > ST_MAX_HEADER) return ft_err("%s: header length %llu exceeds 100 MB", path, (unsigned long long)hl);
    if (hl > m->size - 8)
        return ft_err("%s: header length %llu runs past the end of the file (%zu bytes)", path, (unsigned long long)hl, m->size);
    const char *h = (const char *)m->data + 8;
    if (hl == 0 || h[0] != '{') return ft_err("%s: header does not start with '{'", path);
    json_error_t je;
    json_t *root = json_loadb(h, hl, JSON_REJECT_DUPLICATES, &je);
    if (!root) return ft_err("%s: header is not valid JSON: %s (at header byte %d)", path, je.text, je.position);
    if (!json_is_object(root)) { json_decref(root); return ft_err("%s: header is not a JSON object", path); }
    const uint8_t *data = m->data + 8 + hl;
    uint64_t data_len = m->size - 8 - hl;
    size_t n = json_object_size(root), first = s->n_tensors;
    st_tensor *nt = ft_realloc(s->tensors, (s->n_tensors + n + 1) * sizeof *nt);
    if (!nt) { json_decref(root); return -1; }
    s->tensors = nt;
    const char *key;
    json_t *e;
    int rc = 0;
    json_object_foreach(root, key, e) {
        if (!strcmp(key, "__metadata__")) {
            const char *mk; json_t *mv;
            if (!json_is_object(e)) { rc = ft_err("%s: __metadata__ is not an object", path); break; }
            json_object_foreach(e, mk, mv) if (!json_is_string(mv)) {
                rc = ft_err("%s: __metadata__ value for '%s' is not a string", path, mk);
                break;
            }
            if (rc) break;
            if (meta && !*meta) *meta = json_incref(e);
            continue;
        }
        st_tensor *t = &s->tensors[s->n_tensors];
        memset(t, 0, sizeof *t);
        uint64_t b = 0, en = 0;
        if ((rc = parse_entry(path, key, e, t, &b, &en))) break;
        if (en > data_len) {
            rc = ft_err("%s: tensor '%s': data [%llu, %llu) lies past the end of the file (%llu data bytes)", path,
                        key, (unsigned long long)b, (unsigned long long)en, (unsigned long long)data_len);
            break;
        }
        if (!(t->name = ft_strdup(key))) { rc = -1; break; }
        t->data = data + b;
        s->n_tensors++;
    }
    json_decref(root);
    if (!rc) {
        // contiguous, non-overlapping, covering [0, data_len): sort by begin (zero-size ties ok)
        st_tensor *ts = s->tensors + first;
        size_t k = s->n_tensors - first;
        qsort(ts, k, sizeof *ts, cmp_data);
        uint64_t at = 0;
        for (size_t i = 0; i < k && !rc; i++) {
            uint64_t b = (uint64_t)(ts[i].data - data);
            if (b != at)
                rc = ft_err("%s: tensor '%s' starts at %llu but the previous data ends at %llu (%s)", path, ts[i].name,
                            (unsigned long long)b, (unsigned long long)at, b < at ? "overlap" : "gap");
            at = b + ts[i].nbytes;
        }
        if (!rc && at != data_len)
            rc = ft_err("%s: tensor data ends at %llu but the file holds %llu data bytes", path,
                        (unsigned long long)at, (unsigned long long)data_len);
    }
    return rc;
}

static int add_file(st_set *s, const char *path, json_t **meta) {
    ft_map *maps = ft_realloc(s->maps, (s->n_files + 1) * sizeof *maps);
    if (!maps) return -1;
    s->maps = maps;
    char **paths = ft_realloc(s->paths, (s->n_files + 1) * sizeof *paths);
    if (!paths) return -1;
    s->paths = paths;
    if (!(s->paths[s->n_files] = ft_strdup(path))) return -1;
    if (ft_map_open(path, &s->maps[s->n_files])) { free(s->paths[s->n_files]); return -1; }
    s->n_files++;
    return parse_file(s, path, &s->maps[s->n_files - 1], meta);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int open_index(st_set *s, const char *path, json_t **meta) {
    char *txt; size_t len;
    if (ft_read_all(path, &txt, &len)) return -1;
    json_error_t je;
    json_t *root = json_loadb(txt, len, JSON_REJECT_DUPLICATES, &je);
    free(txt);
    if (!root) return ft_err("%s:%d: invalid JSON: %s", path, je.line, je.text);
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm)) { json_decref(root); return ft_err("%s: no \"weight_map\" object", path); }
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
    int rc = 0;
    const char *k; json_t *v;
    json_object_foreach(wm, k, v) {
        if (!json_is_string(v)) { rc = ft_err("%s: weight_map['%s'] is not a string", path, k); break; }
        const char *f = json_string_value(v);
        if (strchr(f, '/') || !*f) { rc = ft_err("%s: weight_map['%s']: shard name '%s' is not a plain file name", path, k, f); break; }
        char full[4096];
        if ((size_t)snprintf(full, sizeof full, "%.*s%s", (int)dlen, path, f) >= sizeof full) { rc = ft_err("%s: path too long", path); break; }
        int seen = 0;
        for (size_t i = 0; i < s->n_files && !seen; i++) seen = !strcmp(s->paths[i], full);
        if (!seen && (rc = add_file(s, full, meta))) break;
    }
    if (!rc) {   // every tensor of the map must be in the shard it names
        qsort(s->tensors, s->n_tensors, sizeof *s->tensors, cmp_name);
        json_object_foreach(wm, k, v) if (!st_find(s, k)) {
            rc = ft_err("%s: tensor '%s' is listed in the index but not found in '%s'", path, k, json_string_value(v));
            break;
        }
    }
    json_decref(root);
    return rc;
}

st_set *st_open(const char *path) {
    st_set *s = ft_calloc(1, sizeof *s);
    if (!s) return NULL;
    json_t *meta = NULL;
    struct stat sb;
    int rc;
    if (stat(path, &sb) != 0) {
        rc = ft_err("%s: cannot open: no such file or directory", path);
    } else if (S_ISDIR(sb.st_mode)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", path);
        if (stat(p, &sb) == 0) rc = open_index(s, p, &meta);
        else {
            snprintf(p, sizeof p, "%s/model.safetensors", path);
            if (stat(p, &sb) != 0) snprintf(p, sizeof p, "%s/adapter_model.safetensors", path);
            if (stat(p, &sb) != 0) rc = ft_err("%s: no model.safetensors(.index.json) or adapter_model.safetensors in the directory", path);
            else rc = add_file(s, p, &meta);
        }
    } else if (ends_with(path, ".json")) {
        rc = open_index(s, path, &meta);
    } else {
        rc = add_file(s, path, &meta);
    }
    if (!rc) {
        qsort(s->tensors, s->n_tensors, sizeof *s->tensors, cmp_name);
        for (size_t i = 1; i < s->n_tensors && !rc; i++)
            if (!strcmp(s->tensors[i - 1].name, s->tensors[i].name))
                rc = ft_err("%s: tensor '%s' appears in more than one shard", path, s->tensors[i].name);
    }
    if (!rc && meta && !(s->metadata_json = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS))) rc = ft_err("%s: out of memory", path);
    json_decref(meta);
    if (rc) { st_close(s); return NULL; }
    return s;
}

const st_tensor *st_find(const st_set *s, const char *name) {
    size_t lo = 0, hi = s->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(s->tensors[mid].name, name);
        if (!r) return &s->tensors[mid];
        if (r < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

// ---- writer ------------------------------------------------------------------------------

struct st_writer {
    st_tensor *t;
    size_t n, cap;
    json_t *meta;
};

st_writer *st_writer_new(void) { return ft_calloc(1, sizeof(st_writer)); }

void st_writer_free(st_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) free(w->t[i].name);
    free(w->t);
    json_decref(w->meta);
    free(w);
}

int st_writer_add(st_writer *w, const char *name, int dtype, int n_dims, const uint64_t *shape, const void *data) {
    if (!name || !*name || !strcmp(name, "__metadata__")) return ft_err("safetensors writer: invalid tensor name");
    if (!st_dtype_name(dtype)) return ft_err("safetensors writer: tensor '%s': unknown dtype %d", name, dtype);
    if (n_dims < 0 || n_dims > 8) return ft_err("safetensors writer: tensor '%s': %d dims", name, n_dims);
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->t[i].name, name)) return ft_err("safetensors writer: duplicate tensor '%s'", name);
    st_tensor t = {.dtype = dtype, .n_dims = n_dims, .data = data};
    uint64_t n = 1;
    for (int d = 0; d < n_dims; d++) {
        if (shape[d] && n > UINT64_MAX / shape[d]) return ft_err("safetensors writer: tensor '%s': size overflows", name);
        t.shape[d] = shape[d];
        n *= shape[d];
    }
    t.nbytes = n * dtypes[dtype].size;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        st_tensor *p = ft_realloc(w->t, cap * sizeof *p);
        if (!p) return -1;
        w->t = p;
        w->cap = cap;
    }
    if (!(t.name = ft_strdup(name))) return -1;
    w->t[w->n++] = t;
    return 0;
}

int st_writer_meta(st_writer *w, const char *key, const char *value) {
    if (!w->meta && !(w->meta = json_object())) return ft_err("safetensors writer: out of memory");
    if (json_object_set_new(w->meta, key, json_string(value)))
        return ft_err("safetensors writer: metadata '%s' is not valid UTF-8", key);
    return 0;
}

int st_writer_write(st_writer *w, const char *path) {
    json_t *h = json_object();
    if (!h) return ft_err("%s: out of memory", path);
    int rc = 0;
    if (w->meta) rc |= json_object_set(h, "__metadata__", w->meta);
    uint64_t off = 0;
    for (size_t i = 0; i < w->n && !rc; i++) {
        const st_tensor *t = &w->t[i];
        json_t *e = json_object(), *sh = json_array();
        for (int d = 0; d < t->n_dims; d++) json_array_append_new(sh, json_integer((json_int_t)t->shape[d]));
        json_object_set_new(e, "dtype", json_string(dtypes[t->dtype].name));
        json_object_set_new(e, "shape", sh);
        json_object_set_new(e, "data_offsets", json_pack("[II]", (json_int_t)off, (json_int_t)(off + t->nbytes)));
        off += t->nbytes;
        if (json_object_set_new(h, t->name, e)) rc = ft_err("%s: tensor name '%s' is not valid UTF-8", path, t->name);
    }
    char *txt = rc ? NULL : json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(h);
    if (rc) return -1;
    if (!txt) return ft_err("%s: cannot serialize the header", path);
    size_t hl = strlen(txt), padded = (hl + 7) & ~(size_t)7;
    uint64_t hl64 = padded;
    ft_writer *o = ft_writer_open(path);
    if (!o) { free(txt); return -1; }
    rc = ft_writer_write(o, &hl64, 8);
    if (!rc) rc = ft_writer_write(o, txt, hl);
    if (!rc && padded > hl) rc = ft_writer_write(o, "        ", padded - hl);
    free(txt);
    for (size_t i = 0; i < w->n && !rc; i++)
        if (w->t[i].nbytes) rc = ft_writer_write(o, w->t[i].data, w->t[i].nbytes);
    if (rc) { ft_writer_abort(o); return -1; }
    return ft_writer_commit(o);
}

int st_tensor_to_f32(const st_tensor *t, float *dst, int n_dims, const uint64_t *shape, const char *file) {
    int ok = t->n_dims == n_dims && t->shape[0] == shape[0] && (n_dims == 1 || t->shape[1] == shape[1]);
    if (!ok) {
        char got[96] = "[", want[64];
        for (int i = 0; i < t->n_dims && i < 4; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", i ? ", " : "",
                     (unsigned long long)t->shape[i]);
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s]", t->n_dims > 4 ? ", ..." : "");
        if (n_dims == 1) snprintf(want, sizeof want, "[%llu]", (unsigned long long)shape[0]);
        else snprintf(want, sizeof want, "[%llu, %llu]", (unsigned long long)shape[0], (unsigned long long)shape[1]);
        return ft_err("%s: tensor %s has shape %s, expected %s", file, t->name, got, want);
    }
    size_t n = (size_t)shape[0] * (n_dims == 2 ? (size_t)shape[1] : 1);
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
        return ft_err("%s: tensor %s has dtype %s (expected F32, F16 or BF16)", file, t->name, st_dtype_name(t->dtype));
    if (t->nbytes != n * st_dtype_size(t->dtype)) return ft_err("%s: tensor %s: byte size mismatch", file, t->name);
    if (t->dtype == ST_F32) {
        memcpy(dst, t->data, n * 4);
    } else {
        const uint8_t *p = t->data;
        for (size_t i = 0; i < n; i++) {
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            dst[i] = t->dtype == ST_F16 ? ft_f16_to_f32(h) : ft_bf16_to_f32(h);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(dst[i])) return ft_err("%s: tensor %s holds a non-finite value at element %zu", file, t->name, i);
    return 0;
}
