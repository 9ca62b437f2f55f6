// fuzz_gguf.c — libFuzzer target for the GGUF reader: open, then touch every value, string
// array element and tensor byte range it reports, and dequantize small tensors.
#include "fuzz_common.h"
#include "format/gguf.h"
#include "format/quant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_file *g = gguf_open(fuzz_file(data, size, ".gguf"));
    if (!g) return 0;
    volatile uint64_t sink = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gguf_value *v = &g->kv[i].val;
        if (v->type == GGUF_T_ARRAY && v->v.arr.type == GGUF_T_STRING)
            for (uint64_t k = 0; k < v->v.arr.n; k++) { uint64_t len; const char *s = gguf_arr_str(v, k, &len); if (len) sink += (uint8_t)s[len - 1]; }
        else if (v->type == GGUF_T_ARRAY && v->v.arr.type != GGUF_T_ARRAY && v->v.arr.n)
            sink += (uint64_t)gguf_arr_i64(v, v->v.arr.n - 1);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        if (t->nbytes) sink += t->data[t->nbytes - 1];
        uint64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        if (n <= 4096) {
            float *y = malloc(n * sizeof *y + 1);
            ft_dequantize(t->type, t->data, y, n);
            free(y);
        }
    }
    (void)sink;
    gguf_close(g);
    return 0;
}
