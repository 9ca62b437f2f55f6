// bench_train_cuda.c — training throughput of the CUDA op table: full and LoRA training steps
// (forward, backward, AdamW) of a Llama-shaped model with random weights (mini_llama.c, the
// same code the whole-model check runs), timed on the GPU. Prints tokens/s, achieved TFLOP/s,
// MFU against 989 TFLOP/s (dense bf16 peak of H100/H200 SXM, the yardstick) and the
// share of this device's f32 GEMM rate measured in the same run (the peer: this backend is f32).
//   bench_train_cuda [--layers L] [--seq T] [--batch B] [--steps S] [--small]
// Default shape: Llama-3.2-1B (V=128256, C=2048, F=8192, L=16, 32/8 heads of 64), seq 2048.
#include "../../cuda/mini_llama.h"
#include "cuda/ft_cuda.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// f32 GEMM rate of ops->matmul at 4096^3 (TFLOP/s)
static double gemm_rate(const ft_ops *o) {
    int n = 4096;
    float *a = ft_cuda_malloc((size_t)n * n * 4), *b = ft_cuda_malloc((size_t)n * n * 4), *c = ft_cuda_malloc((size_t)n * n * 4);
    if (!a || !b || !c) return 0;
    ft_cuda_memset(a, 0, (size_t)n * n * 4);
    ft_cuda_memset(b, 0, (size_t)n * n * 4);
    o->matmul(c, a, b, NULL, n, n, n);
    ft_cuda_sync();
    double t0 = now();
    for (int i = 0; i < 5; i++) o->matmul(c, a, b, NULL, n, n, n);
    ft_cuda_sync();
    double dt = now() - t0;
    ft_cuda_free(a); ft_cuda_free(b); ft_cuda_free(c);
    return 5 * 2.0 * n * n * (double)n / dt / 1e12;
}

// bf16-operand GEMM rate of ft_cuda_matmul_bf16 at 4096^3 (TFLOP/s): what the tensor cores give
static double gemm_rate_bf16(void) {
    int n = 4096;
    uint16_t *a = ft_cuda_malloc((size_t)n * n * 2), *b = ft_cuda_malloc((size_t)n * n * 2);
    float *c = ft_cuda_malloc((size_t)n * n * 4);
    double r = 0;
    if (a && b && c && ft_cuda_memset(a, 0, (size_t)n * n * 2) == 0 && ft_cuda_memset(b, 0, (size_t)n * n * 2) == 0 &&
        ft_cuda_matmul_bf16(c, a, b, NULL, n, n, n) == 0 && ft_cuda_sync() == 0) {
        double t0 = now();
        for (int i = 0; i < 10; i++) ft_cuda_matmul_bf16(c, a, b, NULL, n, n, n);
        ft_cuda_sync();
        r = 10 * 2.0 * n * n * (double)n / (now() - t0) / 1e12;
    }
    ft_cuda_free(a); ft_cuda_free(b); ft_cuda_free(c);
    return r;
}

int main(int argc, char **argv) {
    mini_cfg c = {.V = 128256, .C = 2048, .F = 8192, .L = 16, .Hq = 32, .Hkv = 8, .D = 64, .B = 1, .T = 2048};
    int steps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small")) { c.V = 8000; c.C = 512; c.F = 1536; c.L = 4; c.Hq = 8; c.Hkv = 4; c.D = 64; c.T = 512; }
        else if (i + 1 < argc && !strcmp(argv[i], "--layers")) c.L = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--seq")) c.T = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--batch")) c.B = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--steps")) steps = atoi(argv[++i]);
        else { fprintf(stderr, "usage: %s [--layers L] [--seq T] [--batch B] [--steps S] [--small]\n", argv[0]); return 2; }
    }
    const ft_ops *o = ft_ops_cuda();
    if (!o) { fprintf(stderr, "skip: no CUDA device (%s)\n", ft_errmsg()); return 77; }
    double peak = 989.0, g32 = gemm_rate(o), g16 = gemm_rate_bf16();
    int N = c.B * c.T;
    double nmm = mini_matmul_params(&c), att = 6.0 * c.B * c.L * c.Hq * c.D * (double)c.T * c.T;
    printf("device: %s\n", ft_cuda_device_name());
    printf("model: V=%d C=%d F=%d L=%d heads %d/%d D=%d (%.2fB params in matmuls), batch %d x seq %d, f32\n", c.V,
           c.C, c.F, c.L, c.Hq, c.Hkv, c.D, nmm / 1e9, c.B, c.T);
    printf("measured GEMM 4096^3: f32 (ops->matmul) %.1f TFLOP/s, bf16 operands (ft_cuda_matmul_bf16) %.1f TFLOP/s;"
           " MFU against %.0f TFLOP/s (bf16 dense)\n", g32, g16, peak);
    printf("%-6s %10s %9s %10s %7s %11s\n", "method", "tokens/s", "s/step", "TFLOP/s", "MFU", "% f32 GEMM");
    int32_t *ids = malloc(N * 4ul), *tg = malloc(N * 4ul), *doc = malloc(N * 4ul);
    uint8_t *mask = malloc(N);
    for (int i = 0; i < N; i++) {
        ids[i] = (int32_t)((i * 2654435761u) % c.V);
        tg[i] = (int32_t)((i * 40503u + 7) % c.V);
        mask[i] = 1;
        doc[i] = (i % c.T) / 512;  // packed documents of 512 tokens
    }
    int rc = 0;
    for (int lora = 1; lora >= 0; lora--) {
        mini_cfg k = c;
        k.lora_r = lora ? 16 : 0;
        k.lora_scale = 2.0f;
        mini_model *m = mini_create(&k, o, &mini_mem_cuda, 1);
        if (!m) { fprintf(stderr, "%s: %s\n", lora ? "lora" : "full", ft_errmsg()); rc = 1; continue; }
        double flops;
        if (lora) {  // frozen base: forward 2N + dx 2N; adapters 6r(I+O) per token per linear
            double QD = (double)c.Hq * c.D, KD = (double)c.Hkv * c.D, io = c.L * (2 * (c.C + QD) + 2 * (c.C + KD) +
                        3 * (c.C + (double)c.F));
            flops = (4 * nmm + 6.0 * k.lora_r * io) * N + att;
        } else {
            flops = 6 * nmm * N + att;
        }
        double t0 = 0, loss = 0;
        for (int s = 0; s <= steps; s++) {  // step 0 warms up (scratch buffers, cuBLAS plans)
            if (s == 1) { ft_cuda_sync(); t0 = now(); }
            loss = mini_step(m, ids, tg, mask, doc);
            mini_adamw(m, 1e-4f, s + 1);
        }
        if (ft_cuda_sync() < 0) { fprintf(stderr, "%s\n", ft_errmsg()); rc = 1; }
        double dt = (now() - t0) / steps, tf = flops / dt / 1e12;
        printf("%-6s %10.0f %9.3f %10.1f %6.1f%% %10.1f%%   (loss %.4f)\n", lora ? "lora" : "full", N / dt, dt, tf,
               100 * tf / peak, 100 * tf / g32, loss);
        mini_free(m);
    }
    free(ids); free(tg); free(doc); free(mask);
    return rc;
}
