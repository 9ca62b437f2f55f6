// train_method.c — what ft-train trains (see train_method.h): the generic part around the
// PEFT kind table (lib/peft/peft_kind.h), so the training loop (train.c) only sees a flat
// parameter buffer and never a method by name.
#include "train/train_method.h"
#include "core/log.h"
#include "core/err.h"
#include "model/qweight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ft_trainable_open(ft_trainable *tr, const ft_train_opts *o) {
    memset(tr, 0, sizeof *tr);
    const ft_peft_kind *k = ft_peft_kind_by_method(o->method);
    if (!k) return -1;
    tr->kind = k;
    tr->name = k->method;
    if (ft_peft_kind_check_opts(k, o) || (k->check && k->check(o))) return -1;
    if (!(tr->m = k->load_base(o->model))) return -1;
    size_t qn = 0;
    ft_model_qweight_bytes(tr->m, &qn);
    tr->n_base = tr->m->n_params + qn;
    int rc = k->open(tr, o);
    char warn[320];
    if (!rc && ft_config_ctx_warning(&tr->m->cfg, o->seq_len, tr->n_virtual, "--seq-len", warn, sizeof warn))
        ft_log_info(0, "%s", warn);   // shown even with -q
    return rc;
}

int ft_trainable_optim(const ft_trainable *tr, ft_optim *opt, ft_adamw_cfg ac) {
    if (ft_optim_init(opt, tr->m->ops, tr->n, ac)) return -1;
    return tr->kind->decay_table ? tr->kind->decay_table(tr, opt) : 0;
}

void ft_trainable_describe(const ft_trainable *tr, const ft_train_opts *o, char *buf, size_t cap) {
    double frac = tr->n_base ? 100.0 * (double)tr->n / (double)tr->n_base : 0;
    char what[160] = "";
    tr->kind->describe(tr, o, what, sizeof what);
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

void ft_trainable_prepare(ft_trainable *tr, const ft_train_opts *o, long step, int micro) {
    if (tr->kind->prepare) tr->kind->prepare(tr, o, step, micro);
}

int ft_trainable_enable(ft_trainable *tr, int on) { return tr->kind->enable(tr, on); }

int ft_trainable_save(const ft_trainable *tr, const char *dir, const char *base_model) {
    return tr->kind->save(tr, dir, base_model);
}

void ft_trainable_close(ft_trainable *tr) {
    if (tr->kind) tr->kind->close(tr);
    ft_model_free(tr->m);
    memset(tr, 0, sizeof *tr);
}
