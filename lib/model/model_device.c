// model_device.c — a loaded model moved onto the op table's device (see model.h
// ft_model_to_device): the parameter arena and the rotary frequencies uploaded in one piece,
// every tensor pointer rebased into the device arena, the host copy freed; attached LoRA and
// DoRA hooks copied (struct, A/B, DoRA's magnitude and frozen norms) into one device buffer
// the model owns; NF4 weights (their codes and constants), a bottleneck adapter set and the
// virtual tokens of prompt/prefix tuning as device copies the linears / m->virt then point at
// (the adapters' own stay on the host, unchanged). On a table whose buffers are host memory
// (the CPU) nothing is copied.
#include <stdlib.h>
#include <string.h>

#include "model/bottleneck.h"
#include "core/err.h"
#include "model/model.h"
#include "model/qweight.h"
#include "model/virtual.h"

struct ft_model_dev {
    ft_lora *hooks;           // (n) the linears' hooks, A/B(/mag/norm) pointing into buf
    int n;
    float *buf;               // device: every hook's A, B (and DoRA mag); then, when the hooks
    size_t nf;                // had gradients, the same layout again for dA/dB/dmag (zeroed); nf
    int grads;                // floats each; then the DoRA frozen norms (nn floats)
    size_t nn;
    ft_qweight *q;            // (nq) device copies of the NF4 weights, arrays in qbuf
    int nq;
    void *qbuf;
    ft_bottleneck_set *bn;    // device copy of the attached bottleneck set, or NULL
    ft_virtual *virt;         // device copy of m->virt, or NULL
};

static int on_device(const ft_model *m) { return m->ops && !m->ops->host_access; }

static int has_hook(const ft_linear *lin) { return lin->lora && lin->lora->r > 0 && lin->lora->A && lin->lora->B; }

// The attached bottleneck set (all sites must come from one), *bad = 1 when they do not.
static ft_bottleneck_set *bn_set(ft_model *m, int *bad) {
    ft_bottleneck_set *s = NULL;
    *bad = 0;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        ft_linear *lin;
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++)
            if (lin->post) {
                if (s && lin->post->set != s) *bad = 1;
                s = lin->post->set;
            }
    }
    return s;
}

// The ops the attached methods need beyond the forward's: NULL, or the name of one ops lacks.
static const char *missing_op(ft_model *m, const ft_ops *ops) {
    int dora = 0, drop = 0, q = 0, bn = 0;
    // the architecture's own ops (Gemma 3: GeGLU; a sliding window or query scale: the window attention)
    int ge = m->cfg.arch_row->act == FT_ACT_GELU_TANH;
    int win = m->cfg.sliding_window > 0 || (m->cfg.query_scalar > 0 && m->cfg.query_scalar != (float)m->cfg.head_dim);
    for (int l = 0; l < m->cfg.n_layers; l++) {
        ft_linear *lin;
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++) {
            q |= lin->qw != NULL;
            bn |= lin->post != NULL;
            dora |= has_hook(lin) && lin->lora->mag;
            drop |= has_hook(lin) && lin->lora->drop_p > 0;
        }
    }
    struct { int want; const void *fn; const char *name; } need[] = {
        {q, ops->qmatmul, "qmatmul"}, {q, ops->qmatmul_backward, "qmatmul_backward"},
        {drop, ops->dropout, "dropout"},
        {dora, ops->div, "div"}, {dora, ops->dora_norm, "dora_norm"}, {dora, ops->dora_combine, "dora_combine"},
        {dora, ops->dora_gain_backward, "dora_gain_backward"}, {dora, ops->scale_cols, "scale_cols"},
        {dora, ops->dora_norm_backward_B, "dora_norm_backward_B"},
        {dora, ops->dora_norm_backward_A, "dora_norm_backward_A"},
        {dora, ops->dora_norm_backward_W, "dora_norm_backward_W"},
        {bn, ops->act, "act"}, {bn, ops->act_backward, "act_backward"}, {bn, ops->fill, "fill"},
        {m->virt && m->virt->projection, ops->act, "act"},
        {m->virt && m->virt->projection, ops->tanh_backward, "tanh_backward"},
        {ge, ops->geglu, "geglu"}, {ge, ops->geglu_backward, "geglu_backward"},
        {win, ops->attention_window, "attention_window"},
        {win, ops->attention_window_backward, "attention_window_backward"}};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (need[i].want && !need[i].fn) return need[i].name;
    return NULL;
}

static void dev_release(ft_model *m) {
    struct ft_model_dev *dv = m->dev;
    if (!dv) return;
    ft_bottleneck_destroy(dv->bn);   // detaches its sites
    ft_virtual_destroy(dv->virt);    // detaches (m->virt)
    m->ops->free(dv->buf);
    m->ops->free(dv->qbuf);
    free(dv->hooks);
    free(dv->q);
    free(dv);
    m->dev = NULL;
}

// The NF4 weights -> device copies: every weight's one allocation (codes, int8 constants, group
// scales) uploaded into one device buffer, the copy's three arrays pointing there.
static size_t q_bytes(const ft_qweight *q) {
    return (size_t)((const char *)(q->scale2 + q->n_groups) - (const char *)q->mem);
}
static int qweights_to_device(ft_model *m, const ft_ops *ops, struct ft_model_dev *dv) {
    size_t total = 0;
    int n = 0;
    ft_linear *lin;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++)
            if (lin->qw) {
                n++;
                total += (q_bytes(lin->qw) + 63) / 64 * 64;
            }
    if (!n) return 0;
    if (!(dv->q = ft_calloc((size_t)n, sizeof *dv->q)) || !(dv->qbuf = ops->alloc(total))) return -1;
    char *p = dv->qbuf;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++) {
            const ft_qweight *h = lin->qw;
            if (!h) continue;
            ft_qweight *c = &dv->q[dv->nq++];
            *c = *h;
            const char *base = h->mem;
            c->mem = NULL;   // not an allocation of its own: never passed to ft_qweight_free
            c->codes = (uint8_t *)(p + ((const char *)h->codes - base));
            c->qabsmax = (int8_t *)(p + ((const char *)h->qabsmax - base));
            c->scale2 = (float *)(p + ((const char *)h->scale2 - base));
            if (ops->upload(p, h->mem, q_bytes(h))) return -1;
            p += (q_bytes(h) + 63) / 64 * 64;
        }
    return 0;
}

// Each linear's LoRA hook -> a device copy: A (r, in), B (out, r) and, for DoRA, mag (out)
// uploaded into one buffer; gradients after them when every hook had them; then the frozen
// DoRA norms (out) of the hooks that have them.
static int lora_to_device(ft_model *m, const ft_ops *ops, struct ft_model_dev *dv) {
    size_t n = 0, nf = 0, nn = 0;
    int grads = 1;
    ft_linear *lin;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++)
            if (has_hook(lin)) {
                const ft_lora *h = lin->lora;
                if (h->bias)
                    return ft_err("a LoRA adapter with lora_bias (layer %d) runs on the CPU only: the device copy "
                                  "has no LoRA bias yet (use --device cpu)", l);
                n++;
                nf += (size_t)h->r * (lin->in + lin->out) + (h->mag ? (size_t)lin->out : 0);
                nn += h->norm ? (size_t)lin->out : 0;
                if (!(h->dA && h->dB && (!h->mag || h->dmag))) grads = 0;
            }
    if (!n) return 0;
    size_t total = (grads ? 2 : 1) * nf + nn;
    if (!(dv->hooks = ft_calloc(n, sizeof *dv->hooks)) || !(dv->buf = ops->alloc(total * sizeof(float))) ||
        (grads && ops->zero(dv->buf + nf, nf * sizeof(float))))
        return -1;
    float *p = dv->buf, *pn = dv->buf + (grads ? 2 : 1) * nf;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++) {
            if (!has_hook(lin)) continue;
            const ft_lora *h = lin->lora;
            ft_lora *c = &dv->hooks[dv->n++];
            *c = *h;
            size_t na = (size_t)h->r * lin->in, nb = (size_t)lin->out * h->r, nm = h->mag ? (size_t)lin->out : 0;
            c->A = p;
            c->B = p + na;
            c->mag = nm ? p + na + nb : NULL;
            c->dA = grads ? c->A + nf : NULL;   // gradients on the device when the hooks had them
            c->dB = grads ? c->B + nf : NULL;
            c->dmag = grads && nm ? c->mag + nf : NULL;
            c->norm = h->norm ? pn : NULL;
            p += na + nb + nm;
            if (ops->upload(c->A, h->A, na * sizeof(float)) || ops->upload(c->B, h->B, nb * sizeof(float)) ||
                (nm && ops->upload(c->mag, h->mag, nm * sizeof(float))) ||
                (h->norm && ops->upload(c->norm, h->norm, (size_t)lin->out * sizeof(float))))
                return -1;
            if (h->norm) pn += lin->out;
        }
    dv->nf = nf;
    dv->nn = nn;
    dv->grads = grads;
    return 0;
}

// Point the model at the device copies (only once nothing can fail any more).
static void take_copies(ft_model *m, struct ft_model_dev *dv) {
    int k = 0, q = 0;
    ft_linear *lin;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++) {
            if (has_hook(lin)) lin->lora = &dv->hooks[k++];
            if (lin->qw) lin->qw = &dv->q[q++];
        }
    if (dv->bn) ft_bottleneck_attach(dv->bn);   // the linears' post -> the device sites
    if (dv->virt) m->virt = dv->virt;
    m->dev = dv;
}

// Every attached method's device copies into a new ft_model_dev; NULL + ft_err() on failure.
static struct ft_model_dev *copies_to_device(ft_model *m, const ft_ops *ops) {
    struct ft_model_dev *dv = ft_calloc(1, sizeof *dv);
    if (!dv) return NULL;
    int bad;
    ft_bottleneck_set *bn = bn_set(m, &bad);
    const char *what = "the LoRA/DoRA adapter";
    if (lora_to_device(m, ops, dv) < 0 || (what = "the NF4 weights", qweights_to_device(m, ops, dv) < 0) ||
        (what = "the bottleneck adapter", bn && ft_bottleneck_to_device(bn, m, ops, &dv->bn) < 0) ||
        (what = "the virtual tokens", m->virt && ft_virtual_to_device(m->virt, m, ops, &dv->virt) < 0)) {
        ft_err_ctx("moving %s to device %s", what, ops->name);
        ft_bottleneck_destroy(dv->bn);
        if (dv->virt) dv->virt->model = NULL;   // never attached: nothing to detach
        ft_virtual_destroy(dv->virt);
        ops->free(dv->buf);
        ops->free(dv->qbuf);
        free(dv->hooks);
        free(dv->q);
        free(dv);
        return NULL;
    }
    return dv;
}

int ft_model_to_device(ft_model *m, const ft_ops *ops) {
    if (!ops) return ft_err("no op table");
    if (ops == m->ops) return 0;
    if (on_device(m)) return ft_err("the model is already on device %s", m->ops->name);
    if (m->qtstore && ops != ft_ops_cpu())   // compact GGUF weights: only the CPU kernels read them
        return ft_err("device %s has no qtmatmul op for weights kept in their GGUF blocks (docs/cuda.md; "
                      "load them as f32: --weights f32)", ops->name);
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
    const char *op = missing_op(m, ops);
    if (op) return ft_err("device %s has no %s op, which the attached adapter or NF4 weights need (docs/cuda.md; "
                          "use the cpu device)", ops->name, op);
    int bad;
    bn_set(m, &bad);
    if (bad) return ft_err("device %s: bottleneck adapter sites from more than one set cannot move", ops->name);
    // rotary frequencies: the global ones, then the sliding-window layers' (when the model has them)
    size_t bytes, half = (size_t)m->cfg.head_dim / 2, fb = (m->inv_freq_local ? 2 : 1) * half * sizeof(float);
    if (!ft_mul_ok(m->n_params ? m->n_params : 16, sizeof(float), &bytes)) return ft_err("model too large");
    float *d = ops->alloc(bytes), *f = ops->alloc(fb);
    if (!d || !f || ops->upload(d, m->params, bytes) || ops->upload(f, m->inv_freq, half * sizeof(float)) ||
        (m->inv_freq_local && ops->upload(f + half, m->inv_freq_local, half * sizeof(float)))) {
        ops->free(d);
        ops->free(f);
        return ft_err_ctx("moving %s to device %s", m->path ? m->path : "the model", ops->name);
    }
    struct ft_model_dev *dv = copies_to_device(m, ops);
    if (!dv) {
        ops->free(d);
        ops->free(f);
        return -1;
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
        REBASE(ly->q_norm);
        REBASE(ly->k_norm);
        REBASE(ly->attn_post_norm);
        REBASE(ly->mlp_post_norm);
        ft_linear *lin;
        for (int j = 0; (lin = ft_model_layer_linear(m, l, j, NULL)); j++) {
            REBASE(lin->w);
            REBASE(lin->b);
        }
    }
#undef REBASE
    take_copies(m, dv);
    free(h);
    free(m->inv_freq);
    if (m->inv_freq_local) {
        free(m->inv_freq_local);
        m->inv_freq_local = f + half;   // inside f: freed with it
    }
    m->params = d;
    m->inv_freq = f;
    m->ops = ops;
    m->release_device = ft_model_release_device;   // ft_model_free calls it
    return 0;
}

void ft_model_release_device(ft_model *m) {
    if (!on_device(m)) return;
    dev_release(m);
    m->ops->free(m->params);
    m->ops->free(m->inv_freq);
    m->params = NULL;
    m->inv_freq = NULL;
    m->inv_freq_local = NULL;
}

size_t ft_model_device_lora(const ft_model *m, float **params, float **grads) {
    if (!m->dev || !m->dev->nf) { *params = *grads = NULL; return 0; }
    *params = m->dev->buf;
    *grads = m->dev->grads ? m->dev->buf + m->dev->nf : NULL;
    return m->dev->nf;
}

size_t ft_model_device_adapter(const ft_model *m, float **params, float **grads) {
    *params = *grads = NULL;
    if (!m->dev) return 0;
    if (m->dev->bn) {
        *params = m->dev->bn->params;
        *grads = m->dev->bn->grads;
        return m->dev->bn->n_params;
    }
    if (m->dev->virt) {
        *params = m->dev->virt->params;
        *grads = m->dev->virt->grads;
        return m->dev->virt->n_params;
    }
    return 0;
}
