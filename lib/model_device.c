// model_device.c — a loaded model moved onto the op table's device (see model.h
// ft_model_to_device): the parameter arena and the rotary frequencies uploaded in one piece,
// every tensor pointer rebased into the device arena, the host copy freed; attached LoRA
// hooks copied (struct and A/B) into one device buffer the model owns. On a table whose
// buffers are host memory (the CPU) nothing is copied.
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"

struct ft_model_dev {
    ft_lora *hooks;           // (n) the linears' hooks, A/B pointing into buf
    int n;
    float *buf;               // device: every hook's A then B; then, when the hooks had
    size_t nf;                // gradients, the same layout again for dA/dB (zeroed); nf floats each
    int grads;
};

static int on_device(const ft_model *m) { return m->ops && !m->ops->host_access; }

// What is not routed through the op table yet: refuse with the reason rather than fault.
static const char *unsupported(ft_model *m) {
    if (m->virt) return "prompt/prefix tuning (virtual tokens)";
    for (int l = 0; l < m->cfg.n_layers; l++) {
        ft_linear *lin;
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++) {
            if (lin->qw) return "NF4-quantized base weights (QLoRA: ft-train --method qlora, ft-eval --quantize nf4)";
            if (lin->post) return "bottleneck adapters";
            if (lin->lora && lin->lora->mag) return "DoRA adapters";
        }
    }
    return NULL;
}

static void lora_release(ft_model *m) {
    if (!m->dev) return;
    m->ops->free(m->dev->buf);
    free(m->dev->hooks);
    free(m->dev);
    m->dev = NULL;
}

// Each linear's LoRA hook -> a device copy: A (r, in) and B (out, r) uploaded into one buffer.
static int lora_to_device(ft_model *m, const ft_ops *ops) {
    size_t n = 0, nf = 0;
    ft_linear *lin;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++)
            if (lin->lora && lin->lora->r > 0 && lin->lora->A && lin->lora->B) {
                n++;
                nf += (size_t)lin->lora->r * (lin->in + lin->out);
            }
    if (!n) return 0;
    int grads = 1;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++)
            if (lin->lora && lin->lora->r > 0 && lin->lora->A && lin->lora->B && !(lin->lora->dA && lin->lora->dB)) grads = 0;
    struct ft_model_dev *dv = ft_calloc(1, sizeof *dv);
    if (!dv || !(dv->hooks = ft_calloc(n, sizeof *dv->hooks)) ||
        !(dv->buf = ops->alloc((grads ? 2 : 1) * nf * sizeof(float))) ||
        (grads && ops->zero(dv->buf + nf, nf * sizeof(float)))) {
        if (dv && dv->buf) ops->free(dv->buf);
        if (dv) free(dv->hooks);
        free(dv);
        return -1;
    }
    float *p = dv->buf;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++) {
            const ft_lora *h = lin->lora;
            if (!(h && h->r > 0 && h->A && h->B)) continue;
            ft_lora *c = &dv->hooks[dv->n++];
            *c = *h;
            size_t na = (size_t)h->r * lin->in, nb = (size_t)lin->out * h->r;
            c->A = p;
            c->B = p + na;
            c->dA = grads ? c->A + nf : NULL;   // gradients on the device when the hooks had them
            c->dB = grads ? c->B + nf : NULL;
            c->dmag = NULL;
            p += na + nb;
            if (ops->upload(c->A, h->A, na * sizeof(float)) || ops->upload(c->B, h->B, nb * sizeof(float))) {
                ops->free(dv->buf);
                free(dv->hooks);
                free(dv);
                return -1;
            }
        }
    dv->nf = nf;
    dv->grads = grads;
    m->dev = dv;
    int k = 0;   // only now (nothing can fail): the linears take the device copies
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++)
            if (lin->lora && lin->lora->r > 0 && lin->lora->A && lin->lora->B) lin->lora = &dv->hooks[k++];
    return 0;
}

int ft_model_to_device(ft_model *m, const ft_ops *ops) {
    if (!ops) return ft_err("no op table");
    if (ops == m->ops) return 0;
    if (on_device(m)) return ft_err("the model is already on device %s", m->ops->name);
    if (ops->host_access) {   // host memory: the buffers are usable as they are
        m->ops = ops;
        return 0;
    }
    // the ops of the forward pass (the KV cache checks attention_cached, training its own)
    struct { const void *fn; const char *name; } need[] = {
        {ops->matmul, "matmul"}, {ops->rmsnorm, "rmsnorm"}, {ops->rope, "rope"}, {ops->attention, "attention"},
        {ops->swiglu, "swiglu"}, {ops->embedding, "embedding"}, {ops->add, "add"},
        {ops->lm_head_xent, "lm_head_xent"}, {ops->lm_head_logits, "lm_head_logits"}};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (!need[i].fn) return ft_err("device %s has no %s op (docs/cuda.md)", ops->name, need[i].name);
    const char *why = unsupported(m);
    if (why) return ft_err("device %s: %s cannot run there yet (use the cpu device)", ops->name, why);
    size_t bytes, fb = (size_t)m->cfg.head_dim / 2 * sizeof(float);
    if (!ft_mul_ok(m->n_params ? m->n_params : 16, sizeof(float), &bytes)) return ft_err("model too large");
    float *d = ops->alloc(bytes), *f = ops->alloc(fb);
    if (!d || !f || ops->upload(d, m->params, bytes) || ops->upload(f, m->inv_freq, fb)) {
        ops->free(d);
        ops->free(f);
        return ft_err_ctx("moving %s to device %s", m->path ? m->path : "the model", ops->name);
    }
    if (lora_to_device(m, ops) < 0) {
        ops->free(d);
        ops->free(f);
        return ft_err_ctx("moving the LoRA adapter to device %s", ops->name);
    }
    float *h = m->params;
#define REBASE(p) ((p) = (p) ? d + ((p) - h) : NULL)
    REBASE(m->embed);
    REBASE(m->norm);
    REBASE(m->lm_head);
    for (int l = 0; l < m->cfg.n_layers; l++) {
        ft_layer *ly = &m->layers[l];
        REBASE(ly->attn_norm);
        REBASE(ly->mlp_norm);
        ft_linear *lin;
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++) {
            REBASE(lin->w);
            REBASE(lin->b);
        }
    }
#undef REBASE
    free(h);
    free(m->inv_freq);
    m->params = d;
    m->inv_freq = f;
    m->ops = ops;
    return 0;
}

void ft_model_release_device(ft_model *m) {
    if (!on_device(m)) return;
    lora_release(m);
    m->ops->free(m->params);
    m->ops->free(m->inv_freq);
    m->params = NULL;
    m->inv_freq = NULL;
}

size_t ft_model_device_lora(const ft_model *m, float **params, float **grads) {
    if (!m->dev) { *params = *grads = NULL; return 0; }
    *params = m->dev->buf;
    *grads = m->dev->grads ? m->dev->buf + m->dev->nf : NULL;
    return m->dev->nf;
}
