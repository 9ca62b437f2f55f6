// testutil.h — small helpers for the cmocka unit tests: temp dirs and files, tiny random models.
#ifndef FT_TESTUTIL_H
#define FT_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/model.h"

// A fresh temporary directory (removed by tu_rmdir); returns a static-lifetime malloc'd path.
char *tu_tmpdir(void);
void tu_rmdir(const char *dir);
// Path join into a malloc'd string.
char *tu_path(const char *dir, const char *name);
// Write bytes to a file; returns 0.
int tu_write_file(const char *path, const void *data, size_t n);
// Directory of ../shared/testdata (FT_TESTDATA or relative to the repo root).
const char *tu_testdata(void);

// A tiny random Llama-family model in memory (for gradient checks and step-0 equalities).
// Zero fields take the defaults in brackets.
typedef struct {
    int vocab, hidden, intermediate, layers, heads, kv_heads;   // [23, 16, 24, 2, 4, 2]
    int tie;                  // tied embeddings
    int bias;                 // qwen2-style q/k/v biases (arch "qwen2")
    int max_pos;              // [64]
    float amp;                // every weight (ft_rng_float - 0.5) * amp  [0.8]
    int raw_norms;            // 1: norm weights stay as drawn; 0: + 1, near 1 like trained models
    const char *arch;         // a row of lib/model/arch.c by name [llama, or qwen2 with bias]
    int head_dim;             // [hidden / heads]
    int window;               // gemma3: sliding window, on layer 0 of every 2 (swa_pattern 2) [0]
    float query_scalar;       // gemma3: query_pre_attn_scalar [head_dim]
} tu_model_spec;
ft_model *tu_tiny_model(const tu_model_spec *spec, uint64_t seed);

#endif
