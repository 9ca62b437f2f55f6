// train_device.c — what ft-train trains, moved onto the op table's device (see
// train_method.h ft_trainable_to_device): the model goes through ft_model_to_device, the flat
// trainable buffer becomes a device buffer (the model's own parameter arena when the kind
// trains the base weights; else the device copies of the LoRA/DoRA hooks (qlora, dora), of the
// bottleneck set or of the virtual tokens, whose layout must be the kind's buffer's exactly),
// its gradients one device arena zeroed with ops->zero; and one host staging
// buffer, planned here once, through which saving, checkpoints and --resume download and
// upload the parameters (the kind's own host buffer for adapters, so its save writes what
// was trained). On a table whose buffers are host memory (the CPU) nothing moves.
#include "train/train_method.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

// The ops a training step needs beyond the forward's (ft_model_to_device checks those).
static int check_train_ops(const ft_ops *ops, const ft_train_opts *o) {
    struct { const void *fn; const char *name; } need[] = {
        {ops->matmul_backward, "matmul_backward"}, {ops->rmsnorm_backward, "rmsnorm_backward"},
        {ops->rope_backward, "rope_backward"}, {ops->attention_backward, "attention_backward"},
        {ops->swiglu_backward, "swiglu_backward"}, {ops->embedding_backward, "embedding_backward"},
        {ops->adamw, "adamw"}, {ops->add_inplace, "add_inplace"}, {ops->scale_add, "scale_add"},
        {ops->sumsq, "sumsq"}, {ops->scale, "scale"}, {ops->zero, "zero"}, {ops->download, "download"}};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (!need[i].fn) return ft_err("device %s has no %s op, which training needs (docs/cuda.md)", ops->name, need[i].name);
    if (o->lora_dropout > 0 && !ops->dropout)
        return ft_err("--lora-dropout: device %s has no dropout op yet (docs/cuda.md); train without dropout or on "
                      "the cpu device", ops->name);
    return 0;
}

// 1 when tr's flat buffer is exactly the attached LoRA/DoRA hooks' A, B (then mag) in
// layer/linear order with nothing between (the layout of ft_model_device_lora's copy).
static int hooks_layout(const ft_trainable *tr) {
    ft_model *m = tr->m;
    size_t off = 0;
    int any = 0;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        ft_linear *lin;
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++) {
            const ft_lora *h = lin->lora;
            if (!h || h->r <= 0 || !h->A || !h->B) continue;
            size_t na = (size_t)h->r * lin->in, nb = (size_t)lin->out * h->r;
            if (h->A != tr->params + off || h->B != tr->params + off + na) return 0;
            off += na + nb;
            if (h->mag) {
                if (h->mag != tr->params + off) return 0;
                off += (size_t)lin->out;
            }
            any = 1;
        }
    }
    return any && off == tr->n;
}

int ft_trainable_to_device(ft_trainable *tr, ft_trainable_dev *d, const ft_ops *ops, const ft_train_opts *o) {
    memset(d, 0, sizeof *d);
    ft_model *m = tr->m;
    if (!ops || ops->host_access) return ops ? ft_model_to_device(m, ops) : ft_err("no op table");
    if (check_train_ops(ops, o)) return ft_err_ctx("--device %s", ops->name);
    int base = tr->params == m->params;   // the kind trains the base weights themselves (full)
    if (!base && tr->base_grads) return ft_err("--method %s: its gradients cannot be moved to device %s yet", tr->name, ops->name);
    int lora = !base && hooks_layout(tr);   // checked on the host pointers, before the move
    if (ft_model_to_device(m, ops)) return ft_err_ctx("--device %s, --method %s", ops->name, tr->name);
    // from here on release_device undoes what was done (a failure leaves nothing behind)
    d->ops = ops;
    d->base = base;
    d->host_params = base ? NULL : tr->params;   // full: the host weights are gone (freed by the move)
    d->host_grads = tr->grads;
    d->host_base_grads = tr->base_grads;
    float *p = NULL, *g = NULL;
    size_t bytes = (tr->n ? tr->n : 1) * sizeof(float);
    if (base) {
        p = m->params;
        if (!(d->stage = ft_malloc(bytes))) return -1;
        d->own_stage = 1;
        if (!(g = d->own_grads = ops->alloc(bytes))) return ft_err_ctx("gradients on device %s", ops->name);
    } else {
        // the hooks' copy when the buffer is laid out as they are, else the bottleneck set's or
        // the virtual tokens' (their host layout); sizes must agree exactly
        size_t nf = lora ? ft_model_device_lora(m, &p, &g) : ft_model_device_adapter(m, &p, &g);
        if (nf != tr->n || !g)
            return ft_err("--method %s: its trainable parameters (%zu) are not on device %s (%zu there; use "
                          "--device cpu)", tr->name, tr->n, ops->name, nf);
        d->stage = tr->params;   // the kind's host buffer: its save writes from there
    }
    if (ops->zero(g, bytes)) return -1;
    tr->params = p;
    tr->grads = g;
    if (tr->base_grads) tr->base_grads = g;
    return 0;
}

int ft_trainable_download(const ft_trainable *tr, const ft_trainable_dev *d) {
    if (!d->ops) return 0;
    return d->ops->download(d->stage, tr->params, tr->n * sizeof(float));
}

int ft_trainable_upload(ft_trainable *tr, const ft_trainable_dev *d) {
    if (!d->ops) return 0;
    return d->ops->upload(tr->params, d->stage, tr->n * sizeof(float));
}

float *ft_trainable_host_params(const ft_trainable *tr, const ft_trainable_dev *d) {
    return d->ops ? d->stage : tr->params;
}

int ft_trainable_save_staged(const ft_trainable *tr, const ft_trainable_dev *d, const char *dir,
                             const char *base_model) {
    if (!d->ops) return ft_trainable_save(tr, dir, base_model);
    if (ft_trainable_download(tr, d)) return -1;
    // the kind sees itself in host memory: its buffer is the staging; a kind that trains the
    // base weights writes them from a view of the model whose parameters are the staging
    // (its save reads the tensor table and m->params only)
    ft_trainable h = *tr;
    ft_model hm;
    h.params = d->stage;
    h.grads = d->host_grads;
    h.base_grads = d->host_base_grads;
    if (d->base) {
        hm = *tr->m;
        hm.params = d->stage;
        h.m = &hm;
    }
    return ft_trainable_save(&h, dir, base_model);
}

void ft_trainable_release_device(ft_trainable *tr, ft_trainable_dev *d) {
    if (!d->ops) return;
    d->ops->free(d->own_grads);
    if (d->own_stage) free(d->stage);
    tr->params = d->host_params;   // the kind's close frees what its open allocated
    tr->grads = d->host_grads;
    tr->base_grads = d->host_base_grads;
    memset(d, 0, sizeof *d);
}
