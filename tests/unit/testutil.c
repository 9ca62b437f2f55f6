// testutil.c — helpers for the cmocka unit tests (see testutil.h).
#include "testutil.h"
#include "core/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_tmpdir(void) {
    char tmpl[] = "/tmp/ft-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void tu_rmdir(const char *dir) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

char *tu_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int tu_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t k = fwrite(data, 1, n, f);
    fclose(f);
    return k == n ? 0 : -1;
}

const char *tu_testdata(void) {
    const char *e = getenv("FT_TESTDATA");
    return e ? e : "../shared/testdata";
}

ft_model *tu_tiny_model(const tu_model_spec *s, uint64_t seed) {
    ft_config c;
    memset(&c, 0, sizeof c);
    strcpy(c.arch, s->arch ? s->arch : s->bias ? "qwen2" : "llama");
    c.vocab_size = s->vocab ? s->vocab : 23;
    c.hidden = s->hidden ? s->hidden : 16;
    c.intermediate = s->intermediate ? s->intermediate : 24;
    c.n_layers = s->layers ? s->layers : 2;
    c.n_heads = s->heads ? s->heads : 4;
    c.n_kv_heads = s->kv_heads ? s->kv_heads : 2;
    c.head_dim = s->head_dim ? s->head_dim : c.hidden / c.n_heads;
    c.sliding_window = s->window;
    c.swa_pattern = s->window ? 2 : 0;
    c.rope_local_theta = s->window ? 500.0f : 0.0f;   // the local layers' own base (differs from 10000)
    c.query_scalar = s->query_scalar;
    c.rms_eps = 1e-5f;
    c.rope_theta = 10000.0f;
    c.max_pos = s->max_pos ? s->max_pos : 64;
    c.tie_embeddings = s->tie;
    c.attn_bias = s->bias;
    c.bos_id = -1;
    ft_model *m = ft_model_new(&c);
    assert_non_null(m);
    float amp = s->amp ? s->amp : 0.8f;
    ft_rng r;
    ft_rng_seed(&r, seed);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] = (ft_rng_float(&r) - 0.5f) * amp;
    if (!s->raw_norms)
        for (int t = 0; t < m->n_tensors; t++)
            if (strstr(m->tensors[t].name, "norm"))
                for (size_t i = 0; i < m->tensors[t].numel; i++) m->params[m->tensors[t].offset + i] += 1.0f;
    return m;
}
