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

// Load a model for inference with its frozen weights in their compact form (format/qtensor.h):
// from a GGUF, every layer linear keeps the file's blocks when the type is read natively
// (Q4_0, Q4_1, Q8_0, Q4_K, Q6_K, BF16, F16, F32; Q/K rows reordered to HF's layout), other types
// are dequantized once into an F32 qtensor; the LM head gets a compact copy too (the f32
// embedding stays for the token lookup). Not for training (no weight gradients, no merging):
// ft_model_load is. Any other path loads as ft_model_load does. (model_load.c.)
ft_model *ft_model_load_native(const char *path);
// Convert the f32 linears (and LM head) of an in-memory model to compact qtensors of `type`
// (GGML_F32, GGML_BF16, or GGML_Q8_0 when every row is whole blocks of 32): lin->qt set, lin->w
// kept. For tests and benchmarks. 0, or -1 with m unchanged.
int ft_model_compact(ft_model *m, uint32_t type);
// Bytes and parameter count of m's compact weights (0 when none).
size_t ft_model_qtensor_bytes(const ft_model *m, size_t *n_params);

#endif
