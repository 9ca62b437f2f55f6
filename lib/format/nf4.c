// nf4.c — the NF4 codec with double quantization (see nf4.h for the layout and the rules):
// quantize a weight, dequantize rows of it (for the fused qmatmul in kernels/), and account
// for the bytes.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "format/nf4.h"

// bitsandbytes csrc/kernels.cu dDequantizeNF4 (the QLoRA paper's NF4 code, appendix E).
const float ft_nf4_table[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

// The decision thresholds of bitsandbytes' dQuantizeNF4 (midpoints of adjacent table values,
// as the float literals it compares with `x > t`), in increasing order: code = number of
// thresholds strictly below x, which is what its tree returns for every x (NaN: 0).
static const float nf4_mid[15] = {
    -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
    -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
    0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
    0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f};

uint8_t ft_nf4_code(float x) {
    uint8_t c = 0;
    for (int i = 0; i < 15; i++) c += x > nf4_mid[i];
    return c;
}

void ft_qweight_free(ft_qweight *q) {
    if (!q) return;
    free(q->mem);
    memset(q, 0, sizeof *q);
}

size_t ft_qweight_nbytes(const ft_qweight *q) {
    if (!q || !q->mem) return 0;
    return (q->n + 1) / 2 + q->n_blocks + q->n_groups * sizeof(float) + sizeof(float);
}

float ft_qweight_absmax(const ft_qweight *q, size_t b) {
    return (float)q->qabsmax[b] * (q->scale2[b / FT_NF4_DQ_BLOCK] / 127.0f) + q->offset;
}

uint8_t ft_qweight_code(const ft_qweight *q, size_t e) {
    uint8_t byte = q->codes[e >> 1];
    return (e & 1) ? (byte & 15) : (byte >> 4);
}

int ft_qweight_init(ft_qweight *q, const float *w, int rows, int cols) {
    memset(q, 0, sizeof *q);
    if (rows <= 0 || cols <= 0) return ft_err("NF4: bad weight shape [%d, %d]", rows, cols);
    size_t n = (size_t)rows * (size_t)cols;
    size_t nb = (n + FT_NF4_BLOCK - 1) / FT_NF4_BLOCK, ng = (nb + FT_NF4_DQ_BLOCK - 1) / FT_NF4_DQ_BLOCK;
    size_t code_bytes = (n + 1) / 2, off_q = (code_bytes + 15) & ~(size_t)15,
           off_s = (off_q + nb + 15) & ~(size_t)15;
    float *absmax = ft_malloc(nb * sizeof(float));   // first-level constants, f32 (temporary)
    q->mem = ft_calloc(off_s + ng * sizeof(float), 1);
    if (!absmax || !q->mem) { free(absmax); ft_qweight_free(q); return -1; }
    q->rows = rows; q->cols = cols; q->n = n; q->n_blocks = nb; q->n_groups = ng;
    q->codes = (uint8_t *)q->mem;
    q->qabsmax = (int8_t *)((char *)q->mem + off_q);
    q->scale2 = (float *)((char *)q->mem + off_s);
    // first level: absmax per block of 64 (mean in double over the tensor)
    double sum = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t e0 = b * FT_NF4_BLOCK, e1 = e0 + FT_NF4_BLOCK < n ? e0 + FT_NF4_BLOCK : n;
        float a = 0.0f;
        for (size_t e = e0; e < e1; e++) {
            if (!isfinite(w[e])) {
                free(absmax); ft_qweight_free(q);
                return ft_err("NF4: non-finite weight at row %zu, column %zu", e / (size_t)cols, e % (size_t)cols);
            }
            float v = fabsf(w[e]);
            a = v > a ? v : a;
        }
        absmax[b] = a;
        sum += a;
    }
    q->offset = (float)(sum / (double)nb);
    // second level: the centred constants as int8 per group of 256, scale = group max |c|
    for (size_t g = 0; g < ng; g++) {
        size_t b0 = g * FT_NF4_DQ_BLOCK, b1 = b0 + FT_NF4_DQ_BLOCK < nb ? b0 + FT_NF4_DQ_BLOCK : nb;
        double s = 0;
        for (size_t b = b0; b < b1; b++) {
            double c = fabs((double)absmax[b] - q->offset);
            s = c > s ? c : s;
        }
        q->scale2[g] = (float)s;
        double inv = q->scale2[g] > 0 ? 127.0 / q->scale2[g] : 0.0;
        for (size_t b = b0; b < b1; b++) {
            double v = round(((double)absmax[b] - q->offset) * inv);
            q->qabsmax[b] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
        }
    }
    // codes: w * (1 / absmax) as bitsandbytes (the f32 absmax: quantization happens before the
    // constants are double-quantized); an all-zero block gives NaN there, code 0, value -0.
    for (size_t b = 0; b < nb; b++) {
        size_t e0 = b * FT_NF4_BLOCK, e1 = e0 + FT_NF4_BLOCK < n ? e0 + FT_NF4_BLOCK : n;
        float inv = absmax[b] > 0 ? 1.0f / absmax[b] : NAN;
        for (size_t e = e0; e < e1; e++) {
            uint8_t c = ft_nf4_code(w[e] * inv);
            q->codes[e >> 1] |= (e & 1) ? c : (uint8_t)(c << 4);
        }
    }
    free(absmax);
    return 0;
}

void ft_qweight_dequant_rows(const ft_qweight *q, int r0, int r1, float *dst) {
    size_t e0 = (size_t)r0 * q->cols, e1 = (size_t)r1 * q->cols;
    if (e1 <= e0) return;
    size_t b0 = e0 / FT_NF4_BLOCK, b1 = (e1 - 1) / FT_NF4_BLOCK + 1;
    #pragma omp parallel for schedule(static) if (e1 - e0 > 65536)
    for (size_t b = b0; b < b1; b++) {
        size_t s = b * FT_NF4_BLOCK, t = s + FT_NF4_BLOCK;
        if (s < e0) s = e0;
        if (t > e1) t = e1;
        float a = ft_qweight_absmax(q, b);
        float lut[16];
        for (int i = 0; i < 16; i++) lut[i] = ft_nf4_table[i] * a;
        float *o = dst + (s - e0);
        size_t e = s;
        if (e & 1) *o++ = lut[q->codes[e++ >> 1] & 15];   // a band starting on a low nibble
        const uint8_t *c = q->codes + (e >> 1);
        for (; e + 1 < t; e += 2, c++, o += 2) {           // whole bytes: high nibble first
            o[0] = lut[*c >> 4];
            o[1] = lut[*c & 15];
        }
        if (e < t) *o = lut[*c >> 4];                      // a band ending on a high nibble
    }
}

