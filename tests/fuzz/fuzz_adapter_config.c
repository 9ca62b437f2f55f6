// fuzz_adapter_config.c — libFuzzer target for adapter_config.json as ft-eval --adapter reads
// it (ft_peft_apply: peft_type dispatch, then the LoRA/DoRA, prompt/prefix tuning or
// bottleneck loader's checks of the config against the weights and the model). Input: one
// byte choosing the weights the config sits next to (a LoRA, DoRA, prompt tuning, prefix
// tuning or bottleneck adapter of a tiny model, written once with ft's own savers), then
// the bytes of adapter_config.json. Every outcome must be a clean success or a clean error.
// FT_FUZZ_SEEDS_OUT=DIR: also write the five real configs there as seeds.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/bottleneck.h"
#include "core/err.h"
#include "core/io.h"
#include "peft/lora.h"
#include "model/model.h"
#include "peft/peft.h"
#include "model/virtual.h"

enum { N_KINDS = 5 };
static const char *KINDS[N_KINDS] = {"lora", "dora", "prompt", "prefix", "bottleneck"};
static char dirs[N_KINDS][256];
static ft_model *model;

static ft_model *tiny(void) {
    ft_config c;
    memset(&c, 0, sizeof c);
    strcpy(c.arch, "llama");
    c.vocab_size = 23; c.hidden = 16; c.intermediate = 24; c.n_layers = 2;
    c.n_heads = 4; c.n_kv_heads = 2; c.head_dim = 4;
    c.rms_eps = 1e-5f; c.rope_theta = 10000.0f; c.max_pos = 64; c.bos_id = -1;
    ft_model *m = ft_model_new(&c);
    if (!m) abort();
    for (size_t i = 0; i < m->n_params; i++) m->params[i] = (float)((i * 7919) % 97) / 97.0f - 0.5f;
    return m;
}

static void save_adapters(void) {
    char base[200];
    snprintf(base, sizeof base, "/tmp/ft-fuzz-adapter-%d", (int)getpid());
    for (int k = 0; k < N_KINDS; k++) snprintf(dirs[k], sizeof dirs[k], "%s/%s", base, KINDS[k]);
    for (int k = 0; k < 2; k++) {
        ft_lora_cfg lc = {.r = 2, .alpha = 4.0f, .dropout = 0.0f, .rslora = 0, .targets = 1u | 4u | 64u, .dora = k};
        ft_adapter a;
        if (ft_adapter_new(&a, model, &lc, 1) || ft_adapter_save(&a, dirs[k], "tiny")) abort();
        ft_adapter_free(&a);
    }
    for (int k = 0; k < 2; k++) {
        ft_virtual_cfg vc = {.kind = k ? FT_VIRT_PREFIX : FT_VIRT_PROMPT, .n_virtual = 3};
        ft_virtual *v;
        if (ft_virtual_new(&v, model, &vc, 2) || ft_virtual_save(v, dirs[2 + k], "tiny")) abort();
        ft_virtual_destroy(v);
    }
    ft_bottleneck_cfg bc = {4, FT_BN_ATTN | FT_BN_MLP, FT_ACT_SILU};
    ft_bottleneck_set *s;
    if (ft_bottleneck_new(&s, model, &bc, 3) || ft_bottleneck_save(s, dirs[4], "tiny")) abort();
    ft_bottleneck_destroy(s);
    const char *seeds = getenv("FT_FUZZ_SEEDS_OUT");
    for (int k = 0; seeds && k < N_KINDS; k++) {
        char p[512], *text;
        size_t n;
        snprintf(p, sizeof p, "%s/adapter_config.json", dirs[k]);
        if (ft_read_all(p, &text, &n)) abort();
        snprintf(p, sizeof p, "%s/%s.json", seeds, KINDS[k]);
        FILE *f = fopen(p, "wb");
        if (!f) abort();
        fputc(k, f);
        fwrite(text, 1, n, f);
        fclose(f);
        free(text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!model) { model = tiny(); save_adapters(); }
    if (!size) return 0;
    const char *dir = dirs[data[0] % N_KINDS];
    char path[512];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) abort();
    fclose(f);
    ft_peft *p = NULL;   // reads the peft_type itself and dispatches through the kind table
    if (ft_peft_apply(model, dir, &p) == 0) ft_peft_destroy(p);
    if (model->virt) abort();   // destroyed adapters leave the model as it was
    ft_err_clear();
    return 0;
}
