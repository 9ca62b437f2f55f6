// model_save.h — export an in-memory ft_model: an HF dir (config.json, safetensors in
// f32/f16/bf16, sharded with model.safetensors.index.json beyond a size, "dtype"/"torch_dtype"
// saying so; tokenizer files copied from an HF source or written from a GGUF source's metadata,
// generation_config.json with the EOS ids) or a GGUF file (metadata/tokenizer carried over from a GGUF source, Q/K rows
// permuted back to llama.cpp's layout, f32/f16/bf16/q8_0). Both are written into a
// temporary name and renamed, so a failure leaves nothing behind.
#ifndef FT_MODEL_SAVE_H
#define FT_MODEL_SAVE_H

#include <stdint.h>
#include "model/model.h"

// dtype: ST_F32, ST_F16 or ST_BF16 (safetensors.h). shard_bytes: max bytes per shard
// (0 = never shard). The directory dir must not exist yet, or be empty.
int ft_model_save_hf(const ft_model *m, const char *dir, int dtype, uint64_t shard_bytes);
// The full fine-tuning output: the same files (F32, one safetensors file) written into dir
// (created when absent; it holds the run's other files), each file atomically.
int ft_model_save_hf_into(const ft_model *m, const char *dir);

// type: GGML_F32, GGML_F16, GGML_BF16 or GGML_Q8_0 (gguf.h); 1-D tensors stay F32 and rows
// not divisible by 32 fall back to F16 for Q8_0. src_gguf: the GGUF the model was loaded
// from (its metadata, tokenizer and chat template are copied), or NULL (then only the model
// metadata is written and the file has no tokenizer: an error unless allow_no_tokenizer).
int ft_model_save_gguf(const ft_model *m, const char *path, uint32_t type, const char *src_gguf,
                       int allow_no_tokenizer);

// Copy the tokenizer and generation files (tokenizer.json, tokenizer_config.json, ...) of the
// HF dir m was loaded from into dir; nothing for a GGUF source (its tokenizer is metadata).
int ft_model_copy_tokenizer_files(const ft_model *m, const char *dir);

// HF tensor name -> llama.cpp GGUF tensor name ("?" when there is none), in the names of the
// first row of lib/model/arch.h (the Llama family's, which every row shares today); with a model at
// hand use ft_arch_gguf_name(m->cfg.arch_row, ...).
void ft_model_gguf_name(const char *hf, char *out, size_t n);
// llama.cpp's Q/K row permutation, in place on w(rows, cols): HF -> GGUF when to_gguf,
// else GGUF -> HF (as the loader undoes it).
int ft_model_permute_rows(float *w, int n_head, int rows, int cols, int to_gguf);

#endif
