// qtensor.h — a frozen linear weight kept in its compact GGUF storage for inference: the
// ggml blocks of each row exactly as the file has them (Q4_0, Q4_1, Q8_0, Q4_K, Q6_K) or
// 16-bit floats (BF16, F16), or F32. The op table's qtmatmul (kernels/ops.h) reads the rows
// with fused dequantize-dot kernels (kernels/cpu/cpu_qdot.c); quant.h's ft_dequantize is the
// reference those kernels are tested against. Row r of the (rows = out, cols = in) weight is
// the row_bytes at data + r * row_bytes (a row is whole blocks: cols is a multiple of the
// type's block size).
#ifndef FT_QTENSOR_H
#define FT_QTENSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct ft_qtensor {
    uint32_t type;            // enum ggml_type (format/gguf.h)
    int rows, cols;           // (out, in) of the f32 weight it stands for
    size_t row_bytes;         // bytes of one row's blocks
    uint8_t *data;            // (rows * row_bytes), 64-byte aligned, owned
} ft_qtensor;

// Whether the kernels read type natively (F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K).
int ft_qtensor_native(uint32_t type);
// Copy rows x cols of type `type` from src (GGUF tensor data, ggml order: ne0 = cols) into q.
// -1 with a message for an unsupported type, cols not a multiple of the block, or out of memory.
int ft_qtensor_init(ft_qtensor *q, uint32_t type, int rows, int cols, const void *src);
// An F32 qtensor holding w (rows, cols) (a copy): for a linear whose file type is not native.
int ft_qtensor_init_f32(ft_qtensor *q, const float *w, int rows, int cols);
void ft_qtensor_free(ft_qtensor *q);
// Rows [r0, r1) dequantized into dst ((r1 - r0), cols) with ft_dequantize (the reference).
int ft_qtensor_dequant_rows(const ft_qtensor *q, int r0, int r1, float *dst);
// Reorder whole rows from llama.cpp's Q/K layout to HF's (n_head heads of rows/n_head rows:
// GGUF row h*D + 2i + j -> HF row h*D + j*D/2 + i), as the f32 loader does on floats.
int ft_qtensor_unpermute(ft_qtensor *q, int n_head);
size_t ft_qtensor_nbytes(const ft_qtensor *q);

#endif
