// quant.h — conversions between storage types and f32: f16/bf16 and the GGUF block
// quantizations (Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K, ...), plus NF4 (QLoRA) later.
#ifndef FT_QUANT_H
#define FT_QUANT_H

#include <stddef.h>
#include <stdint.h>

float ft_f16_to_f32(uint16_t h);
uint16_t ft_f32_to_f16(float f);          // round to nearest even
float ft_bf16_to_f32(uint16_t b);
uint16_t ft_f32_to_bf16(float f);         // round to nearest even (NaN kept NaN)

// Dequantize n elements of ggml type `type` (enum ggml_type in gguf.h) from src into dst.
// n must be a multiple of the type's block size. Returns 0, or -1 for unsupported types.
int ft_dequantize(uint32_t type, const void *src, float *dst, size_t n);
// Quantize f32 to Q8_0 (for GGUF export). n multiple of 32.
int ft_quantize_q8_0(const float *src, void *dst, size_t n);

#endif
