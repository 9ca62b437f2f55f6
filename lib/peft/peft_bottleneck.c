// peft_bottleneck.c — the "adapter" row of the PEFT kind table (peft_kind.h): bottleneck
// adapters h' = h + up(f(down(h))) after o_proj and/or down_proj (lib/model/bottleneck.h), in
// ft's own peft_type BOTTLENECK dir. One set per model; they add layers, so ft-merge
// refuses them.
#include "peft/peft_kind.h"
#include "optim/train_opts.h"
#include "model/bottleneck.h"
#include "core/err.h"

#include <stdio.h>

static int bn_open(ft_trainable *tr, const ft_train_opts *o) {
    ft_bottleneck_cfg bc = {(int)o->adapter_dim, 0, 0};
    if (ft_bottleneck_parse_where(o->adapter_where, &bc.where) || ft_bottleneck_parse_act(o->adapter_act, &bc.act))
        return -1;
    ft_bottleneck_set *s = NULL;
    int rc = ft_bottleneck_new(&s, tr->m, &bc, (uint64_t)o->seed);
    tr->state = s;
    if (rc || ft_bottleneck_alloc_grads(s)) return -1;
    tr->params = s->params;
    tr->grads = s->grads;
    tr->n = s->n_params;
    return 0;
}

static void bn_describe(const ft_trainable *tr, const ft_train_opts *o, char *buf, size_t cap) {
    snprintf(buf, cap, "bottleneck d=%ld at %s, %s", o->adapter_dim, o->adapter_where, o->adapter_act);
}

static int bn_enable(ft_trainable *tr, int on) {
    if (on) ft_bottleneck_attach(tr->state);
    else ft_bottleneck_detach(tr->state);
    return 0;
}

static int bn_save(const ft_trainable *tr, const char *dir, const char *base_model) {
    return ft_bottleneck_save(tr->state, dir, base_model);
}

static void bn_close(ft_trainable *tr) {
    ft_bottleneck_destroy(tr->state);
    tr->state = NULL;
}

static int bn_apply(ft_model *m, const char *dir, void **held) {
    ft_bottleneck_set *s = NULL;
    int rc = ft_bottleneck_apply(m, dir, &s);
    *held = s;
    return rc;
}

static void bn_release(void *held) { ft_bottleneck_destroy(held); }

static int bn_merge_check(const char *dir, const struct json_t *c, const ft_peft_merge_opts *mo, int to_gguf) {
    return ft_err("%s: bottleneck adapters add layers (down-projection, nonlinearity, up-projection) that "
                  "cannot be folded into W; evaluate with ft-eval --adapter %s", dir, dir);
}

const ft_peft_kind ft_peft_bottleneck = {
    .method = "adapter",
    .peft_type = "BOTTLENECK",
    .output = "adapter",
    .load_base = ft_model_load,
    .open = bn_open,
    .describe = bn_describe,
    .enable = bn_enable,
    .save = bn_save,
    .close = bn_close,
    .apply = bn_apply,
    .release = bn_release,
    .merge_check = bn_merge_check,
};
