// bench_decode.c — for tests/bench/decode/run.sh: decode speed of a model the way llama.cpp's
// tools measure it, so the two can be put side by side on the same file and threads:
//   tg:      one sequence, N tokens decoded one at a time from an empty cache (llama-bench tg N)
//   batched: S sequences of P prompt tokens prefilled, then T steps of S rows each
//            (llama-batched-bench -npp P -ntg T -npl S): S*T / decode time, and all tokens /
//            total time
// Token ids are fixed (no sampling, no EOS stop), as in those tools. Prints one JSON line.
//   bench_decode MODEL native|f32 TG_N S P T
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "model/model.h"
#include "model/qweight.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: bench_decode MODEL native|f32 TG_N S P T\n"); return 2; }
    int native = !strcmp(argv[2], "native"), tg = atoi(argv[3]), S = atoi(argv[4]), P = atoi(argv[5]), T = atoi(argv[6]);
    ft_model *m = native ? ft_model_load_native(argv[1]) : ft_model_load(argv[1]);
    if (!m) { fprintf(stderr, "bench_decode: %s\n", ft_errmsg()); return 1; }
    int V = m->cfg.vocab_size;
    float *logits = malloc(sizeof(float) * (size_t)(S > 1 ? S : 1) * V);
    double tg_tps = 0, b_tg = 0, b_all = 0;
    if (tg > 0) {   // one stream
        ft_kvcache kv;
        if (ft_kvcache_init(&kv, m, tg + 1, 64) < 0) { fprintf(stderr, "bench_decode: %s\n", ft_errmsg()); return 1; }
        int32_t t0 = 1;
        ft_model_decode(m, &kv, &t0, 1, logits);   // warm up
        ft_kvcache_reset(&kv);
        double a = now();
        for (int i = 0; i < tg; i++) {
            int32_t t = (int32_t)(1 + (i * 7919) % (V - 1));
            if (ft_model_decode(m, &kv, &t, 1, logits) < 0) { fprintf(stderr, "bench_decode: %s\n", ft_errmsg()); return 1; }
        }
        tg_tps = tg / (now() - a);
        ft_kvcache_free(&kv);
    }
    if (S > 0 && T > 0) {   // S sequences at once
        ft_kvbatch kb;
        if (ft_kvbatch_init(&kb, m, S, P + T + 1, P > S ? P : S) < 0) { fprintf(stderr, "bench_decode: %s\n", ft_errmsg()); return 1; }
        int32_t *tok = malloc(sizeof(int32_t) * (size_t)(P > S ? P : S)), *sl = malloc(sizeof(int32_t) * (size_t)(P > S ? P : S));
        int *rows = malloc(sizeof(int) * (size_t)S);
        double a = now();
        for (int s = 0; s < S; s++) {
            for (int i = 0; i < P; i++) { tok[i] = (int32_t)(1 + (s * 131 + i * 17) % (V - 1)); sl[i] = s; }
            int last = P - 1;
            if (ft_model_decode_batch(m, &kb, tok, sl, P, logits, &last, 1) < 0) { fprintf(stderr, "bench_decode: %s\n", ft_errmsg()); return 1; }
        }
        double b = now();
        for (int t = 0; t < T; t++) {
            for (int s = 0; s < S; s++) { tok[s] = (int32_t)(1 + (s * 31 + t * 7) % (V - 1)); sl[s] = s; rows[s] = s; }
            if (ft_model_decode_batch(m, &kb, tok, sl, S, logits, rows, S) < 0) { fprintf(stderr, "bench_decode: %s\n", ft_errmsg()); return 1; }
        }
        double c = now();
        b_tg = (double)S * T / (c - b);
        b_all = (double)S * (P + T) / (c - a);
        ft_kvbatch_free(&kb);
        free(tok); free(sl); free(rows);
    }
    printf("{\"weights\": \"%s\", \"tg\": %d, \"tg_tps\": %.2f, \"S\": %d, \"P\": %d, \"T\": %d, \"batch_tg_tps\": %.2f, "
           "\"batch_total_tps\": %.2f}\n", argv[2], tg, tg_tps, S, P, T, b_tg, b_all);
    free(logits);
    ft_model_free(m);
    return 0;
}
