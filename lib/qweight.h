// qweight.h — frozen quantized linear weights for QLoRA: NF4 (4-bit NormalFloat, block 64)
// with double quantization of the absmax constants (8-bit, block 256), as in the QLoRA paper
// and bitsandbytes. A linear with lin->qw set has lin->w == NULL; the op table's qmatmul /
// qmatmul_backward dequantize tile by tile inside the matmul.
#ifndef FT_QWEIGHT_H
#define FT_QWEIGHT_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"

typedef struct ft_qweight ft_qweight;   // internals: see the implementation

// Load a model (any format ft_model_load reads) with every linear of every layer stored as
// NF4-DQ; embeddings, norms and lm_head stay f32. The f32 copies of the linears never all
// exist at once (each tensor is quantized as it is read). A GGUF base that is already
// quantized is dequantized tensor by tensor and re-quantized to NF4.
ft_model *ft_model_load_nf4(const char *path);
// Bytes and parameter count held by the quantized linears of m (0 when none).
size_t ft_model_qweight_bytes(const ft_model *m, size_t *n_params);

#endif
