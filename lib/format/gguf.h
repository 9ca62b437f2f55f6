// gguf.h — GGUF v2/v3 reader (mmap, every count/length/offset checked against the bytes
// that remain before anything is allocated) and writer. Tensor data stays in the map;
// quant.h dequantizes it. Keys and tensors are looked up by name.
#ifndef FT_GGUF_H
#define FT_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/io.h"

enum gguf_type {
    GGUF_T_UINT8 = 0, GGUF_T_INT8 = 1, GGUF_T_UINT16 = 2, GGUF_T_INT16 = 3, GGUF_T_UINT32 = 4,
    GGUF_T_INT32 = 5, GGUF_T_FLOAT32 = 6, GGUF_T_BOOL = 7, GGUF_T_STRING = 8, GGUF_T_ARRAY = 9,
    GGUF_T_UINT64 = 10, GGUF_T_INT64 = 11, GGUF_T_FLOAT64 = 12, GGUF_T_COUNT
};

// ggml tensor types (subset ft understands; others are rejected by name/number).
enum ggml_type {
    GGML_F32 = 0, GGML_F16 = 1, GGML_Q4_0 = 2, GGML_Q4_1 = 3, GGML_Q5_0 = 6, GGML_Q5_1 = 7,
    GGML_Q8_0 = 8, GGML_Q8_1 = 9, GGML_Q2_K = 10, GGML_Q3_K = 11, GGML_Q4_K = 12, GGML_Q5_K = 13,
    GGML_Q6_K = 14, GGML_Q8_K = 15, GGML_BF16 = 30, GGML_TYPE_COUNT = 40
};

// A metadata value. Strings point into the file map (not NUL-terminated: use len).
// Arrays keep a pointer to their first element's bytes; use the gguf_arr_* accessors.
typedef struct gguf_value {
    uint32_t type;                 // enum gguf_type
    union {
        uint64_t u;                // UINT8..UINT64, BOOL
        int64_t i;                 // INT8..INT64
        double f;                  // FLOAT32, FLOAT64
        struct { const char *p; uint64_t len; } str;
        struct {
            uint32_t type; uint64_t n; const uint8_t *data; uint64_t nbytes;
            const uint64_t *index;   // STRING arrays read from a file: offset of element i from data
        } arr;
    } v;
} gguf_value;

typedef struct {
    const char *key; uint64_t key_len;   // into the map, not NUL-terminated
    gguf_value val;
} gguf_kv;

typedef struct gguf_tensor {
    char *name;                    // NUL-terminated copy
    uint32_t type;                 // enum ggml_type
    uint32_t n_dims;               // 1..4
    uint64_t ne[4];                // ggml order: ne[0] is the fastest-moving (row length)
    uint64_t offset;               // relative to the data section
    uint64_t nbytes;
    const uint8_t *data;           // into the map
} gguf_tensor;

typedef struct gguf_file {
    ft_map map;
    char *path;
    uint32_t version;
    uint64_t alignment;
    uint64_t n_kv, n_tensors;
    gguf_kv *kv;                   // (n_kv,)
    gguf_tensor *tensors;          // (n_tensors,)
    uint64_t data_offset;          // start of the tensor data section in the file
    uint64_t *tensor_order;        // (n_tensors,) indices sorted by name, for gguf_find_tensor
} gguf_file;

// Open and validate. NULL + message "PATH: what is wrong" on any malformed input.
gguf_file *gguf_open(const char *path);
void gguf_close(gguf_file *g);

// Lookups. find returns NULL when absent.
const gguf_value *gguf_find(const gguf_file *g, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name);
// Typed getters: 0 ok; -1 when missing or of an incompatible type (message names key and file).
// Integer getters accept any integer type whose value fits; float getters accept F32/F64.
int gguf_get_u64(const gguf_file *g, const char *key, uint64_t *out);
int gguf_get_i64(const gguf_file *g, const char *key, int64_t *out);
int gguf_get_f64(const gguf_file *g, const char *key, double *out);
int gguf_get_bool(const gguf_file *g, const char *key, bool *out);
// String as a malloc'd NUL-terminated copy (caller frees).
int gguf_get_str(const gguf_file *g, const char *key, char **out);
// Array of the given element type: *n elements; -1 if missing or another element type.
int gguf_get_arr(const gguf_file *g, const char *key, uint32_t elem_type, uint64_t *n, const gguf_value **val);
// Array element access (bounds-checked by the caller against arr.n).
const char *gguf_arr_str(const gguf_value *arr, uint64_t i, uint64_t *len);   // STRING arrays: O(1) after open
double gguf_arr_f64(const gguf_value *arr, uint64_t i);    // FLOAT32/FLOAT64 arrays
int64_t gguf_arr_i64(const gguf_value *arr, uint64_t i);   // integer arrays

// Size in bytes of a tensor of type t with n elements (n must be a multiple of the
// block size); 0 for unknown types.
uint64_t ggml_type_nbytes(uint32_t t, uint64_t n);
uint32_t ggml_type_block(uint32_t t);     // elements per block (1 for F32/F16/BF16)
const char *ggml_type_name(uint32_t t);   // "Q4_K", or NULL for unknown
const char *gguf_type_name(uint32_t t);   // "uint32", "string", ...

// ---- writer ------------------------------------------------------------------------------
typedef struct gguf_writer gguf_writer;
// Metadata is kept in insertion order; setting a key again replaces its value.
gguf_writer *gguf_writer_new(void);
int gguf_w_u32(gguf_writer *w, const char *key, uint32_t v);
int gguf_w_i32(gguf_writer *w, const char *key, int32_t v);
int gguf_w_u64(gguf_writer *w, const char *key, uint64_t v);
int gguf_w_f32(gguf_writer *w, const char *key, float v);
int gguf_w_bool(gguf_writer *w, const char *key, bool v);
int gguf_w_str(gguf_writer *w, const char *key, const char *s);
// Copy a value (any type, including arrays) as read from another file.
int gguf_w_value(gguf_writer *w, const char *key, const gguf_value *v);
int gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *s, uint64_t n);
int gguf_w_arr_f32(gguf_writer *w, const char *key, const float *v, uint64_t n);
int gguf_w_arr_i32(gguf_writer *w, const char *key, const int32_t *v, uint64_t n);
// Tensor: ne in ggml order; data copied lazily at write time (must stay valid until then).
int gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims, const uint64_t *ne, const void *data);
// Write version 3, alignment 32 (or general.alignment if set), temp + rename.
int gguf_writer_write(gguf_writer *w, const char *path);
void gguf_writer_free(gguf_writer *w);

#endif
