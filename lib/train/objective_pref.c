// objective_pref.c — the preference objectives (see objective_pref.h for the formulas): per
// example, the loss and its derivatives with respect to the two sides' summed log-probabilities,
// in double; the step's loss is the mean over its examples, so each example's gradient is
// scaled by 1 / (examples of the step).
#include "train/objective_pref.h"
#include "core/err.h"

#include <math.h>
#include <string.h>

enum { LT_SIGMOID, LT_IPO, LT_HINGE, LT_ROBUST };

static int loss_type(const ft_train_opts *o) {
    const char *t = o->loss_type ? o->loss_type : "sigmoid";
    return !strcmp(t, "ipo") ? LT_IPO : !strcmp(t, "hinge") ? LT_HINGE : !strcmp(t, "robust") ? LT_ROBUST : LT_SIGMOID;
}

int ft_pref_check(const ft_train_opts *o) {
    const char *obj = o->objective ? o->objective : "sft", *t = o->loss_type ? o->loss_type : "sigmoid";
    int dpo = !strcmp(obj, "dpo");
    if (strcmp(t, "sigmoid") && strcmp(t, "ipo") && strcmp(t, "hinge") && strcmp(t, "robust"))
        return ft_err("--loss-type %s: expected sigmoid, ipo, hinge or robust", t);
    if (!dpo && strcmp(t, "sigmoid"))
        return ft_err("--loss-type %s goes with --objective dpo (%s has its own loss)", t, obj);
    if (dpo && o->label_smoothing > 0 && loss_type(o) != LT_ROBUST)
        return ft_err("--label-smoothing goes with --loss-type robust (TRL's DPO applies it there only)");
    if (o->label_smoothing >= 0.5) return ft_err("--label-smoothing must be below 0.5 (got %g)", o->label_smoothing);
    if (!strcmp(obj, "orpo") && o->label_smoothing > 0) return ft_err("--label-smoothing does not apply to orpo");
    if (o->precompute_ref && !dpo)
        return ft_err("--precompute-ref goes with --objective dpo (%s %s)", obj,
                      !strcmp(obj, "kto") ? "compares mismatched pairs of each micro-batch, which a precomputation cannot know" : "has no reference");
    if (!strcmp(obj, "kto") && o->label_smoothing > 0) return ft_err("--label-smoothing does not apply to kto");
    if (!strcmp(obj, "kto") && o->batch < 2)
        return ft_err("--objective kto needs at least 2 sequences per micro-batch for its KL estimate (--batch 2 or more)");
    return 0;
}

void ft_pref_begin(ft_obj_step *st) {
    st->grad_scale = 0;
    st->loss_sum = 0;
    st->n_added = 0;
    memset(st->acc, 0, sizeof st->acc);
}

// log σ(x) and σ(x), stable for any x.
static double log_sigmoid(double x) { return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)); }
static double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }
static double ntok(const ft_obj_rows *r, int i) { return r->ntok && r->ntok[i] ? (double)r->ntok[i] : 1.0; }

// DPO on example k: the loss and dL/d logp_c, dL/d logp_r.
static double dpo_one(const ft_train_opts *o, const ft_obj_rows *r, int k, double *gc, double *gr) {
    int c = 2 * k, j = c + 1;
    double b = o->beta, eps = o->label_smoothing;
    double dc = r->logp[c] - r->ref_logp[c], dr = r->logp[j] - r->ref_logp[j], d = dc - dr, L, g;
    switch (loss_type(o)) {
    case LT_IPO: {
        double nc = ntok(r, c), nr = ntok(r, j), a = dc / nc - dr / nr - 1.0 / (2.0 * b);
        *gc = 2.0 * a / nc;
        *gr = -2.0 * a / nr;
        return a * a;
    }
    case LT_HINGE:
        L = 1.0 - b * d;
        g = L > 0 ? -b : 0.0;
        L = L > 0 ? L : 0.0;
        break;
    case LT_ROBUST:
        L = (-(1.0 - eps) * log_sigmoid(b * d) + eps * log_sigmoid(-b * d)) / (1.0 - 2.0 * eps);
        g = (-(1.0 - eps) * b * sigmoid(-b * d) - eps * b * sigmoid(b * d)) / (1.0 - 2.0 * eps);
        break;
    default:
        L = -log_sigmoid(b * d);
        g = -b * sigmoid(-b * d);
        break;
    }
    *gc = g;
    *gr = -g;
    return L;
}

static int need_pairs(const ft_obj_rows *r) {
    if (r->n % 2) return ft_err("preference objective: %d sequences in a micro-batch (pairs expected)", r->n);
    return 0;
}

int ft_dpo_row_grad(ft_obj_step *st, const ft_obj_rows *r, double *dlogp) {
    if (need_pairs(r)) return -1;
    if (!r->ref_logp) return ft_err("dpo: no reference log-probabilities");
    double s = st->examples ? 1.0 / (double)st->examples : 0.0;
    for (int k = 0; k < r->n / 2; k++) {
        double gc, gr;
        dpo_one(st->o, r, k, &gc, &gr);
        dlogp[2 * k] = gc * s;
        dlogp[2 * k + 1] = gr * s;
    }
    return 0;
}

// The six logged values of one example.
static void add_metrics(ft_obj_step *st, double rc, double rr, double lc, double lr) {
    st->acc[0] += rc;
    st->acc[1] += rr;
    st->acc[2] += rc - rr;
    st->acc[3] += rc > rr ? 1.0 : 0.0;
    st->acc[4] += lc;
    st->acc[5] += lr;
}

void ft_dpo_add(ft_obj_step *st, double xent_sum, const ft_obj_rows *r) {
    (void)xent_sum;
    double b = st->o->beta;
    for (int k = 0; r && r->ref_logp && k < r->n / 2; k++) {
        int c = 2 * k, j = c + 1;
        double gc, gr;
        st->loss_sum += dpo_one(st->o, r, k, &gc, &gr);
        st->n_added++;
        add_metrics(st, b * (r->logp[c] - r->ref_logp[c]), b * (r->logp[j] - r->ref_logp[j]), r->logp[c], r->logp[j]);
    }
}

double ft_pref_end(const ft_obj_step *st, double *metrics) {
    double n = st->n_added > 0 ? st->n_added : 1.0;
    for (int i = 0; i < 6; i++) metrics[i] = st->acc[i] / n;
    return st->n_added > 0 ? st->loss_sum / n : 0.0;
}

// SimPO on example k (TRL CPOTrainer, loss_type simpo): per-token log-probabilities.
static double simpo_one(const ft_train_opts *o, const ft_obj_rows *r, int k, double *gc, double *gr) {
    int c = 2 * k, j = c + 1;
    double b = o->beta, eps = o->label_smoothing, nc = ntok(r, c), nr = ntok(r, j);
    double z = r->logp[c] / nc - r->logp[j] / nr - o->simpo_gamma / b;
    double L = -(1.0 - eps) * log_sigmoid(b * z) - eps * log_sigmoid(-b * z);
    double g = -(1.0 - eps) * b * sigmoid(-b * z) + eps * b * sigmoid(b * z);
    *gc = g / nc;
    *gr = -g / nr;
    return L;
}

int ft_simpo_row_grad(ft_obj_step *st, const ft_obj_rows *r, double *dlogp) {
    if (need_pairs(r)) return -1;
    double s = st->examples ? 1.0 / (double)st->examples : 0.0;
    for (int k = 0; k < r->n / 2; k++) {
        double gc, gr;
        simpo_one(st->o, r, k, &gc, &gr);
        dlogp[2 * k] = gc * s;
        dlogp[2 * k + 1] = gr * s;
    }
    return 0;
}

void ft_simpo_add(ft_obj_step *st, double xent_sum, const ft_obj_rows *r) {
    (void)xent_sum;
    double b = st->o->beta;
    for (int k = 0; r && k < r->n / 2; k++) {
        int c = 2 * k, j = c + 1;
        double gc, gr, ac = r->logp[c] / ntok(r, c), ar = r->logp[j] / ntok(r, j);
        st->loss_sum += simpo_one(st->o, r, k, &gc, &gr);
        st->n_added++;
        add_metrics(st, b * ac, b * ar, ac, ar);
    }
}

// log(1 - e^x) for x < 0 (x = 0 would be a certain side: -inf, as torch's log1mexp).
static double log1mexp(double x) { return x > -M_LN2 ? log(-expm1(x)) : log1p(-exp(x)); }

// ORPO's odds-ratio part of example k: log odds, and d(log odds)/d ac, /d ar.
static double orpo_log_odds(const ft_obj_rows *r, int k, double *dac, double *dar) {
    int c = 2 * k, j = c + 1;
    double ac = r->logp[c] / ntok(r, c), ar = r->logp[j] / ntok(r, j);
    *dac = 1.0 / -expm1(ac);   // d/dx [x - log(1 - e^x)] = 1 / (1 - e^x)
    *dar = -1.0 / -expm1(ar);
    return (ac - ar) - (log1mexp(ac) - log1mexp(ar));
}

// acc[6..8]: nll sum, log σ(log odds) sum, log odds sum; acc[10]: chosen targets seen.
int ft_orpo_row_grad(ft_obj_step *st, const ft_obj_rows *r, double *dlogp) {
    if (need_pairs(r)) return -1;
    double s = st->examples ? 1.0 / (double)st->examples : 0.0, b = st->o->beta;
    double nll = st->first_targets ? 1.0 / (double)st->first_targets : 0.0;
    for (int k = 0; k < r->n / 2; k++) {
        int c = 2 * k, j = c + 1;
        double dac, dar, lo = orpo_log_odds(r, k, &dac, &dar), g = -b * sigmoid(-lo) * s;   // d(-β log σ(lo))/d lo
        dlogp[c] = -nll + g * dac / ntok(r, c);
        dlogp[j] = g * dar / ntok(r, j);
    }
    return 0;
}

void ft_orpo_add(ft_obj_step *st, double xent_sum, const ft_obj_rows *r) {
    (void)xent_sum;
    double b = st->o->beta;
    for (int k = 0; r && k < r->n / 2; k++) {
        int c = 2 * k, j = c + 1;
        double dac, dar, lo = orpo_log_odds(r, k, &dac, &dar), ac = r->logp[c] / ntok(r, c), ar = r->logp[j] / ntok(r, j);
        st->n_added++;
        add_metrics(st, b * ac, b * ar, ac, ar);
        st->acc[6] += -r->logp[c];
        st->acc[7] += log_sigmoid(lo);
        st->acc[8] += lo;
        st->acc[10] += ntok(r, c);
    }
}

double ft_orpo_end(const ft_obj_step *st, double *metrics) {
    double n = st->n_added > 0 ? st->n_added : 1.0;
    ft_pref_end(st, metrics);
    double nll = st->acc[10] > 0 ? st->acc[6] / st->acc[10] : 0.0;
    metrics[6] = nll;
    metrics[7] = st->acc[7] / n;
    metrics[8] = st->acc[8] / n;
    return st->n_added > 0 ? nll - st->o->beta * metrics[7] : 0.0;
}

// KTO: dL/d logp of sequence i (TRL's kto loss; the KL estimate is a constant).
static double kto_one(const ft_train_opts *o, const ft_obj_rows *r, int i, double *g) {
    double b = o->beta, lr = r->logp[i] - r->ref_logp[i];
    if (r->label[i]) {
        double w = o->desirable_weight, s = sigmoid(b * (lr - r->kl));
        *g = -w * b * s * (1.0 - s);
        return w * (1.0 - s);
    }
    double w = o->undesirable_weight, s = sigmoid(b * (r->kl - lr));
    *g = w * b * s * (1.0 - s);
    return w * (1.0 - s);
}

int ft_kto_row_grad(ft_obj_step *st, const ft_obj_rows *r, double *dlogp) {
    if (!r->ref_logp || !r->label) return ft_err("kto: no reference log-probabilities or labels");
    double s = st->examples ? 1.0 / (double)st->examples : 0.0;
    for (int i = 0; i < r->n; i++) {
        double g;
        kto_one(st->o, r, i, &g);
        dlogp[i] = g * s;
    }
    return 0;
}

// acc: 0/1 reward sums (desirable, undesirable), 2/3 their counts, 4/5 logp sums, 6 kl sum, 7 kl count.
void ft_kto_add(ft_obj_step *st, double xent_sum, const ft_obj_rows *r) {
    (void)xent_sum;
    if (!r || !r->ref_logp || !r->label) return;
    for (int i = 0; i < r->n; i++) {
        double g, u = r->label[i] ? 0 : 1;
        st->loss_sum += kto_one(st->o, r, i, &g);
        st->n_added++;
        st->acc[(int)u] += st->o->beta * (r->logp[i] - r->ref_logp[i]);
        st->acc[2 + (int)u] += 1;
        st->acc[4 + (int)u] += r->logp[i];
    }
    st->acc[6] += r->kl;
    st->acc[7] += 1;
}

double ft_kto_end(const ft_obj_step *st, double *metrics) {
    double nc = st->acc[2] > 0 ? st->acc[2] : 1, nr = st->acc[3] > 0 ? st->acc[3] : 1;
    metrics[0] = st->acc[0] / nc;
    metrics[1] = st->acc[1] / nr;
    metrics[2] = metrics[0] - metrics[1];
    metrics[3] = st->acc[4] / nc;
    metrics[4] = st->acc[5] / nr;
    metrics[5] = st->acc[7] > 0 ? st->acc[6] / st->acc[7] : 0;
    return st->n_added > 0 ? st->loss_sum / st->n_added : 0.0;
}
