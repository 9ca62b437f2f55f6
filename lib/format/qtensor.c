// qtensor.c — compact GGUF weights kept as the file stores them (qtensor.h): copy, row
// reordering for llama.cpp's Q/K permutation, and the reference dequantization of rows.
#include "format/qtensor.h"
#include "core/err.h"
#include "format/gguf.h"
#include "format/quant.h"

#include <stdlib.h>
#include <string.h>

int ft_qtensor_native(uint32_t type) {
    switch (type) {
    case GGML_F32: case GGML_F16: case GGML_BF16: case GGML_Q4_0: case GGML_Q4_1: case GGML_Q8_0:
    case GGML_Q4_K: case GGML_Q6_K: return 1;
    default: return 0;
    }
}

int ft_qtensor_init(ft_qtensor *q, uint32_t type, int rows, int cols, const void *src) {
    memset(q, 0, sizeof *q);
    if (!ft_qtensor_native(type))
        return ft_err("type %s is not read natively (F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K)",
                      ggml_type_name(type) ? ggml_type_name(type) : "?");
    if (rows <= 0 || cols <= 0) return ft_err("bad weight shape %d x %d", rows, cols);
    size_t rb = ggml_type_nbytes(type, (uint64_t)cols);
    if (!rb) return ft_err("%d columns are not whole %s blocks of %u", cols, ggml_type_name(type), ggml_type_block(type));
    size_t n;
    if (!ft_mul_ok(rb, (size_t)rows, &n)) return ft_err("weight too large");
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64)) return ft_err("out of memory for a %d x %d %s weight", rows, cols, ggml_type_name(type));
    memcpy(p, src, n);
    *q = (ft_qtensor){type, rows, cols, rb, p};
    return 0;
}

int ft_qtensor_init_f32(ft_qtensor *q, const float *w, int rows, int cols) {
    return ft_qtensor_init(q, GGML_F32, rows, cols, w);
}

void ft_qtensor_free(ft_qtensor *q) {
    if (!q) return;
    free(q->data);
    memset(q, 0, sizeof *q);
}

int ft_qtensor_dequant_rows(const ft_qtensor *q, int r0, int r1, float *dst) {
    for (int r = r0; r < r1; r++)
        if (ft_dequantize(q->type, q->data + (size_t)r * q->row_bytes, dst + (size_t)(r - r0) * q->cols,
                          (size_t)q->cols) < 0)
            return ft_err("cannot dequantize type %u", q->type);
    return 0;
}

int ft_qtensor_unpermute(ft_qtensor *q, int n_head) {
    if (n_head <= 0 || q->rows % n_head || (q->rows / n_head) % 2)
        return ft_err("cannot un-permute %d rows into %d heads", q->rows, n_head);
    int D = q->rows / n_head, half = D / 2;
    size_t rb = q->row_bytes;
    uint8_t *tmp = ft_malloc(rb * (size_t)q->rows);
    if (!tmp) return -1;
    memcpy(tmp, q->data, rb * (size_t)q->rows);
    for (int h = 0; h < n_head; h++)
        for (int j = 0; j < 2; j++)
            for (int i = 0; i < half; i++) {
                size_t hf = (size_t)(h * D + j * half + i), gg = (size_t)(h * D + 2 * i + j);
                memcpy(q->data + hf * rb, tmp + gg * rb, rb);
            }
    free(tmp);
    return 0;
}

size_t ft_qtensor_nbytes(const ft_qtensor *q) { return q && q->data ? q->row_bytes * (size_t)q->rows : 0; }
