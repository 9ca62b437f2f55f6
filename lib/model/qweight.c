// qweight.c — a model's linears held as NF4 (QLoRA's frozen base): convert an in-memory
// model, and account for the bytes (the codec is nf4.c); the bytes of compact GGUF weights too.
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "model/qweight.h"
#include "format/qtensor.h"
#include "format/gguf.h"
#include "format/quant.h"

int ft_model_quantize_nf4(ft_model *m) {
    if (m->qstore) return ft_err("model is already quantized");
    int L = m->cfg.n_layers;
    ft_qweight *qs = ft_calloc((size_t)L * FT_LIN_COUNT, sizeof *qs);
    if (!qs) return -1;
    // quantize everything first, then switch the linears over: a failure leaves m as it was
    for (int i = 0; i < L * FT_LIN_COUNT; i++) {
        ft_linear *lin = ft_model_layer_linear(m, i / FT_LIN_COUNT, i % FT_LIN_COUNT, NULL);
        if (lin->w && ft_qweight_init(&qs[i], lin->w, lin->out, lin->in) < 0) {
            for (int k = 0; k < i; k++) ft_qweight_free(&qs[k]);
            free(qs);
            char mod[80];
            ft_arch_linear_name(m->cfg.arch_row, i / FT_LIN_COUNT, i % FT_LIN_COUNT, mod, sizeof mod);
            return ft_err_ctx("%s.weight", mod);
        }
    }
    for (int i = 0; i < L * FT_LIN_COUNT; i++) {
        ft_linear *lin = ft_model_layer_linear(m, i / FT_LIN_COUNT, i % FT_LIN_COUNT, NULL);
        if (!qs[i].mem) continue;
        lin->qw = &qs[i];
        lin->w = NULL;
    }
    m->qstore = qs;
    return 0;
}

size_t ft_model_qweight_bytes(const ft_model *m, size_t *n_params) {
    size_t bytes = 0, np = 0;
    if (m && m->qstore)
        for (int i = 0; i < m->cfg.n_layers * FT_LIN_COUNT; i++) {
            bytes += ft_qweight_nbytes(&m->qstore[i]);
            np += m->qstore[i].mem ? m->qstore[i].n : 0;
        }
    if (n_params) *n_params = np;
    return bytes;
}

size_t ft_model_qtensor_bytes(const ft_model *m, size_t *n_params) {
    size_t bytes = 0, np = 0;
    if (m && m->qtstore)
        for (int i = 0; i <= m->cfg.n_layers * FT_LIN_COUNT; i++) {
            bytes += ft_qtensor_nbytes(&m->qtstore[i]);
            np += m->qtstore[i].data ? (size_t)m->qtstore[i].rows * m->qtstore[i].cols : 0;
        }
    if (n_params) *n_params = np;
    return bytes;
}

// w (rows, cols) f32 as a qtensor of type t.
static int compact_one(ft_qtensor *q, const float *w, int rows, int cols, uint32_t t) {
    if (t == GGML_F32) return ft_qtensor_init_f32(q, w, rows, cols);
    size_t n = (size_t)rows * cols, nb = ggml_type_nbytes(t, n);
    if ((t != GGML_BF16 && t != GGML_Q8_0) || !nb || !ggml_type_nbytes(t, (uint64_t)cols))
        return ft_err("cannot hold a %d x %d weight as type %u", rows, cols, t);
    uint8_t *b = ft_malloc(nb);
    if (!b) return -1;
    if (t == GGML_BF16)
        for (size_t i = 0; i < n; i++) { uint16_t h = ft_f32_to_bf16(w[i]); memcpy(b + 2 * i, &h, 2); }
    else ft_quantize_q8_0(w, b, n);
    int rc = ft_qtensor_init(q, t, rows, cols, b);
    free(b);
    return rc;
}

int ft_model_compact(ft_model *m, uint32_t type) {
    if (m->qtstore || m->qstore) return ft_err("model weights are already compact or quantized");
    int L = m->cfg.n_layers, n = L * FT_LIN_COUNT;
    ft_qtensor *qs = ft_calloc((size_t)n + 1, sizeof *qs);
    if (!qs) return -1;
    for (int i = 0; i <= n; i++) {
        ft_linear *lin = i < n ? ft_model_layer_linear(m, i / FT_LIN_COUNT, i % FT_LIN_COUNT, NULL) : NULL;
        if (lin && !lin->w) continue;
        if (lin ? compact_one(&qs[i], lin->w, lin->out, lin->in, type) < 0
                : compact_one(&qs[i], m->lm_head, m->cfg.vocab_size, m->cfg.hidden, type) < 0) {
            for (int k = 0; k < i; k++) ft_qtensor_free(&qs[k]);
            free(qs);
            return -1;
        }
    }
    for (int i = 0; i < n; i++) {
        ft_linear *lin = ft_model_layer_linear(m, i / FT_LIN_COUNT, i % FT_LIN_COUNT, NULL);
        if (qs[i].data) lin->qt = &qs[i];
    }
    m->lm_head_qt = &qs[n];
    m->qtstore = qs;
    return 0;
}
