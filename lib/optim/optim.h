// optim.h — the optimizer side of training: AdamW over a flat parameter buffer (through the
// op table's adamw kernel), learning-rate schedules with warmup (as HF transformers'
// get_{constant,linear,cosine}_schedule_with_warmup), gradient-norm clipping and
// NaN/Inf detection.
#ifndef FT_OPTIM_H
#define FT_OPTIM_H

#include <stddef.h>
#include <stdint.h>
#include "ops.h"

typedef enum { FT_SCHED_CONSTANT = 0, FT_SCHED_LINEAR, FT_SCHED_COSINE } ft_sched_kind;

typedef struct {
    ft_sched_kind kind;
    double lr;            // peak learning rate
    long warmup_steps;    // resolved warmup (see ft_sched_resolve_warmup)
    long total_steps;     // steps of the whole run (decay reaches 0 at total_steps)
} ft_sched;

// "constant" | "linear" | "cosine" -> kind; -1 with a message otherwise.
int ft_sched_parse(const char *name, ft_sched_kind *out);
const char *ft_sched_name(ft_sched_kind k);
// Warmup given as a step count (>= 1) or as a fraction of total steps (0 <= w < 1):
// fractions round up like HF's get_warmup_steps (ceil(total * w)).
long ft_sched_resolve_warmup(double warmup, long total_steps);
// Learning rate for optimizer step `step` (0-based: the first update uses step 0).
double ft_sched_lr(const ft_sched *s, long step);

// One contiguous parameter range with its own weight decay (norm weights and biases get
// none, as in HF Trainer).
typedef struct {
    size_t offset, n;
    int decay;            // 1 = apply weight_decay, 0 = exempt
} ft_param_range;

typedef struct {
    float beta1, beta2, eps, weight_decay;
} ft_adamw_cfg;

typedef struct ft_optim {
    const ft_ops *ops;
    ft_adamw_cfg cfg;
    size_t n;              // parameters
    float *m, *v;          // (n,) first and second moments (buffers of ops)
    long t;                // updates done so far (bias correction uses t+1 on the next)
    ft_param_range *ranges;
    size_t n_ranges;       // 0 = one range covering everything, decayed
} ft_optim;

ft_adamw_cfg ft_adamw_default(void);   // beta1 .9, beta2 .999, eps 1e-8, wd 0
int ft_optim_init(ft_optim *o, const ft_ops *ops, size_t n, ft_adamw_cfg cfg);
// Copy a decay table (ranges must lie inside [0, n)); replaces any previous one.
int ft_optim_set_ranges(ft_optim *o, const ft_param_range *r, size_t n_ranges);
void ft_optim_free(ft_optim *o);
// One AdamW update of p(n) with gradients g(n) at learning rate lr; t advances by one.
void ft_optim_step(ft_optim *o, float *p, const float *g, float lr);

// L2 norm of g(n), accumulated in double: g in host memory (ft_grad_norm) or a buffer of
// the op table ops (ft_grad_norm_on).
double ft_grad_norm(const float *g, size_t n);
double ft_grad_norm_on(const ft_ops *ops, const float *g, size_t n);
// 1 when every element is finite.
int ft_all_finite(const float *x, size_t n);
// Scale g so its norm is at most max_norm (max_norm <= 0: no clipping). Returns the norm
// before clipping (as torch.nn.utils.clip_grad_norm_: coefficient max/(norm+1e-6), capped at 1).
double ft_grad_clip(float *g, size_t n, double max_norm);
double ft_grad_clip_on(const ft_ops *ops, float *g, size_t n, double max_norm);

#endif
