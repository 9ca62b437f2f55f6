// train_method.c — what ft-train trains (see train_method.h): one switch over the methods,
// so the training loop (train.c) only sees a flat parameter buffer.
#include "train_method.h"
#include "log.h"
#include "err.h"
#include "qweight.h"
#include "tokenizer.h"
#include "train_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const NAMES[] = {"full", "lora", "qlora", "prompt", "prefix", "adapter"};

int ft_method_parse(const char *s, ft_method *kind) {
    for (int i = 0; i < (int)(sizeof NAMES / sizeof *NAMES); i++)
        if (s && !strcmp(s, NAMES[i])) {
            *kind = (ft_method)i;
            return 0;
        }
    return ft_err("--method %s: expected full, lora, qlora, prompt, prefix or adapter", s ? s : "(none)");
}

// --prompt-init TEXT -> token ids with the model's tokenizer, special tokens included (as
// PEFT's tokenizer(init_text)["input_ids"]).
static int prompt_ids(const ft_model *m, const char *text, int32_t **ids, int *n) {
    *ids = NULL;
    *n = 0;
    if (!m->tokenizer_path) return ft_err("--prompt-init needs the model's tokenizer, and %s has none", m->path);
    ft_tokenizer *tok = ft_tokenizer_load(m->tokenizer_path);
    if (!tok) return ft_err_ctx("--prompt-init");
    uint32_t *u = NULL;
    size_t k = 0;
    int rc = ft_tokenizer_encode(tok, text, strlen(text), 1, &u, &k);
    ft_tokenizer_free(tok);
    if (rc) return ft_err_ctx("--prompt-init");
    if (k == 0) {
        free(u);
        return ft_err("--prompt-init: the text gives no tokens");
    }
    *ids = ft_malloc(k * sizeof **ids);
    if (!*ids) { free(u); return -1; }
    for (size_t i = 0; i < k; i++) (*ids)[i] = (int32_t)u[i];
    *n = (int)k;
    free(u);
    return 0;
}

static int open_lora(ft_trainable *tr, const ft_train_opts *o) {
    ft_lora_cfg lc = {.r = (int)o->lora_r, .alpha = (float)o->lora_alpha, .dropout = (float)o->lora_dropout,
                      .rslora = o->rslora, .dora = o->dora};
    if (ft_lora_parse_targets(o->lora_targets, &lc.targets)) return -1;
    if (ft_adapter_new(&tr->ad, tr->m, &lc, (uint64_t)o->seed) || ft_adapter_alloc_grads(&tr->ad)) return -1;
    tr->params = tr->ad.params;
    tr->grads = tr->ad.grads;
    tr->n = tr->ad.n_params;
    return 0;
}

static int open_virtual(ft_trainable *tr, const ft_train_opts *o) {
    ft_virtual_cfg vc = {0};
    vc.kind = tr->kind == FT_M_PROMPT ? FT_VIRT_PROMPT : FT_VIRT_PREFIX;
    vc.n_virtual = (int)o->num_virtual_tokens;
    vc.projection = o->prefix_projection;
    vc.proj_hidden = (int)o->prefix_hidden;
    int32_t *ids = NULL;
    if (o->prompt_init) {
        if (prompt_ids(tr->m, o->prompt_init, &ids, &vc.n_init_ids)) return -1;
        vc.init_ids = ids;
        vc.init_text = o->prompt_init;
    }
    int rc = ft_virtual_new(&tr->virt, tr->m, &vc, (uint64_t)o->seed) || ft_virtual_alloc_grads(tr->virt);
    free(ids);
    if (rc) return -1;
    tr->params = ft_virtual_params(tr->virt, &tr->n);
    tr->grads = ft_virtual_grads(tr->virt);
    tr->n_virtual = ft_model_n_virtual(tr->m);
    return 0;
}

static int open_adapter(ft_trainable *tr, const ft_train_opts *o) {
    ft_bottleneck_cfg bc = {(int)o->adapter_dim, 0, 0};
    if (ft_bottleneck_parse_where(o->adapter_where, &bc.where) || ft_bottleneck_parse_act(o->adapter_act, &bc.act))
        return -1;
    if (ft_bottleneck_new(&tr->bn, tr->m, &bc, (uint64_t)o->seed) || ft_bottleneck_alloc_grads(tr->bn)) return -1;
    tr->params = tr->bn->params;
    tr->grads = tr->bn->grads;
    tr->n = tr->bn->n_params;
    return 0;
}

int ft_trainable_open(ft_trainable *tr, const ft_train_opts *o) {
    memset(tr, 0, sizeof *tr);
    if (ft_method_parse(o->method, &tr->kind)) return -1;
    tr->name = NAMES[tr->kind];
    if (o->dora && tr->kind != FT_M_LORA)
        return ft_err("--dora goes with --method lora (DoRA on a quantized base is not supported)");
    if (o->dora && o->lora_dropout > 0) return ft_err("--lora-dropout is not supported with --dora");
    int virt = tr->kind == FT_M_PROMPT || tr->kind == FT_M_PREFIX;
    if (o->prompt_init && !virt) return ft_err("--prompt-init goes with --method prompt or prefix");
    if (o->prefix_projection && tr->kind != FT_M_PREFIX) return ft_err("--prefix-projection goes with --method prefix");
    tr->m = tr->kind == FT_M_QLORA ? ft_model_load_nf4(o->model) : ft_model_load(o->model);
    if (!tr->m) return -1;
    size_t qn = 0;
    ft_model_qweight_bytes(tr->m, &qn);
    tr->n_base = tr->m->n_params + qn;
    int rc;
    switch (tr->kind) {
    case FT_M_FULL:
        tr->params = tr->m->params;
        tr->n = tr->m->n_params;
        tr->grads = ft_calloc(tr->n, sizeof(float));
        rc = tr->grads ? 0 : -1;
        break;
    case FT_M_LORA:
    case FT_M_QLORA: rc = open_lora(tr, o); break;
    case FT_M_ADAPTER: rc = open_adapter(tr, o); break;
    default: rc = virt ? open_virtual(tr, o) : -1; break;
    }
    char warn[320];
    if (!rc && ft_config_ctx_warning(&tr->m->cfg, o->seq_len, tr->n_virtual, "--seq-len", warn, sizeof warn))
        ft_log_info(0, "%s", warn);   // shown even with -q
    return rc;
}

int ft_trainable_optim(const ft_trainable *tr, ft_optim *opt, ft_adamw_cfg ac) {
    if (ft_optim_init(opt, tr->m->ops, tr->n, ac)) return -1;
    if (tr->kind != FT_M_FULL) return 0;
    // full fine-tuning: no weight decay on norms and biases (HF Trainer); tied lm_head appears once
    const ft_model *m = tr->m;
    ft_param_range *r = ft_calloc((size_t)m->n_tensors, sizeof *r);
    if (!r) return -1;
    size_t nr = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const ft_tensor_info *ti = &m->tensors[i];
        if (m->cfg.tie_embeddings && !strcmp(ti->name, "lm_head.weight")) continue;
        r[nr].offset = ti->offset;
        r[nr].n = ti->numel;
        r[nr].decay = ti->n_dims == 2;
        nr++;
    }
    int rc = ft_optim_set_ranges(opt, r, nr);
    free(r);
    return rc;
}

void ft_trainable_describe(const ft_trainable *tr, const ft_train_opts *o, char *buf, size_t cap) {
    double frac = tr->n_base ? 100.0 * (double)tr->n / (double)tr->n_base : 0;
    char what[160] = "";
    switch (tr->kind) {
    case FT_M_LORA:
    case FT_M_QLORA:
        snprintf(what, sizeof what, "%s r=%ld alpha=%g on %s", o->dora ? "DoRA" : "LoRA", o->lora_r, o->lora_alpha,
                 o->lora_targets);
        break;
    case FT_M_PROMPT:
    case FT_M_PREFIX:
        snprintf(what, sizeof what, "%ld virtual tokens%s", o->num_virtual_tokens,
                 tr->kind == FT_M_PREFIX && o->prefix_projection ? " through the prefix MLP" : "");
        break;
    case FT_M_ADAPTER:
        snprintf(what, sizeof what, "bottleneck d=%ld at %s, %s", o->adapter_dim, o->adapter_where, o->adapter_act);
        break;
    default: snprintf(what, sizeof what, "every weight"); break;
    }
    int k = snprintf(buf, cap, "%s (%s): %zu trainable parameters, %.4f%% of %zu", tr->name, what, tr->n, frac,
                     tr->n_base);
    size_t qn = 0, qb = ft_model_qweight_bytes(tr->m, &qn);
    const char *src = tr->m->path ? strrchr(tr->m->path, '.') : NULL;
    int gguf = src && !strcmp(src, ".gguf");
    if (k < 0 || (size_t)k >= cap) return;
    if (qn)
        snprintf(buf + k, cap - (size_t)k, "; frozen base: %zu linear weights in NF4 (double-quantized), %.1f MiB, "
                 "%.4f bytes/param%s", qn, (double)qb / 1048576.0, (double)qb / (double)qn,
                 gguf ? " (GGUF weights dequantized, then re-quantized)" : "");
    else if (gguf)
        snprintf(buf + k, cap - (size_t)k, "; GGUF base dequantized to f32");
}

int ft_trainable_save(const ft_trainable *tr, const char *dir, const char *base_model) {
    switch (tr->kind) {
    case FT_M_FULL: return ft_train_save_hf(tr->m, dir);
    case FT_M_LORA:
    case FT_M_QLORA: return ft_adapter_save(&tr->ad, dir, base_model);
    case FT_M_ADAPTER: return ft_bottleneck_save(tr->bn, dir, base_model);
    default: return ft_virtual_save(tr->virt, dir, base_model);
    }
}

void ft_trainable_close(ft_trainable *tr) {
    if (tr->kind == FT_M_FULL) free(tr->grads);
    if (tr->kind == FT_M_LORA || tr->kind == FT_M_QLORA) ft_adapter_free(&tr->ad);
    ft_virtual_destroy(tr->virt);
    ft_bottleneck_destroy(tr->bn);
    ft_model_free(tr->m);
    memset(tr, 0, sizeof *tr);
}
