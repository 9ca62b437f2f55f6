// mini_llama.c — the small Llama-shaped decoder of mini_llama.h: forward and backward written
// only against an ft_ops table, memory through a mini_mem table (host or CUDA device).
#include "mini_llama.h"

#include "cuda/ft_cuda.h"
#include "err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void *h_alloc(size_t n) { return malloc(n ? n : 1); }
static int h_copy(void *d, const void *s, size_t n) { memcpy(d, s, n); return 0; }
static int h_zero(void *d, size_t n) { memset(d, 0, n); return 0; }
const mini_mem mini_mem_host = {h_alloc, free, h_copy, h_copy, h_zero};
static int c_zero(void *d, size_t n) { return ft_cuda_memset(d, 0, n); }
const mini_mem mini_mem_cuda = {ft_cuda_malloc, ft_cuda_free, ft_cuda_upload, ft_cuda_download, c_zero};

enum { WQ, WK, WV, WO, WG, WU, WD, NLIN };
typedef struct { float *p, *g, *m, *v; size_t n; int trainable; } tens;
typedef struct {
    int ln1, ln2, w[NLIN], A[NLIN], Bm[NLIN];  // indices into mini_model.t
} layer_ix;

struct mini_model {
    mini_cfg c;
    const ft_ops *ops;
    const mini_mem *mem;
    tens *t;
    int nt, emb, lnf;
    layer_ix *ly;
    int N, QD, KD;
    float *inv_freq;                      // (D/2)
    int32_t *pos, *ids, *tg, *doc;        // (N)
    uint8_t *mask;                        // (N)
    float *x, *xmid, *h1, *h2, *q, *k, *v, *att, *lse, *r1, *r2, *gate, *up, *act, *hf, *rf, *u;
    float *tmp, *dx, *dxm, *dh, *dq, *dk, *dv, *datt, *dact, *dgate, *dup, *sdy, *du;
};

static uint64_t g_rng;
static float frand(void) {
    g_rng ^= g_rng << 13; g_rng ^= g_rng >> 7; g_rng ^= g_rng << 17;
    return (float)((g_rng >> 40) * (1.0 / (1ull << 23)) - 1.0);
}

static float *dalloc(mini_model *m, size_t n, int *ok) {
    float *p = m->mem->alloc(n * sizeof(float));
    if (!p) *ok = 0;
    return p;
}

// New tensor of n values: uniform(-a, a) + base, uploaded. Returns its index or -1.
static int add_tensor(mini_model *m, size_t n, float a, float base, int trainable) {
    tens *t = &m->t[m->nt];
    float *h = malloc(n * sizeof *h);
    int ok = h != NULL;
    t->n = n;
    t->trainable = trainable;
    t->p = ok ? dalloc(m, n, &ok) : NULL;
    t->g = ok && trainable ? dalloc(m, n, &ok) : NULL;
    if (ok) {
        for (size_t i = 0; i < n; i++) h[i] = base + a * frand();
        ok = m->mem->upload(t->p, h, n * sizeof *h) == 0;
    }
    free(h);
    m->nt++;
    return ok ? m->nt - 1 : -1;
}

mini_model *mini_create(const mini_cfg *cfg, const ft_ops *ops, const mini_mem *mem, uint64_t seed) {
    mini_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->c = *cfg;
    m->ops = ops;
    m->mem = mem;
    const mini_cfg *c = &m->c;
    int L = c->L, N = c->B * c->T, C = c->C, F = c->F, r = c->lora_r, full = r == 0;
    m->N = N;
    m->QD = c->Hq * c->D;
    m->KD = c->Hkv * c->D;
    m->t = calloc((size_t)L * (2 + 3 * NLIN) + 2, sizeof *m->t);
    m->ly = calloc((size_t)L, sizeof *m->ly);
    if (!m->t || !m->ly) { mini_free(m); return NULL; }
    g_rng = seed * 0x9E3779B97F4A7C15ull + 1;
    int io[NLIN][2] = {{C, m->QD}, {C, m->KD}, {C, m->KD}, {m->QD, C}, {C, F}, {C, F}, {F, C}};  // (in, out)
    int bad = (m->emb = add_tensor(m, (size_t)c->V * C, 1.0f, 0.0f, full)) < 0;
    for (int l = 0; l < L && !bad; l++) {
        layer_ix *y = &m->ly[l];
        bad |= (y->ln1 = add_tensor(m, C, 0.1f, 1.0f, full)) < 0;
        bad |= (y->ln2 = add_tensor(m, C, 0.1f, 1.0f, full)) < 0;
        for (int j = 0; j < NLIN && !bad; j++) {
            float a = sqrtf(3.0f / io[j][0]);
            bad |= (y->w[j] = add_tensor(m, (size_t)io[j][1] * io[j][0], a, 0.0f, full)) < 0;
            if (r > 0) {
                bad |= (y->A[j] = add_tensor(m, (size_t)r * io[j][0], a, 0.0f, 1)) < 0;
                bad |= (y->Bm[j] = add_tensor(m, (size_t)io[j][1] * r, 0.5f / sqrtf((float)r), 0.0f, 1)) < 0;
            }
        }
    }
    if (!bad) bad = (m->lnf = add_tensor(m, C, 0.1f, 1.0f, full)) < 0;
    int ok = !bad, Fm = F > C ? F : C;
    if (m->QD > Fm) Fm = m->QD;
    size_t NC = (size_t)N * C, NQ = (size_t)N * m->QD, NK = (size_t)N * m->KD, NF = (size_t)N * F;
    m->inv_freq = dalloc(m, c->D / 2, &ok);
    m->pos = (int32_t *)dalloc(m, N, &ok);
    m->ids = (int32_t *)dalloc(m, N, &ok);
    m->tg = (int32_t *)dalloc(m, N, &ok);
    m->doc = (int32_t *)dalloc(m, N, &ok);
    m->mask = (uint8_t *)dalloc(m, N, &ok);
    m->x = dalloc(m, (L + 1) * NC, &ok);
    m->xmid = dalloc(m, L * NC, &ok);
    m->h1 = dalloc(m, L * NC, &ok);
    m->h2 = dalloc(m, L * NC, &ok);
    m->q = dalloc(m, L * NQ, &ok);
    m->att = dalloc(m, L * NQ, &ok);
    m->k = dalloc(m, L * NK, &ok);
    m->v = dalloc(m, L * NK, &ok);
    m->lse = dalloc(m, (size_t)L * c->B * c->Hq * c->T, &ok);
    m->r1 = dalloc(m, (size_t)L * N, &ok);
    m->r2 = dalloc(m, (size_t)L * N, &ok);
    m->gate = dalloc(m, L * NF, &ok);
    m->up = dalloc(m, L * NF, &ok);
    m->act = dalloc(m, L * NF, &ok);
    m->hf = dalloc(m, NC, &ok);
    m->rf = dalloc(m, N, &ok);
    m->u = r > 0 ? dalloc(m, (size_t)L * NLIN * N * r, &ok) : NULL;
    m->tmp = dalloc(m, (size_t)N * Fm, &ok);
    m->dx = dalloc(m, NC, &ok);
    m->dxm = dalloc(m, NC, &ok);
    m->dh = dalloc(m, NC, &ok);
    m->dq = dalloc(m, NQ, &ok);
    m->datt = dalloc(m, NQ, &ok);
    m->dk = dalloc(m, NK, &ok);
    m->dv = dalloc(m, NK, &ok);
    m->dact = dalloc(m, NF, &ok);
    m->dgate = dalloc(m, NF, &ok);
    m->dup = dalloc(m, NF, &ok);
    m->sdy = dalloc(m, (size_t)N * Fm, &ok);
    m->du = r > 0 ? dalloc(m, (size_t)N * r, &ok) : NULL;
    if (bad || !ok) { mini_free(m); return NULL; }
    float *inv = malloc(c->D / 2 * sizeof *inv);
    int32_t *pos = malloc(N * sizeof *pos);
    if (!inv || !pos) ok = 0;
    for (int i = 0; ok && i < c->D / 2; i++) inv[i] = (float)pow(10000.0, -2.0 * i / c->D);
    for (int i = 0; ok && i < N; i++) pos[i] = i % c->T;
    if (ok) ok = mem->upload(m->inv_freq, inv, c->D / 2 * sizeof *inv) == 0 && mem->upload(m->pos, pos, N * sizeof *pos) == 0;
    free(inv); free(pos);
    if (!ok) { mini_free(m); return NULL; }
    return m;
}

void mini_free(mini_model *m) {
    if (!m) return;
    const mini_mem *mem = m->mem;
    for (int i = 0; m->t && i < m->nt; i++) {
        mem->release(m->t[i].p); mem->release(m->t[i].g); mem->release(m->t[i].m); mem->release(m->t[i].v);
    }
    void *bufs[] = {m->inv_freq, m->pos, m->ids, m->tg, m->doc, m->mask, m->x, m->xmid, m->h1, m->h2, m->q, m->k,
                    m->v, m->att, m->lse, m->r1, m->r2, m->gate, m->up, m->act, m->hf, m->rf, m->u, m->tmp, m->dx,
                    m->dxm, m->dh, m->dq, m->dk, m->dv, m->datt, m->dact, m->dgate, m->dup, m->sdy, m->du};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) mem->release(bufs[i]);
    free(m->t); free(m->ly); free(m);
}

static float *P(mini_model *m, int i) { return m->t[i].p; }
static float *G(mini_model *m, int i) { return m->t[i].g; }  // NULL when frozen
static void copy(mini_model *m, float *dst, const float *src, size_t n) {
    m->mem->zero(dst, n * sizeof *dst);
    m->ops->add_inplace(dst, src, n);
}

// y(N,O) = x W^T (+ s * (x A^T) B^T with u = x A^T saved in u(N,r))
static void lin_fwd(mini_model *m, int l, int j, float *y, const float *x, int I, int O) {
    const ft_ops *o = m->ops;
    layer_ix *y_ = &m->ly[l];
    o->matmul(y, x, P(m, y_->w[j]), NULL, m->N, I, O);
    if (m->c.lora_r > 0) {
        int r = m->c.lora_r;
        float *u = m->u + ((size_t)l * NLIN + j) * m->N * r;
        o->matmul(u, x, P(m, y_->A[j]), NULL, m->N, I, r);
        o->matmul(m->tmp, u, P(m, y_->Bm[j]), NULL, m->N, r, O);
        o->scale_add(y, m->tmp, m->c.lora_scale, (size_t)m->N * O);
    }
}

// dx(N,I) += dy W (+ LoRA path); dW, dA, dB accumulate when trainable.
static void lin_bwd(mini_model *m, int l, int j, float *dx, const float *dy, const float *x, int I, int O) {
    const ft_ops *o = m->ops;
    layer_ix *y_ = &m->ly[l];
    o->matmul_backward(dx, G(m, y_->w[j]), NULL, dy, x, P(m, y_->w[j]), m->N, I, O);
    if (m->c.lora_r > 0) {
        int r = m->c.lora_r;
        const float *u = m->u + ((size_t)l * NLIN + j) * m->N * r;
        size_t no = (size_t)m->N * O;
        m->mem->zero(m->sdy, no * sizeof(float));
        o->scale_add(m->sdy, dy, m->c.lora_scale, no);
        m->mem->zero(m->du, (size_t)m->N * r * sizeof(float));
        o->matmul_backward(m->du, G(m, y_->Bm[j]), NULL, m->sdy, u, P(m, y_->Bm[j]), m->N, r, O);
        o->matmul_backward(dx, G(m, y_->A[j]), NULL, m->du, x, P(m, y_->A[j]), m->N, I, r);
    }
}

double mini_step(mini_model *m, const int32_t *ids, const int32_t *targets, const uint8_t *mask, const int32_t *doc) {
    const ft_ops *o = m->ops;
    const mini_mem *mem = m->mem;
    const mini_cfg *c = &m->c;
    int N = m->N, C = c->C, F = c->F, QD = m->QD, KD = m->KD, D = c->D, cnt = 0;
    size_t NC = (size_t)N * C, NQ = (size_t)N * QD, NK = (size_t)N * KD, NF = (size_t)N * F;
    for (int i = 0; i < N; i++) cnt += mask ? mask[i] != 0 : 1;
    if (mem->upload(m->ids, ids, N * 4ul) || mem->upload(m->tg, targets, N * 4ul) ||
        (mask && mem->upload(m->mask, mask, N)) || (doc && mem->upload(m->doc, doc, N * 4ul)))
        return NAN;
    const int32_t *dd = doc ? m->doc : NULL;
    for (int i = 0; i < m->nt; i++) if (m->t[i].g) mem->zero(m->t[i].g, m->t[i].n * sizeof(float));
    // forward
    o->embedding(m->x, m->ids, P(m, m->emb), N, C);
    for (int l = 0; l < c->L; l++) {
        layer_ix *y = &m->ly[l];
        float *x = m->x + l * NC, *xm = m->xmid + l * NC, *h1 = m->h1 + l * NC, *h2 = m->h2 + l * NC;
        float *q = m->q + l * NQ, *k = m->k + l * NK, *v = m->v + l * NK, *att = m->att + l * NQ;
        float *lse = m->lse + (size_t)l * c->B * c->Hq * c->T;
        o->rmsnorm(h1, m->r1 + (size_t)l * N, x, P(m, y->ln1), N, C, 1e-5f);
        lin_fwd(m, l, WQ, q, h1, C, QD);
        lin_fwd(m, l, WK, k, h1, C, KD);
        lin_fwd(m, l, WV, v, h1, C, KD);
        o->rope(q, m->pos, m->inv_freq, N, c->Hq, D);
        o->rope(k, m->pos, m->inv_freq, N, c->Hkv, D);
        o->attention(att, lse, q, k, v, dd, c->B, c->T, c->Hq, c->Hkv, D);
        lin_fwd(m, l, WO, m->dh, att, QD, C);  // dh as (N,C) scratch here
        o->add(xm, x, m->dh, NC);
        o->rmsnorm(h2, m->r2 + (size_t)l * N, xm, P(m, y->ln2), N, C, 1e-5f);
        lin_fwd(m, l, WG, m->gate + l * NF, h2, C, F);
        lin_fwd(m, l, WU, m->up + l * NF, h2, C, F);
        o->swiglu(m->act + l * NF, m->gate + l * NF, m->up + l * NF, N, F);
        lin_fwd(m, l, WD, m->dh, m->act + l * NF, F, C);
        o->add(m->x + (l + 1) * NC, xm, m->dh, NC);
    }
    float *xl = m->x + (size_t)c->L * NC;
    o->rmsnorm(m->hf, m->rf, xl, P(m, m->lnf), N, C, 1e-5f);
    mem->zero(m->dh, NC * sizeof(float));
    double loss = o->lm_head_xent(m->dh, G(m, m->emb), m->hf, P(m, m->emb), m->tg, mask ? m->mask : NULL, N, C,
                                  c->V, 1.0f / (cnt ? cnt : 1));
    // backward: m->dx holds d(loss)/d(residual stream)
    mem->zero(m->dx, NC * sizeof(float));
    o->rmsnorm_backward(m->dx, G(m, m->lnf), m->dh, xl, P(m, m->lnf), m->rf, N, C);
    for (int l = c->L - 1; l >= 0; l--) {
        layer_ix *y = &m->ly[l];
        float *x = m->x + l * NC, *xm = m->xmid + l * NC, *h1 = m->h1 + l * NC, *h2 = m->h2 + l * NC;
        float *q = m->q + l * NQ, *k = m->k + l * NK, *v = m->v + l * NK, *att = m->att + l * NQ;
        float *lse = m->lse + (size_t)l * c->B * c->Hq * c->T;
        copy(m, m->dxm, m->dx, NC);  // residual: d xmid = d x_{l+1} + (MLP path)
        mem->zero(m->dact, NF * sizeof(float));
        lin_bwd(m, l, WD, m->dact, m->dx, m->act + l * NF, F, C);
        mem->zero(m->dgate, NF * sizeof(float));
        mem->zero(m->dup, NF * sizeof(float));
        o->swiglu_backward(m->dgate, m->dup, m->dact, m->gate + l * NF, m->up + l * NF, N, F);
        mem->zero(m->dh, NC * sizeof(float));
        lin_bwd(m, l, WG, m->dh, m->dgate, h2, C, F);
        lin_bwd(m, l, WU, m->dh, m->dup, h2, C, F);
        o->rmsnorm_backward(m->dxm, G(m, y->ln2), m->dh, xm, P(m, y->ln2), m->r2 + (size_t)l * N, N, C);
        copy(m, m->dx, m->dxm, NC);  // d x_l = d xmid + (attention path)
        mem->zero(m->datt, NQ * sizeof(float));
        lin_bwd(m, l, WO, m->datt, m->dxm, att, QD, C);
        mem->zero(m->dq, NQ * sizeof(float));
        mem->zero(m->dk, NK * sizeof(float));
        mem->zero(m->dv, NK * sizeof(float));
        o->attention_backward(m->dq, m->dk, m->dv, m->datt, att, lse, q, k, v, dd, c->B, c->T, c->Hq, c->Hkv, D);
        o->rope_backward(m->dq, m->pos, m->inv_freq, N, c->Hq, D);
        o->rope_backward(m->dk, m->pos, m->inv_freq, N, c->Hkv, D);
        mem->zero(m->dh, NC * sizeof(float));
        lin_bwd(m, l, WQ, m->dh, m->dq, h1, C, QD);
        lin_bwd(m, l, WK, m->dh, m->dk, h1, C, KD);
        lin_bwd(m, l, WV, m->dh, m->dv, h1, C, KD);
        o->rmsnorm_backward(m->dx, G(m, y->ln1), m->dh, x, P(m, y->ln1), m->r1 + (size_t)l * N, N, C);
    }
    o->embedding_backward(G(m, m->emb), m->ids, m->dx, N, C);
    return loss / (cnt ? cnt : 1);
}

size_t mini_grad_count(const mini_model *m) {
    size_t n = 0;
    for (int i = 0; i < m->nt; i++) if (m->t[i].g) n += m->t[i].n;
    return n;
}

int mini_grads(const mini_model *m, float *out) {
    for (int i = 0; i < m->nt; i++) {
        if (!m->t[i].g) continue;
        if (m->mem->download(out, m->t[i].g, m->t[i].n * sizeof(float)) < 0) return -1;
        out += m->t[i].n;
    }
    return 0;
}

int mini_adamw(mini_model *m, float lr, int step) {
    for (int i = 0; i < m->nt; i++) {
        tens *t = &m->t[i];
        if (!t->g) continue;
        if (!t->m) {
            int ok = 1;
            t->m = dalloc(m, t->n, &ok);
            t->v = ok ? dalloc(m, t->n, &ok) : NULL;
            if (!ok || m->mem->zero(t->m, t->n * 4) < 0 || m->mem->zero(t->v, t->n * 4) < 0) return -1;
        }
        m->ops->adamw(t->p, t->g, t->m, t->v, t->n, lr, 0.9f, 0.999f, 1e-8f, 0.01f, step);
    }
    return 0;
}

double mini_matmul_params(const mini_cfg *c) {
    double QD = (double)c->Hq * c->D, KD = (double)c->Hkv * c->D;
    return c->L * (c->C * QD + 2 * c->C * KD + QD * c->C + 3.0 * c->C * c->F) + (double)c->V * c->C;
}
