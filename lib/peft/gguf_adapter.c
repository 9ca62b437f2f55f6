// gguf_adapter.c — a loaded PEFT LoRA adapter written as llama.cpp's LoRA GGUF adapter (see
// gguf_adapter.h): general.type "adapter", adapter.type "lora", adapter.lora.alpha, and per
// hooked linear BLK.lora_a (in, r) and BLK.lora_b (r, out) in f32, named as the base's GGUF
// tensors, with llama's Q/K rows permuted the way the GGUF base's are.
#include "peft/gguf_adapter.h"
#include "model/arch.h"
#include "core/err.h"
#include "format/gguf.h"
#include "model/model_save.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ft_adapter_save_gguf(ft_model *m, const ft_adapter *a, const char *out) {
    gguf_writer *w = gguf_writer_new();
    if (!w) return -1;
    int rc = -1, n = a->L * FT_LORA_N_TARGETS;
    float **bufs = ft_calloc((size_t)n, sizeof *bufs);
    if (!bufs) goto done;
    for (int i = 0; i < n; i++)
        if (a->hooks[i].bias) {
            ft_err("%s: the adapter has lora_bias, which a llama.cpp LoRA GGUF cannot hold", out);
            goto done;
        }
    float alpha = a->cfg.alpha;
    if (a->cfg.rslora) alpha = a->cfg.alpha * sqrtf((float)a->cfg.r);   // llama.cpp scales by alpha/r
    if (gguf_w_str(w, "general.type", "adapter") || gguf_w_str(w, "general.architecture", m->cfg.arch) ||
        gguf_w_str(w, "adapter.type", "lora") || gguf_w_f32(w, "adapter.lora.alpha", alpha))
        goto done;
    for (int l = 0; l < a->L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            const ft_lora *h = &a->hooks[l * FT_LORA_N_TARGETS + j];
            if (!h->r) continue;
            ft_linear *lin = ft_model_layer_linear(m, l, j, NULL);
            char mod[160], hf[176], gn[160], name[192];
            ft_lora_module_name(l, j, mod, sizeof mod);   // "base_model.model." + the HF module name
            snprintf(hf, sizeof hf, "%s.weight", mod + strlen("base_model.model."));
            if (ft_arch_gguf_name(m->cfg.arch_row, hf, gn, sizeof gn) < 0) snprintf(gn, sizeof gn, "?");
            uint64_t ne_a[2] = {(uint64_t)lin->in, (uint64_t)h->r}, ne_b[2] = {(uint64_t)h->r, (uint64_t)lin->out};
            snprintf(name, sizeof name, "%s.lora_a", gn);
            if (gguf_w_tensor(w, name, GGML_F32, 2, ne_a, h->A)) goto done;
            const float *B = h->B;
            int nh = ft_arch_gguf_permute_heads(&m->cfg, hf);
            // llama.cpp scales every tensor pair by the one adapter.lora.alpha / its rank: a module
            // whose own scale (alpha_pattern, rank_pattern) differs has the ratio folded into B
            double want = h->scale, got = (double)alpha / h->r, ratio = want / got;
            int rescale = fabs(ratio - 1.0) > 1e-6;
            if (nh || rescale) {
                float *pb = ft_malloc((size_t)lin->out * h->r * sizeof(float));
                if (!pb) goto done;
                memcpy(pb, h->B, (size_t)lin->out * h->r * sizeof(float));
                bufs[l * FT_LORA_N_TARGETS + j] = pb;
                if (rescale)
                    for (size_t k = 0; k < (size_t)lin->out * h->r; k++) pb[k] = (float)(pb[k] * ratio);
                if (nh && ft_model_permute_rows(pb, nh, lin->out, h->r, 1)) goto done;
                B = pb;
            }
            snprintf(name, sizeof name, "%s.lora_b", gn);
            if (gguf_w_tensor(w, name, GGML_F32, 2, ne_b, B)) goto done;
        }
    rc = gguf_writer_write(w, out);
done:
    if (bufs)
        for (int i = 0; i < n; i++) free(bufs[i]);
    free(bufs);
    gguf_writer_free(w);
    return rc;
}
