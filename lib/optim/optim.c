// optim.c — AdamW, schedules, clipping (see optim.h).
#include "optim/optim.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ft_sched_parse(const char *name, ft_sched_kind *out) {
    if (!strcmp(name, "constant")) *out = FT_SCHED_CONSTANT;
    else if (!strcmp(name, "linear")) *out = FT_SCHED_LINEAR;
    else if (!strcmp(name, "cosine")) *out = FT_SCHED_COSINE;
    else return ft_err("unknown schedule '%s' (expected constant, linear or cosine)", name);
    return 0;
}

const char *ft_sched_name(ft_sched_kind k) {
    return k == FT_SCHED_LINEAR ? "linear" : k == FT_SCHED_COSINE ? "cosine" : "constant";
}

long ft_sched_resolve_warmup(double warmup, long total_steps) {
    if (warmup <= 0) return 0;
    if (warmup < 1) return (long)ceil(warmup * (double)total_steps);
    return (long)warmup;
}

double ft_sched_lr(const ft_sched *s, long step) {
    long w = s->warmup_steps;
    if (step < w) return s->lr * (double)step / (double)(w > 1 ? w : 1);
    if (s->kind == FT_SCHED_CONSTANT) return s->lr;
    long span = s->total_steps - w;
    if (span < 1) span = 1;
    double progress = (double)(step - w) / (double)span;
    if (s->kind == FT_SCHED_LINEAR) {
        double f = 1.0 - progress;
        return s->lr * (f > 0 ? f : 0);
    }
    double f = 0.5 * (1.0 + cos(M_PI * progress));
    if (progress >= 1.0) f = 0;
    return s->lr * (f > 0 ? f : 0);
}

ft_adamw_cfg ft_adamw_default(void) {
    ft_adamw_cfg c = {0.9f, 0.999f, 1e-8f, 0.0f};
    return c;
}

int ft_optim_init(ft_optim *o, const ft_ops *ops, size_t n, ft_adamw_cfg cfg) {
    memset(o, 0, sizeof *o);
    o->ops = ops;
    o->cfg = cfg;
    o->n = n;
    size_t bytes = (n ? n : 1) * sizeof(float);
    o->m = ops->alloc(bytes);
    o->v = ops->alloc(bytes);
    if (!o->m || !o->v || ops->zero(o->m, bytes) || ops->zero(o->v, bytes)) {
        ft_optim_free(o);
        return ft_err_ctx("optimizer state (%zu parameters)", n);
    }
    return 0;
}

int ft_optim_set_ranges(ft_optim *o, const ft_param_range *r, size_t n_ranges) {
    for (size_t i = 0; i < n_ranges; i++)
        if (r[i].offset > o->n || r[i].n > o->n - r[i].offset)
            return ft_err("parameter range %zu (%zu+%zu) outside %zu parameters", i, r[i].offset, r[i].n, o->n);
    ft_param_range *c = n_ranges ? ft_malloc(n_ranges * sizeof *c) : NULL;
    if (n_ranges && !c) return -1;
    if (n_ranges) memcpy(c, r, n_ranges * sizeof *c);
    free(o->ranges);
    o->ranges = c;
    o->n_ranges = n_ranges;
    return 0;
}

void ft_optim_free(ft_optim *o) {
    if (o->ops) {
        o->ops->free(o->m);
        o->ops->free(o->v);
    }
    free(o->ranges);
    memset(o, 0, sizeof *o);
}

void ft_optim_step(ft_optim *o, float *p, const float *g, float lr) {
    int t = (int)(o->t + 1);   // 1-based step for bias correction
    const ft_adamw_cfg *c = &o->cfg;
    if (!o->n_ranges) {
        o->ops->adamw(p, g, o->m, o->v, o->n, lr, c->beta1, c->beta2, c->eps, c->weight_decay, t);
    } else {
        for (size_t i = 0; i < o->n_ranges; i++) {
            const ft_param_range *r = &o->ranges[i];
            if (!r->n) continue;
            o->ops->adamw(p + r->offset, g + r->offset, o->m + r->offset, o->v + r->offset, r->n, lr,
                          c->beta1, c->beta2, c->eps, r->decay ? c->weight_decay : 0.0f, t);
        }
    }
    o->t++;
}

double ft_grad_norm(const float *g, size_t n) { return ft_grad_norm_on(ft_ops_cpu(), g, n); }

double ft_grad_norm_on(const ft_ops *ops, const float *g, size_t n) { return sqrt(ops->sumsq(g, n)); }

int ft_all_finite(const float *x, size_t n) {
    int bad = 0;
    #pragma omp parallel for reduction(|:bad) if (n > 65536)
    for (size_t i = 0; i < n; i++) bad |= !isfinite(x[i]);
    return !bad;
}

double ft_grad_clip(float *g, size_t n, double max_norm) { return ft_grad_clip_on(ft_ops_cpu(), g, n, max_norm); }

double ft_grad_clip_on(const ft_ops *ops, float *g, size_t n, double max_norm) {
    double norm = ft_grad_norm_on(ops, g, n);
    if (max_norm > 0 && isfinite(norm)) {
        double coef = max_norm / (norm + 1e-6);
        if (coef < 1.0) ops->scale(g, (float)coef, n);
    }
    return norm;
}
