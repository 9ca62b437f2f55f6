// peft_full.c — the "full" row of the PEFT kind table (peft_kind.h): full fine-tuning trains
// every weight of the base itself and writes an HF model dir (lib/model/model_save.h ft_model_save_hf_into); no weight
// decay on norms and biases (HF Trainer). Not an adapter: no peft_type, nothing to load or
// merge, and no separate reference to switch back to.
#include "peft/peft_kind.h"
#include "optim/optim.h"
#include "optim/train_opts.h"
#include "core/err.h"
#include "model/model_save.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int full_open(ft_trainable *tr, const ft_train_opts *o) {
    (void)o;
    tr->params = tr->m->params;
    tr->n = tr->m->n_params;
    tr->grads = ft_calloc(tr->n, sizeof(float));
    tr->base_grads = tr->grads;
    return tr->grads ? 0 : -1;
}

// No weight decay on norms and biases (HF Trainer); a tied lm_head appears once.
static int full_decay_table(const ft_trainable *tr, ft_optim *opt) {
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

static void full_describe(const ft_trainable *tr, const ft_train_opts *o, char *buf, size_t cap) {
    snprintf(buf, cap, "every weight");
}

static int full_enable(ft_trainable *tr, int on) {
    if (on) return 0;
    return ft_err("--method %s trains the base weights themselves: there is no adapter to disable for a reference "
                  "pass (keep a frozen copy of the base instead)", tr->name);
}

static int full_save(const ft_trainable *tr, const char *dir, const char *base_model) {
    return ft_model_save_hf_into(tr->m, dir);
}

static void full_close(ft_trainable *tr) {
    free(tr->grads);   // the parameters are the model's
    tr->grads = tr->base_grads = NULL;
}

const ft_peft_kind ft_peft_full = {
    .method = "full",
    .peft_type = NULL,
    .output = "model",
    .load_base = ft_model_load,
    .open = full_open,
    .decay_table = full_decay_table,
    .describe = full_describe,
    .enable = full_enable,
    .save = full_save,
    .close = full_close,
};
