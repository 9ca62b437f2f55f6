// bench_qdot.c — for tests/bench/decode/run.sh: time of the op table's qtmatmul on one
// SmolLM2-sized weight (O x I) of each native type against the f32 matmul of the same
// dequantized weight, for N = 1 and N = 8 rows, and the GB/s of weight bytes read.
//   bench_qdot [O I [REPS]]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu_internal.h"
#include "format/gguf.h"
#include "format/qtensor.h"
#include "format/quant.h"
#include "ops.h"

static double now(void) {
    struct timespec t;
    clock_gettime(getenv("BENCH_CPUTIME") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int O = argc > 2 ? atoi(argv[1]) : 1536, I = argc > 2 ? atoi(argv[2]) : 576, reps = argc > 3 ? atoi(argv[3]) : 200;
    const uint32_t types[] = {GGML_Q4_0, GGML_Q4_1, GGML_Q8_0, GGML_Q4_K, GGML_Q6_K, GGML_BF16, GGML_F32};
    const ft_ops *ops = ft_ops_cpu();
    float *x = malloc(sizeof(float) * 8 * I), *out = malloc(sizeof(float) * 8 * O), *w = malloc(sizeof(float) * O * I);
    for (int i = 0; i < 8 * I; i++) x[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
    printf("O=%d I=%d, AVX-512 path: %s\n", O, I, ft_cpu_qdot_avx512() ? "yes" : "no");
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        size_t nb = ggml_type_nbytes(types[t], (uint64_t)O * I);
        uint8_t *raw = malloc(nb);
        for (size_t i = 0; i < nb; i++) raw[i] = (uint8_t)(i * 2654435761u >> 13);
        size_t bs = ggml_type_nbytes(types[t], ggml_type_block(types[t]));
        for (size_t b = 0; b < nb / bs && types[t] != GGML_F32 && types[t] != GGML_BF16; b++) {  // sane scales
            uint16_t h = ft_f32_to_f16(0.01f);
            memcpy(raw + b * bs + (types[t] == GGML_Q6_K ? 208 : 0), &h, 2);
            if (types[t] == GGML_Q4_1 || types[t] == GGML_Q4_K) memcpy(raw + b * bs + 2, &h, 2);
        }
        if (types[t] == GGML_F32) for (size_t i = 0; i < nb / 4; i++) ((float *)raw)[i] = 0.01f;
        if (types[t] == GGML_BF16) for (size_t i = 0; i < nb / 2; i++) ((uint16_t *)raw)[i] = 0x3c00;
        ft_qtensor q;
        if (ft_qtensor_init(&q, types[t], O, I, raw) < 0) return 1;
        ft_dequantize(types[t], raw, w, (size_t)O * I);
        for (int N = 1; N <= 8; N += 7) {
            double t0 = now();
            for (int r = 0; r < reps; r++) ops->qtmatmul(out, x, &q, NULL, N);
            double tq = (now() - t0) / reps;
            t0 = now();
            for (int r = 0; r < reps; r++) ops->matmul(out, x, w, NULL, N, I, O);
            double tf = (now() - t0) / reps;
            printf("%-5s N=%d  qtmatmul %8.1f us (%5.1f GB/s of weights)   f32 matmul %8.1f us   speedup %.2fx\n",
                   ggml_type_name(types[t]), N, tq * 1e6, nb / tq / 1e9, tf * 1e6, tf / tq);
        }
        ft_qtensor_free(&q);
        free(raw);
    }
    return 0;
}
