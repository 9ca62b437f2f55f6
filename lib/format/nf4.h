// nf4.h — the codec of QLoRA's frozen quantized linear weights: NF4 (4-bit NormalFloat, block 64)
// with double quantization of the absmax constants (8-bit, block 256), as in the QLoRA paper
// and bitsandbytes. The op table's qmatmul / qmatmul_backward
// dequantize tile by tile inside the matmul (kernels/ include only this header: it knows no model).
//
// Layout (the weight flattened row-major, (rows = out, cols = in), like bitsandbytes'
// quantize_4bit on a torch tensor):
//   block b = elements [64 b, 64 b + 64) (the last block may be shorter: its absmax is over
//             the elements it has, as bitsandbytes does for a tail);
//   absmax_b = max |w| over the block;
//   code(e)  = the NF4 table index nearest to w_e * (1 / absmax_b), ties to the lower index
//              (bitsandbytes' dQuantizeNF4 decision tree: strict `x > midpoint`);
//   codes    : two per byte, element 2j in the HIGH nibble of byte j, 2j+1 in the low nibble
//              (bitsandbytes kQuantizeBlockwise: qvals[j] = q(vals[2j]) << 4 | q(vals[2j+1]));
//   double quantization: offset = mean of ALL absmax_b of the tensor (bitsandbytes:
//              offset = absmax.mean()); the centred constants c_b = absmax_b - offset, in
//              groups of 256 blocks, are stored as int8 q_b = round(127 c_b / s_g) with
//              s_g = max |c_b| over the group (f32). Dequantized: absmax'_b = q_b * (s_g/127)
//              + offset, so |absmax'_b - absmax_b| <= s_g / 254 (+ f32 rounding).
//              bitsandbytes stores q_b with its dynamic 8-bit map instead; we use plain
//              symmetric absmax int8 (same bytes, simpler, a uniform error bound): see
//              docs/methods.md.
//   w'_e     = NF4[code(e)] * absmax'_b.
// Bytes: ceil(n/2) + n/64 + 4 n/(64*256) + 4 -> ~0.5159 per parameter.
#ifndef FT_NF4_H
#define FT_NF4_H

#include <stddef.h>
#include <stdint.h>

#define FT_NF4_BLOCK 64
#define FT_NF4_DQ_BLOCK 256

typedef struct ft_qweight {
    int rows, cols;           // (out, in) of the f32 weight it replaces
    size_t n;                 // rows * cols
    size_t n_blocks;          // ceil(n / 64)
    size_t n_groups;          // ceil(n_blocks / 256)
    uint8_t *codes;           // (ceil(n/2)) packed NF4 codes, high nibble first
    int8_t *qabsmax;          // (n_blocks) double-quantized absmax - offset
    float *scale2;            // (n_groups) max |absmax - offset| per group of 256 blocks
    float offset;             // mean of all absmax
    void *mem;                // the one allocation behind codes, qabsmax, scale2
} ft_qweight;

// The 16 NF4 values (bitsandbytes csrc/kernels.cu dDequantizeNF4 / QLoRA paper appendix E).
extern const float ft_nf4_table[16];
// Nearest NF4 index of x (x normalized to [-1, 1]); ties to the lower index; NaN -> 0 (what
// bitsandbytes' tree gives, e.g. for an all-zero block).
uint8_t ft_nf4_code(float x);

// Quantize w (rows, cols) row-major into q (zeroed first). -1 with a message for sizes <= 0,
// non-finite weights or out of memory.
int ft_qweight_init(ft_qweight *q, const float *w, int rows, int cols);
void ft_qweight_free(ft_qweight *q);
// Bytes held by q's storage (codes + int8 absmax + f32 group scales + the offset).
size_t ft_qweight_nbytes(const ft_qweight *q);
// Dequantized absmax of block b.
float ft_qweight_absmax(const ft_qweight *q, size_t b);
// NF4 code of element e.
uint8_t ft_qweight_code(const ft_qweight *q, size_t e);
// Dequantize rows [r0, r1) into dst ((r1 - r0), cols) row-major.
void ft_qweight_dequant_rows(const ft_qweight *q, int r0, int r1, float *dst);

#endif
