// bottleneck.c — bottleneck adapters (see bottleneck.h): option parsing, the set of sites in
// one flat parameter buffer, init (down like PyTorch nn.Linear, up zero), attachment to the
// model's linear hooks (ft_linear.post), and the forward/backward of one site:
//   z = h @ Wd^T + bd (N, d)    a = f(z) (N, d)    h' = h + a @ Wu^T + bu (N, C)
//   dWu += dh'^T a   dbu += sum dh'   da = dh' @ Wu   dz = da * f'(z)
//   dWd += dz^T h    dbd += sum dz    dh = dh' + dz @ Wd
// The backward recomputes a = f(z) from the saved z rather than keeping it. Every access of
// tensor data goes through the op table (a set moved by ft_bottleneck_to_device runs on a
// device): its buffers come from the set's allocator, ws->mem (the CPU table for a host set).
#include "model/bottleneck.h"
#include "core/err.h"
#include "core/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BN_CHUNK = 64 };   // rows per step when the shared workspace cannot grow

// Scratch shared by the sites of a set: forward a (R, d), z (R, d) when not saved, u (R, C);
// backward a/dz (N, d), da (N, d), dh (N, C). So (C + 2d) floats per row.
struct ft_bottleneck_ws {
    const ft_ops *mem;        // where the buffers below (and the sites' h, z) are allocated
    int C, d;
    int train;                // forward saves h and z
    float *buf;               // (rows, C + 2d)
    size_t rows;
    float *chunk;             // (BN_CHUNK, C + 2d), allocated with the set
};

// ---- options ------------------------------------------------------------------------------
int ft_bottleneck_parse_where(const char *s, unsigned *mask) {
    *mask = 0;
    const char *p = s;
    while (1) {
        while (*p == ' ') p++;
        size_t n = strcspn(p, ",");
        size_t k = n;
        while (k && p[k - 1] == ' ') k--;
        if (k == 4 && !strncmp(p, "attn", 4)) *mask |= FT_BN_ATTN;
        else if (k == 3 && !strncmp(p, "mlp", 3)) *mask |= FT_BN_MLP;
        else return ft_err("unknown adapter site '%.*s' in '%s' (expected attn, mlp or attn,mlp)", (int)k, p, s);
        if (!p[n]) break;
        p += n + 1;
    }
    return 0;
}

int ft_bottleneck_parse_act(const char *s, int *kind) {
    if (!strcmp(s, "relu")) *kind = FT_ACT_RELU;
    else if (!strcmp(s, "silu") || !strcmp(s, "swish")) *kind = FT_ACT_SILU;
    else if (!strcmp(s, "gelu") || !strcmp(s, "gelu_tanh") || !strcmp(s, "gelu_new") ||
             !strcmp(s, "gelu_pytorch_tanh"))
        *kind = FT_ACT_GELU_TANH;
    else return ft_err("unknown adapter activation '%s' (expected relu, silu or gelu)", s);
    return 0;
}

const char *ft_bottleneck_act_name(int kind) {
    switch (kind) {
    case FT_ACT_RELU: return "relu";
    case FT_ACT_SILU: return "silu";
    case FT_ACT_GELU_TANH: return "gelu_pytorch_tanh";
    default: return NULL;
    }
}

static int n_per_layer(unsigned where) { return !!(where & FT_BN_ATTN) + !!(where & FT_BN_MLP); }
static size_t per_site(int C, int d) { return 2 * (size_t)C * d + (size_t)d + (size_t)C; }

size_t ft_bottleneck_count(const ft_config *c, const ft_bottleneck_cfg *cfg) {
    return (size_t)c->n_layers * n_per_layer(cfg->where) * per_site(c->hidden, cfg->dim);
}

void ft_bottleneck_module_name(int l, unsigned where, char *out, size_t cap) {
    snprintf(out, cap, "base_model.model.model.layers.%d.%s", l,
             where == FT_BN_ATTN ? "self_attn.o_proj" : "mlp.down_proj");
}

// ---- one site -------------------------------------------------------------------------------
static int ws_grow(struct ft_bottleneck_ws *ws, int N) {
    if ((size_t)N <= ws->rows) return 0;
    ws->mem->free(ws->buf);
    ws->rows = 0;
    ws->buf = ws->mem->alloc((size_t)N * (ws->C + 2 * (size_t)ws->d) * sizeof(float));
    if (!ws->buf) return ft_err("bottleneck adapter: out of memory for a workspace of %d rows", N);
    ws->rows = (size_t)N;
    return 0;
}

static int site_grow(ft_bottleneck *b, int N) {
    if ((size_t)N <= b->cap) return 0;
    const ft_ops *mem = b->ws->mem;
    mem->free(b->h);
    mem->free(b->z);
    b->cap = 0;
    b->h = mem->alloc((size_t)N * b->C * sizeof(float));
    b->z = mem->alloc((size_t)N * b->d * sizeof(float));
    if (!b->h || !b->z) {
        mem->free(b->h);
        mem->free(b->z);
        b->h = b->z = NULL;
        return ft_err("bottleneck adapter: out of memory saving %d rows", N);
    }
    b->cap = (size_t)N;
    return 0;
}

void ft_bottleneck_forward(const ft_ops *ops, ft_bottleneck *b, float *out, int N) {
    struct ft_bottleneck_ws *ws = b->ws;
    const int C = b->C, d = b->d;
    b->saved_n = -1;
    if (N <= 0) return;
    // training: whole rows at once (z lands in the saved buffer); inference (or no memory to
    // save): chunks of BN_CHUNK rows through the fixed scratch, so memory stays bounded
    int save = ws->train && site_grow(b, N) == 0;
    float *scratch = ws->chunk;
    int R = BN_CHUNK;
    if (save && ws_grow(ws, N) == 0) {
        scratch = ws->buf;
        R = N;
    }
    if (save) ops->copy(b->h, out, (size_t)N * C * sizeof(float));
    for (int r0 = 0; r0 < N; r0 += R) {
        int n = N - r0 < R ? N - r0 : R;
        float *o = out + (size_t)r0 * C;                          // (n, C) h, then h'
        float *z = save ? b->z + (size_t)r0 * d : scratch;        // (n, d)
        float *a = scratch + (size_t)R * d;                       // (n, d)
        float *u = scratch + 2 * (size_t)R * d;                   // (n, C)
        ops->matmul(z, o, b->down_w, b->down_b, n, C, d);
        ops->act(a, z, (size_t)n * d, b->act);
        ops->matmul(u, a, b->up_w, b->up_b, n, d, C);
        ops->add_inplace(o, u, (size_t)n * C);
    }
    if (save) b->saved_n = N;
}

static void poison(const ft_ops *ops, float *p, size_t n) {
    if (p) ops->fill(p, NAN, n);
}

const float *ft_bottleneck_backward(const ft_ops *ops, ft_bottleneck *b, const float *dout, int N) {
    struct ft_bottleneck_ws *ws = b->ws;
    const int C = b->C, d = b->d;
    size_t nd = (size_t)N * d, nc = (size_t)N * C;
    if (N <= 0) return dout;
    int have_ws = ws_grow(ws, N) == 0;
    if (b->saved_n != N || !have_ws) {
        // nothing saved for these rows (or no workspace): make the step's gradients
        // non-finite, never silently wrong
        poison(ops, b->d_down_w, (size_t)d * C);
        poison(ops, b->d_down_b, (size_t)d);
        poison(ops, b->d_up_w, (size_t)C * d);
        poison(ops, b->d_up_b, (size_t)C);
        if (have_ws) ft_err("bottleneck adapter: backward over %d rows without a training forward on them", N);
        if (!have_ws) return dout;
        poison(ops, ws->buf + 2 * nd, nc);
        return ws->buf + 2 * nd;
    }
    float *a = ws->buf;          // (N, d) f(z), later dz
    float *da = a + nd;          // (N, d)
    float *dh = da + nd;         // (N, C)
    ops->act(a, b->z, nd, b->act);
    ops->zero(da, nd * sizeof(float));
    ops->matmul_backward(da, b->d_up_w, b->d_up_b, dout, a, b->up_w, N, d, C);
    ops->zero(a, nd * sizeof(float));
    ops->act_backward(a, da, b->z, nd, b->act);
    ops->copy(dh, dout, nc * sizeof(float));
    ops->matmul_backward(dh, b->d_down_w, b->d_down_b, a, b->h, b->down_w, N, C, d);
    return dh;
}

// ---- the set --------------------------------------------------------------------------------
int ft_bottleneck_alloc_set(ft_bottleneck_set **out, ft_model *m, const ft_bottleneck_cfg *cfg) {
    *out = NULL;
    const int C = m->cfg.hidden, L = m->cfg.n_layers, d = cfg->dim;
    if (d < 1 || d > 65536) return ft_err("adapter dim must be in 1..65536 (got %d)", d);
    if (!cfg->where || (cfg->where & ~(FT_BN_ATTN | FT_BN_MLP)))
        return ft_err("adapter sites must be attn, mlp or both");
    if (!ft_bottleneck_act_name(cfg->act)) return ft_err("unknown adapter activation kind %d", cfg->act);
    ft_bottleneck_set *s = ft_calloc(1, sizeof *s);
    if (!s) return -1;
    s->cfg = *cfg;
    s->n_sites = L * n_per_layer(cfg->where);
    s->n_params = ft_bottleneck_count(&m->cfg, cfg);
    s->sites = ft_calloc((size_t)s->n_sites, sizeof *s->sites);
    s->params = ft_calloc(s->n_params ? s->n_params : 1, sizeof(float));
    s->ws = ft_calloc(1, sizeof *s->ws);
    if (s->ws) s->ws->mem = ft_ops_cpu();
    if (s->ws) s->ws->chunk = s->ws->mem->alloc((size_t)BN_CHUNK * (C + 2 * (size_t)d) * sizeof(float));
    if (!s->sites || !s->params || !s->ws || !s->ws->chunk) {
        ft_bottleneck_destroy(s);
        return -1;
    }
    s->ws->C = C;
    s->ws->d = d;
    float *p = s->params;
    for (int i = 0; i < s->n_sites; i++) {
        ft_bottleneck *b = &s->sites[i];
        b->C = C;
        b->d = d;
        b->act = cfg->act;
        b->ws = s->ws;
        b->set = s;
        b->saved_n = -1;
        b->down_w = p; p += (size_t)d * C;
        b->down_b = p; p += d;
        b->up_w = p; p += (size_t)C * d;
        b->up_b = p; p += C;
    }
    *out = s;
    return 0;
}

ft_bottleneck *ft_bottleneck_site(ft_bottleneck_set *s, int l, unsigned where) {
    int per = n_per_layer(s->cfg.where);
    if (!s->model || l < 0 || l >= s->model->cfg.n_layers || !(s->cfg.where & where)) return NULL;
    if (where != FT_BN_ATTN && where != FT_BN_MLP) return NULL;
    return &s->sites[l * per + (per == 2 && where == FT_BN_MLP)];
}

// The linear of layer l a site of kind `where` hooks.
static ft_linear *site_linear(ft_model *m, int l, unsigned where) {
    return where == FT_BN_ATTN ? &m->layers[l].o : &m->layers[l].down;
}

void ft_bottleneck_attach(ft_bottleneck_set *s) {
    FT_BN_FOR_SITES(s, l, w, b) site_linear(s->model, l, w)->post = b;
}

void ft_bottleneck_detach(ft_bottleneck_set *s) {
    FT_BN_FOR_SITES(s, l, w, b) {
        ft_linear *lin = site_linear(s->model, l, w);
        if (lin->post == b) lin->post = NULL;
    }
}

int ft_bottleneck_attached(const ft_model *m) {
    for (int l = 0; l < m->cfg.n_layers; l++)
        if (m->layers[l].o.post || m->layers[l].down.post) return 1;
    return 0;
}

int ft_bottleneck_new(ft_bottleneck_set **out, ft_model *m, const ft_bottleneck_cfg *cfg, uint64_t seed) {
    *out = NULL;
    if (ft_bottleneck_attached(m)) return ft_err("the model already has a bottleneck adapter attached");
    ft_bottleneck_set *s;
    if (ft_bottleneck_alloc_set(&s, m, cfg)) return -1;
    // nn.Linear(C, d) default init: kaiming_uniform_(a=sqrt(5)) on the weight gives the bound
    // sqrt(6 / ((1 + 5) * C)) = 1/sqrt(C); the bias is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the
    // same bound. up (weight and bias) stays zero: h' = h exactly at step 0.
    ft_rng rng;
    ft_rng_seed(&rng, seed ^ 0x426F74746C654E6Bull);
    float bound = 1.0f / sqrtf((float)m->cfg.hidden);
    for (int i = 0; i < s->n_sites; i++) {
        ft_bottleneck *b = &s->sites[i];
        for (size_t k = 0; k < (size_t)b->d * b->C; k++) b->down_w[k] = (2.0f * ft_rng_float(&rng) - 1.0f) * bound;
        for (int k = 0; k < b->d; k++) b->down_b[k] = (2.0f * ft_rng_float(&rng) - 1.0f) * bound;
    }
    s->ws->train = 1;
    s->model = m;
    ft_bottleneck_attach(s);
    *out = s;
    return 0;
}

int ft_bottleneck_alloc_grads(ft_bottleneck_set *s) {
    s->ws->train = 1;
    if (s->grads) return 0;
    s->grads = ft_calloc(s->n_params ? s->n_params : 1, sizeof(float));
    if (!s->grads) return -1;
    for (int i = 0; i < s->n_sites; i++) {
        ft_bottleneck *b = &s->sites[i];
        b->d_down_w = s->grads + (b->down_w - s->params);
        b->d_down_b = s->grads + (b->down_b - s->params);
        b->d_up_w = s->grads + (b->up_w - s->params);
        b->d_up_b = s->grads + (b->up_b - s->params);
    }
    return 0;
}

void ft_bottleneck_destroy(ft_bottleneck_set *s) {
    if (!s) return;
    if (s->model && s->sites) {
        FT_BN_FOR_SITES(s, l, w, b) {
            ft_linear *lin = site_linear(s->model, l, w);
            if (lin->post == b) lin->post = NULL;
        }
    }
    if (s->sites && s->ws)
        for (int i = 0; i < s->n_sites; i++) {
            s->ws->mem->free(s->sites[i].h);
            s->ws->mem->free(s->sites[i].z);
        }
    if (s->ws) {
        if (s->ws->mem) {
            s->ws->mem->free(s->ws->buf);
            s->ws->mem->free(s->ws->chunk);
        }
        free(s->ws);
    }
    free(s->sites);
    if (s->dev) {
        s->dev->free(s->params);
        s->dev->free(s->grads);
    } else {
        free(s->params);
        free(s->grads);
    }
    free(s);
}

int ft_bottleneck_to_device(const ft_bottleneck_set *s, ft_model *m, const ft_ops *ops, ft_bottleneck_set **out) {
    *out = NULL;
    const int C = s->ws->C, d = s->ws->d;
    size_t bytes = (s->n_params ? s->n_params : 1) * sizeof(float);
    ft_bottleneck_set *t = ft_calloc(1, sizeof *t);
    if (!t) return -1;
    t->cfg = s->cfg;
    t->n_params = s->n_params;
    t->n_sites = s->n_sites;
    t->dev = ops;
    t->sites = ft_calloc((size_t)s->n_sites, sizeof *t->sites);
    t->ws = ft_calloc(1, sizeof *t->ws);
    if (!t->sites || !t->ws) goto fail;
    t->ws->mem = ops;
    t->ws->C = C;
    t->ws->d = d;
    t->ws->train = s->grads != NULL;
    if (!(t->params = ops->alloc(bytes)) || ops->upload(t->params, s->params, s->n_params * sizeof(float)) ||
        (s->grads && (!(t->grads = ops->alloc(bytes)) || ops->zero(t->grads, bytes))) ||
        !(t->ws->chunk = ops->alloc((size_t)BN_CHUNK * (C + 2 * (size_t)d) * sizeof(float))))
        goto fail;
    for (int i = 0; i < s->n_sites; i++) {
        const ft_bottleneck *a = &s->sites[i];
        ft_bottleneck *b = &t->sites[i];
        b->C = a->C;
        b->d = a->d;
        b->act = a->act;
        b->ws = t->ws;
        b->set = t;
        b->saved_n = -1;
#define MOVE(f) (a->f ? t->params + (a->f - s->params) : NULL)
        b->down_w = MOVE(down_w);
        b->down_b = MOVE(down_b);
        b->up_w = MOVE(up_w);
        b->up_b = MOVE(up_b);
#undef MOVE
#define MOVE(f) (a->f && t->grads ? t->grads + (a->f - s->grads) : NULL)
        b->d_down_w = MOVE(d_down_w);
        b->d_down_b = MOVE(d_down_b);
        b->d_up_w = MOVE(d_up_w);
        b->d_up_b = MOVE(d_up_b);
#undef MOVE
    }
    t->model = m;
    *out = t;
    return 0;
fail:
    ft_bottleneck_destroy(t);
    return -1;
}
