// peft_virtual.c — the "prompt" and "prefix" rows of the PEFT kind table (peft_kind.h):
// n virtual tokens in front of every row (lib/model/virtual.h): a soft prompt (PEFT PROMPT_TUNING)
// or per-layer key/value prefixes (PREFIX_TUNING, optionally through PEFT's MLP). One such
// adapter per model; they are not weights, so ft-merge refuses them.
#include "peft/peft_kind.h"
#include "optim/train_opts.h"
#include "core/err.h"
#include "tokenize/tokenizer.h"
#include "model/virtual.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

// ---- training ------------------------------------------------------------------------------
static int virtual_open(ft_trainable *tr, const ft_train_opts *o, int kind) {
    ft_virtual_cfg vc = {0};
    vc.kind = kind;
    vc.n_virtual = (int)o->num_virtual_tokens;
    vc.projection = o->prefix_projection;
    vc.proj_hidden = (int)o->prefix_hidden;
    int32_t *ids = NULL;
    if (o->prompt_init) {
        if (prompt_ids(tr->m, o->prompt_init, &ids, &vc.n_init_ids)) return -1;
        vc.init_ids = ids;
        vc.init_text = o->prompt_init;
    }
    ft_virtual *v = NULL;
    int rc = ft_virtual_new(&v, tr->m, &vc, (uint64_t)o->seed);
    tr->state = v;
    rc = rc || ft_virtual_alloc_grads(v);
    free(ids);
    if (rc) return -1;
    tr->params = ft_virtual_params(v, &tr->n);
    tr->grads = ft_virtual_grads(v);
    tr->n_virtual = ft_model_n_virtual(tr->m);
    return 0;
}

static int prompt_open(ft_trainable *tr, const ft_train_opts *o) { return virtual_open(tr, o, FT_VIRT_PROMPT); }
static int prefix_open(ft_trainable *tr, const ft_train_opts *o) { return virtual_open(tr, o, FT_VIRT_PREFIX); }

static void prompt_describe(const ft_trainable *tr, const ft_train_opts *o, char *buf, size_t cap) {
    snprintf(buf, cap, "%ld virtual tokens", o->num_virtual_tokens);
}

static void prefix_describe(const ft_trainable *tr, const ft_train_opts *o, char *buf, size_t cap) {
    snprintf(buf, cap, "%ld virtual tokens%s", o->num_virtual_tokens, o->prefix_projection ? " through the prefix MLP" : "");
}

// Off: the model runs its rows without the virtual positions (the base model).
static int virtual_enable(ft_trainable *tr, int on) {
    tr->m->virt = on ? (ft_virtual *)tr->state : NULL;
    return 0;
}

static int virtual_save(const ft_trainable *tr, const char *dir, const char *base_model) {
    return ft_virtual_save(tr->state, dir, base_model);
}

static void virtual_close(ft_trainable *tr) {
    ft_virtual_destroy(tr->state);   // detaches it when attached
    tr->state = NULL;
}

// ---- adapter dirs --------------------------------------------------------------------------
static int virtual_apply(ft_model *m, const char *dir, void **held) {
    *held = NULL;
    if (m->virt) return ft_err("%s: the model already has virtual tokens (one prompt/prefix adapter at a time)", dir);
    ft_virtual *v = NULL;
    int rc = ft_virtual_apply(m, dir, &v);
    *held = v;
    return rc;
}

static void virtual_release(void *held) { ft_virtual_destroy(held); }

static int refuse_merge(const char *dir, const char *type) {
    return ft_err("%s: %s adapters are virtual tokens, not weights: they cannot be folded into W; evaluate with "
                  "ft-eval --adapter %s", dir, type, dir);
}

static int prompt_merge_check(const char *dir, const struct json_t *c, const ft_peft_merge_opts *mo, int to_gguf) {
    return refuse_merge(dir, ft_peft_prompt.peft_type);
}

static int prefix_merge_check(const char *dir, const struct json_t *c, const ft_peft_merge_opts *mo, int to_gguf) {
    return refuse_merge(dir, ft_peft_prefix.peft_type);
}

// ---- the rows ------------------------------------------------------------------------------
const ft_peft_kind ft_peft_prompt = {
    .method = "prompt",
    .peft_type = "PROMPT_TUNING",
    .output = "adapter",
    .opts = FT_PEFT_OPT_PROMPT_INIT,
    .load_base = ft_model_load,
    .open = prompt_open,
    .describe = prompt_describe,
    .enable = virtual_enable,
    .save = virtual_save,
    .close = virtual_close,
    .apply = virtual_apply,
    .release = virtual_release,
    .merge_check = prompt_merge_check,
};

const ft_peft_kind ft_peft_prefix = {
    .method = "prefix",
    .peft_type = "PREFIX_TUNING",
    .output = "adapter",
    .opts = FT_PEFT_OPT_PROMPT_INIT | FT_PEFT_OPT_PREFIX_PROJECTION,
    .load_base = ft_model_load,
    .open = prefix_open,
    .describe = prefix_describe,
    .enable = virtual_enable,
    .save = virtual_save,
    .close = virtual_close,
    .apply = virtual_apply,
    .release = virtual_release,
    .merge_check = prefix_merge_check,
};
