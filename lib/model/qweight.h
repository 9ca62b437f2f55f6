// qweight.h — a model's linears held as NF4 with double quantization (QLoRA's frozen base):
// a linear with lin->qw set has lin->w == NULL and the op table's qmatmul reads the codes.
// The codec and its layout: nf4.h.
#ifndef FT_QWEIGHT_H
#define FT_QWEIGHT_H

#include <stddef.h>
#include "model/model.h"
#include "format/nf4.h"

// Load a model (any format ft_model_load reads) with every linear of every layer stored as
// NF4-DQ; embeddings, norms, biases and lm_head stay f32 in m->params (the tensor table lists
// only those). The f32 copies of the linears never all exist at once (each tensor is
// quantized as it is read). A GGUF base that is already quantized is dequantized tensor by
// tensor and re-quantized to NF4. (Implemented in model_load.c, beside the loaders.)
ft_model *ft_model_load_nf4(const char *path);
// Quantize the linears of an already-loaded model to NF4-DQ in place: lin->qw set, lin->w =
// NULL (the f32 values stay, unused, in m->params; the table still lists them). For tests and
// for callers that have the model in memory already. 0, or -1 with m unchanged.
int ft_model_quantize_nf4(ft_model *m);
// Bytes and parameter count held by the quantized linears of m (0 when none).
size_t ft_model_qweight_bytes(const ft_model *m, size_t *n_params);

#endif
