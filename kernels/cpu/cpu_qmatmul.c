// cpu_qmatmul.c — matmul with a frozen NF4-DQ weight (QLoRA, lib/model/qweight.h), dequantization
// fused tile by tile: a band of weight rows is dequantized into an f32 scratch of at most
// ~1 MiB and multiplied with sgemm, so the f32 matrix never exists whole.
//   forward   out(N, O) = x(N, I) @ deq(w)(O, I)^T + bias   (one sgemm per band of output columns)
//   backward  dx(N, I) += dout(N, O) @ deq(w)(O, I)           (one sgemm per band, accumulating)
#include <stdlib.h>

#include "cpu_internal.h"
#include "core/err.h"
#include "ops.h"
#include "format/nf4.h"

#define QTILE_FLOATS (256 * 1024)

// Rows of w per band: about QTILE_FLOATS floats, at least 16 rows, at most all of them.
static int band_rows(const ft_qweight *w) {
    int r = QTILE_FLOATS / (w->cols > 0 ? w->cols : 1);
    if (r < 16) r = 16;
    return r < w->rows ? r : w->rows;
}

void ft_cpu_qmatmul(float *out, const float *x, const struct ft_qweight *w, const float *bias, int N) {
    int O = w->rows, I = w->cols, R = band_rows(w);
    if (N <= 0) return;
    float *t = malloc((size_t)R * I * sizeof(float));   // (R, I) dequantized band
    if (!t) {
        ft_err("qmatmul: out of memory for a %d x %d dequantization tile", R, I);
        ft_cpu_fill_nan(out, (size_t)N * O);
        return;
    }
    for (int r0 = 0; r0 < O; r0 += R) {
        int nr = O - r0 < R ? O - r0 : R;
        ft_qweight_dequant_rows(w, r0, r0 + nr, t);
        ft_cpu_sgemm(0, 1, N, nr, I, 1.0f, x, I, t, I, 0.0f, out + r0, O);
    }
    free(t);
    if (bias) {
        #pragma omp parallel for schedule(static) if ((double)N * O > 1e5)
        for (int n = 0; n < N; n++) {
            float *o = out + (size_t)n * O;
            for (int j = 0; j < O; j++) o[j] += bias[j];
        }
    }
}

void ft_cpu_qmatmul_backward(float *dx, const float *dout, const struct ft_qweight *w, int N) {
    int O = w->rows, I = w->cols, R = band_rows(w);
    if (!dx || N <= 0) return;
    float *t = malloc((size_t)R * I * sizeof(float));   // (R, I)
    if (!t) {
        ft_err("qmatmul: out of memory for a %d x %d dequantization tile", R, I);
        ft_cpu_fill_nan(dx, (size_t)N * I);
        return;
    }
    for (int r0 = 0; r0 < O; r0 += R) {
        int nr = O - r0 < R ? O - r0 : R;
        ft_qweight_dequant_rows(w, r0, r0 + nr, t);
        ft_cpu_sgemm(0, 0, N, I, nr, 1.0f, dout + r0, O, t, I, 1.0f, dx, I);
    }
    free(t);
}
