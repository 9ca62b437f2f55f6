// test_cuda_model.c — whole-model check of the CUDA op table: the small Llama of mini_llama.c
// (2 layers, GQA, packed documents, loss mask, tied LM head) run through the CPU ops on host
// memory and through the CUDA ops on device memory from the same seeded weights; compares the
// loss and every trainable gradient, for full training and for LoRA, then three AdamW steps
// (losses must keep agreeing). Exit 0 / 1, or 77 with "skip: ..." when no device is visible.
#include "mini_llama.h"
#include "cuda/ft_cuda.h"
#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int n_failed;

static void cmp_grads(const char *what, mini_model *a, mini_model *b, double tol) {
    size_t n = mini_grad_count(a);
    float *ga = malloc(n * sizeof *ga), *gb = malloc(n * sizeof *gb);
    if (!ga || !gb || n != mini_grad_count(b) || mini_grads(a, ga) < 0 || mini_grads(b, gb) < 0) {
        printf("FAIL %s: cannot read gradients (%s)\n", what, ft_errmsg());
        n_failed++;
        free(ga); free(gb);
        return;
    }
    double maxd = 0, maxa = 0;
    int nonfinite = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(ga[i]) || !isfinite(gb[i])) { nonfinite++; continue; }
        double d = fabs((double)ga[i] - gb[i]);
        if (d > maxd) maxd = d;
        if (fabs(ga[i]) > maxa) maxa = fabs(ga[i]);
    }
    double rel = maxd / (maxa > 0 ? maxa : 1);
    int ok = !nonfinite && rel <= tol && maxa > 0;
    if (!ok) n_failed++;
    printf("%-4s %-34s %zu values  max|diff| %.3e  rel %.3e  tol %.0e%s\n", ok ? "ok" : "FAIL", what, n, maxd, rel, tol,
           nonfinite ? "  (non-finite)" : "");
    free(ga); free(gb);
}

static void cmp_loss(const char *what, double a, double b, double tol) {
    double rel = fabs(a - b) / fabs(a);
    int ok = isfinite(b) && rel <= tol;
    if (!ok) n_failed++;
    printf("%-4s %-34s cpu %.9f cuda %.9f  rel %.3e  tol %.0e\n", ok ? "ok" : "FAIL", what, a, b, rel, tol);
}

static void run(const char *name, mini_cfg cfg) {
    const ft_ops *cpu = ft_ops_cpu(), *gpu = ft_ops_cuda();
    int N = cfg.B * cfg.T;
    int32_t *ids = malloc(N * sizeof *ids), *tg = malloc(N * sizeof *tg), *doc = malloc(N * sizeof *doc);
    uint8_t *mask = malloc(N);
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)((s >> 33) % cfg.V);
        tg[i] = (int32_t)((s >> 17) % cfg.V);
        mask[i] = (s >> 60) != 0;                     // ~1 in 16 positions not a target
        doc[i] = (i % cfg.T) / 11 + (i / cfg.T) * 100;  // documents of 11 tokens
    }
    mini_model *a = mini_create(&cfg, cpu, &mini_mem_host, 7), *b = mini_create(&cfg, gpu, &mini_mem_cuda, 7);
    if (!a || !b) {
        printf("FAIL %s: cannot build the model (%s)\n", name, ft_errmsg());
        n_failed++;
    } else {
        char what[96];
        for (int step = 1; step <= 3; step++) {
            double la = mini_step(a, ids, tg, mask, doc), lb = mini_step(b, ids, tg, mask, doc);
            snprintf(what, sizeof what, "%s loss, step %d", name, step);
            cmp_loss(what, la, lb, 2e-5);
            snprintf(what, sizeof what, "%s gradients, step %d", name, step);
            cmp_grads(what, a, b, 2e-4);
            mini_adamw(a, 1e-3f, step);
            mini_adamw(b, 1e-3f, step);
        }
        if (ft_cuda_sync() < 0) { printf("FAIL %s: %s\n", name, ft_errmsg()); n_failed++; }
    }
    mini_free(a); mini_free(b);
    free(ids); free(tg); free(doc); free(mask);
}

int main(void) {
    if (!ft_ops_cuda()) {
        printf("skip: no CUDA device (%s)\n", ft_errmsg());
        return 77;
    }
    printf("device: %s\n", ft_cuda_device_name());
    mini_cfg full = {.V = 97, .C = 64, .F = 96, .L = 2, .Hq = 4, .Hkv = 2, .D = 16, .B = 2, .T = 33};
    run("full", full);
    mini_cfg lora = full;
    lora.lora_r = 4;
    lora.lora_scale = 2.0f;
    run("lora", lora);
    // SmolLM2-135M's shapes (9 query / 3 kv heads of 64, C=576, F=1536, V=49152), 2 layers
    mini_cfg smol = {.V = 49152, .C = 576, .F = 1536, .L = 2, .Hq = 9, .Hkv = 3, .D = 64, .B = 1, .T = 200,
                     .lora_r = 8, .lora_scale = 2.0f};
    run("smollm2-shaped lora", smol);
    printf("%s\n", n_failed ? "whole-model check FAILED" : "whole-model check passed");
    return n_failed ? 1 : 0;
}
