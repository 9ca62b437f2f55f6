// safetensors.h — safetensors reader (mmap; single files and sharded dirs with
// model.safetensors.index.json) validated like the reference implementation, and a
// streaming writer (8-byte aligned data, __metadata__).
#ifndef FT_SAFETENSORS_H
#define FT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "core/io.h"

enum st_dtype { ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL, ST_U16, ST_U32, ST_U64, ST_F8_E4M3, ST_F8_E5M2, ST_DTYPE_COUNT };

typedef struct {
    char *name;
    int dtype;                 // enum st_dtype
    int n_dims;                // 0..8
    uint64_t shape[8];         // row-major, shape[n_dims-1] fastest
    uint64_t nbytes;
    const uint8_t *data;       // into the map of the file holding it
} st_tensor;

typedef struct {
    size_t n_files;
    ft_map *maps;              // (n_files,)
    char **paths;
    size_t n_tensors;
    st_tensor *tensors;        // sorted by name
    char *metadata_json;       // the "__metadata__" object of the first file, or NULL
} st_set;

// Open a .safetensors file, a model.safetensors.index.json, or a directory holding either.
st_set *st_open(const char *path);
void st_close(st_set *s);
const st_tensor *st_find(const st_set *s, const char *name);
size_t st_dtype_size(int dtype);
const char *st_dtype_name(int dtype);       // "F32", "BF16", ...
// Copy t into dst as f32 after checking that it has exactly n_dims (1 or 2) dimensions of
// shape[] and a float dtype (F32, F16, BF16); non-finite values are refused. Errors name the
// file and the tensor (for adapter files: LoRA/DoRA, bottleneck, prompt/prefix).
int st_tensor_to_f32(const st_tensor *t, float *dst, int n_dims, const uint64_t *shape, const char *file);
int st_dtype_from_name(const char *name);   // -1 if unknown

// Writer: add tensors (data must stay valid until write), then write to PATH atomically.
typedef struct st_writer st_writer;
st_writer *st_writer_new(void);
int st_writer_add(st_writer *w, const char *name, int dtype, int n_dims, const uint64_t *shape, const void *data);
int st_writer_meta(st_writer *w, const char *key, const char *value);   // __metadata__ entry
int st_writer_write(st_writer *w, const char *path);
void st_writer_free(st_writer *w);

#endif
