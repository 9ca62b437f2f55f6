// virtual.c — prompt and prefix tuning (see virtual.h): the state (ft_virtual_new and its
// initializations are virtual_init.c's) and the hooks the model's forward, backward and decode
// call for the n virtual positions.
// The hooks touch tensor data only through the op table, so a copy made by
// ft_virtual_to_device runs on a device.
#include "model/virtual.h"
#include "core/err.h"
#include "core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ft_model_n_virtual(const ft_model *m) { return m && m->virt ? m->virt->n : 0; }

int ft_model_real_ctx(const ft_model *m, int cap) {
    int ctx = m->cfg.max_pos > 1 && m->cfg.max_pos < cap ? m->cfg.max_pos : cap;
    return ctx - ft_model_n_virtual(m);
}

// Lay out the state for m (parameters zero). Used by ft_virtual_new and the loader.
int ft_virtual_alloc(ft_virtual **out, ft_model *m, int kind, int n, int projection, int hidden) {
    *out = NULL;
    const ft_config *c = &m->cfg;
    if (kind != FT_VIRT_PROMPT && kind != FT_VIRT_PREFIX) return ft_err("virtual tokens: unknown kind %d", kind);
    if (n < 1 || n > 65536) return ft_err("num_virtual_tokens must be in 1..65536 (got %d)", n);
    if (kind == FT_VIRT_PROMPT) projection = 0;
    ft_virtual *v = ft_calloc(1, sizeof *v);
    if (!v) return -1;
    v->kind = kind;
    v->n = n;
    v->L = c->n_layers;
    v->C = c->hidden;
    v->kvd = c->n_kv_heads * c->head_dim;
    v->projection = projection;
    v->hidden = projection ? (hidden > 0 ? hidden : v->kvd) : 0;
    v->width = kind == FT_VIRT_PROMPT ? (size_t)v->C : (size_t)v->L * 2 * v->kvd;
    size_t np = (size_t)n * v->width;
    if (projection) {
        size_t h = (size_t)v->hidden, kd = (size_t)v->kvd;
        np = (size_t)n * kd + h * kd + h + v->width * h + v->width;
    }
    v->n_params = np;
    v->params = ft_calloc(np, sizeof(float));
    if (!v->params) { ft_virtual_destroy(v); return -1; }
    if (projection) {
        size_t h = (size_t)v->hidden, kd = (size_t)v->kvd;
        v->emb = v->params;
        v->w1 = v->emb + (size_t)n * kd;
        v->b1 = v->w1 + h * kd;
        v->w2 = v->b1 + h;
        v->b2 = v->w2 + v->width * h;
        v->prefix = ft_calloc((size_t)n * v->width, sizeof(float));
        v->hid = ft_calloc((size_t)n * h, sizeof(float));
        v->dhid = ft_calloc((size_t)n * h, sizeof(float));
        if (!v->prefix || !v->hid || !v->dhid) { ft_virtual_destroy(v); return -1; }
    } else if (kind == FT_VIRT_PREFIX) {
        v->prefix = v->params;
    }
    v->model = m;
    m->virt = v;
    *out = v;
    return 0;
}


int ft_virtual_alloc_grads(ft_virtual *v) {
    if (v->grads) return 0;
    v->grads = ft_calloc(v->n_params, sizeof(float));
    if (!v->grads) return -1;
    if (v->kind == FT_VIRT_PREFIX) {
        v->dprefix = v->projection ? ft_calloc((size_t)v->n * v->width, sizeof(float)) : v->grads;
        if (!v->dprefix) {   // all or nothing: a later call must not find grads without dprefix
            free(v->grads);
            v->grads = NULL;
            return -1;
        }
    }
    return 0;
}

float *ft_virtual_params(ft_virtual *v, size_t *n) {
    *n = v ? v->n_params : 0;
    return v ? v->params : NULL;
}

float *ft_virtual_grads(ft_virtual *v) { return v ? v->grads : NULL; }

void ft_virtual_destroy(ft_virtual *v) {
    if (!v) return;
    if (v->model && v->model->virt == v) v->model->virt = NULL;
    void (*fr)(void *) = v->dev ? v->dev->free : free;
    if (v->projection) {
        fr(v->prefix);
        fr(v->dprefix);
    }
    fr(v->hid);
    fr(v->dhid);
    fr(v->params);
    fr(v->grads);
    free(v->init_str);
    free(v);
}

// A device buffer of n floats: uploaded from src, or zeroed (src NULL).
static float *dev_buf(const ft_ops *ops, const float *src, size_t n) {
    size_t bytes = (n ? n : 1) * sizeof(float);
    float *p = ops->alloc(bytes);
    if (p && (src ? ops->upload(p, src, n * sizeof(float)) : ops->zero(p, bytes))) {
        ops->free(p);
        p = NULL;
    }
    return p;
}

int ft_virtual_to_device(const ft_virtual *v, ft_model *m, const ft_ops *ops, ft_virtual **out) {
    *out = NULL;
    ft_virtual *t = ft_calloc(1, sizeof *t);
    if (!t) return -1;
    *t = *v;
    t->params = t->grads = t->prefix = t->dprefix = t->hid = t->dhid = NULL;
    t->emb = t->w1 = t->b1 = t->w2 = t->b2 = NULL;
    t->init_str = NULL;
    t->model = NULL;
    t->dev = ops;
    size_t nh = (size_t)v->n * v->hidden, np = (size_t)v->n * v->width;
    int ok = (t->params = dev_buf(ops, v->params, v->n_params)) != NULL;
    if (ok && v->grads) ok = (t->grads = dev_buf(ops, NULL, v->n_params)) != NULL;
    if (ok && v->projection) {
        ok = (t->prefix = dev_buf(ops, NULL, np)) && (t->hid = dev_buf(ops, NULL, nh)) &&
             (t->dhid = dev_buf(ops, NULL, nh)) && (!v->dprefix || (t->dprefix = dev_buf(ops, NULL, np)));
        if (ok) {
            t->emb = t->params + (v->emb - v->params);
            t->w1 = t->params + (v->w1 - v->params);
            t->b1 = t->params + (v->b1 - v->params);
            t->w2 = t->params + (v->w2 - v->params);
            t->b2 = t->params + (v->b2 - v->params);
        }
    } else if (ok && v->kind == FT_VIRT_PREFIX) {
        t->prefix = t->params;
        t->dprefix = v->dprefix ? t->grads : NULL;
    }
    if (!ok) {
        ft_virtual_destroy(t);
        return -1;
    }
    t->model = m;
    *out = t;
    return 0;
}

// ---- forward ------------------------------------------------------------------------------
void ft_virtual_prepare(ft_virtual *v, const ft_ops *ops) {
    if (!v->projection) return;
    int n = v->n, h = v->hidden, P = (int)v->width;
    ops->matmul(v->hid, v->emb, v->w1, v->b1, n, v->kvd, h);        // (n, h)
    ops->act(v->hid, v->hid, (size_t)n * h, FT_ACT_TANH);
    ops->matmul(v->prefix, v->hid, v->w2, v->b2, n, h, P);          // (n, L*2*kvd)
}

void ft_virtual_forward_input(ft_virtual *v, const ft_ops *ops, float *x, int B, int Te) {
    size_t C = (size_t)v->C;
    ft_virtual_prepare(v, ops);
    for (int b = 0; b < B; b++) {
        float *row = x + (size_t)b * Te * C;   // (n, C) virtual rows of row b
        if (v->kind == FT_VIRT_PROMPT) ops->copy(row, v->params, (size_t)v->n * C * sizeof(float));
        else ops->zero(row, (size_t)v->n * C * sizeof(float));
    }
}

const float *ft_virtual_prefix_kv(const ft_virtual *v, int l, int j, int t) {
    return v->prefix + (size_t)t * v->width + (size_t)(2 * l + j) * v->kvd;
}

void ft_virtual_forward_kv(const ft_virtual *v, const ft_ops *ops, int l, float *k, float *val, int B, int Te) {
    if (v->kind != FT_VIRT_PREFIX) return;
    size_t kvd = (size_t)v->kvd;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < v->n; t++) {
            size_t row = ((size_t)b * Te + t) * kvd;
            ops->copy(k + row, ft_virtual_prefix_kv(v, l, 0, t), kvd * sizeof(float));
            ops->copy(val + row, ft_virtual_prefix_kv(v, l, 1, t), kvd * sizeof(float));
        }
}

// ---- backward -----------------------------------------------------------------------------
void ft_virtual_backward_begin(ft_virtual *v, const ft_ops *ops) {
    if (v->projection && v->dprefix) ops->zero(v->dprefix, (size_t)v->n * v->width * sizeof(float));
}

void ft_virtual_backward_kv(ft_virtual *v, const ft_ops *ops, int l, float *dk, float *dv, int B, int Te) {
    if (v->kind != FT_VIRT_PREFIX) return;
    size_t kvd = (size_t)v->kvd;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < v->n; t++) {
            size_t row = ((size_t)b * Te + t) * kvd;
            if (v->dprefix) {
                float *gk = v->dprefix + (size_t)t * v->width + (size_t)(2 * l) * kvd, *gv = gk + kvd;
                ops->add_inplace(gk, dk + row, kvd);
                ops->add_inplace(gv, dv + row, kvd);
            }
            // the dummy rows' own k/v were replaced: nothing flows into k_proj / v_proj from here
            ops->zero(dk + row, kvd * sizeof(float));
            ops->zero(dv + row, kvd * sizeof(float));
        }
}

void ft_virtual_backward_input(ft_virtual *v, const ft_ops *ops, const float *dx, int B, int Te) {
    if (v->kind != FT_VIRT_PROMPT || !v->grads) return;
    size_t nc = (size_t)v->n * v->C;
    for (int b = 0; b < B; b++) ops->add_inplace(v->grads, dx + (size_t)b * Te * v->C, nc);   // (n, C) rows
}

void ft_virtual_backward_end(ft_virtual *v, const ft_ops *ops) {
    if (!v->projection || !v->grads) return;
    int n = v->n, h = v->hidden, P = (int)v->width, kd = v->kvd;
    float *gemb = v->grads, *gw1 = gemb + (size_t)n * kd, *gb1 = gw1 + (size_t)h * kd, *gw2 = gb1 + h,
          *gb2 = gw2 + (size_t)P * h;
    ops->zero(v->dhid, (size_t)n * h * sizeof(float));
    ops->matmul_backward(v->dhid, gw2, gb2, v->dprefix, v->hid, v->w2, n, h, P);
    ops->tanh_backward(v->dhid, v->hid, (size_t)n * h);   // tanh'
    ops->matmul_backward(gemb, gw1, gb1, v->dhid, v->emb, v->w1, n, kd, h);
}
