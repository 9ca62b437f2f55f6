// train.c — the training loop (see train.h): setup, steps with gradient accumulation,
// evaluation, checkpoints, resume, outputs. Options/JSON live in train_opts.c, what is
// trained (the methods) in train_method.c, output files through the kind's save (lib/model/model_save.c for full), the metrics log in train_log.c.
#include "train/train.h"
#include "data/batch.h"
#include "train/ckpt.h"
#include "train/dist.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/lock.h"
#include "core/log.h"
#include "model/model.h"
#include "model/model_backward.h"
#include "train/objective.h"
#include "optim/optim.h"
#include "train/train_log.h"
#include "train/train_method.h"
#include "peft/peft.h"
#include "train/precision.h"
#include "tokenize/tokenizer.h"
#include "core/rng.h"
#include "format/tfevents.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const ft_train_opts *o;
    const ft_objective *obj;    // what the step minimises (lib/train/objective.h)
    ft_model *m;
    ft_trainable tr;            // the method: model, trainable parameters, output
    ft_trainable_dev dev;       // tr on --device: its host staging (dev.ops NULL on the CPU)
    const ft_ops *ops;          // the model's op table: params, grads and optimizer state are its buffers
    float *params, *grads;      // trainable (n,) and their gradients (= tr's)
    size_t n;
    float *stage_m, *stage_v;   // (n) host staging of the optimizer state on a device (checkpoints)
    ft_optim opt;
    ft_sched sched;
    ft_dataset data, val;
    int have_val;
    ft_loader ld;
    ft_batch *mb;               // (G,) micro-batches of one step
    int G, Bm;
    ft_acts acts;
    ft_backward_ws ws;
    long step, total_steps;     // optimizer steps done / planned
    long n_epochs;
    double best_eval;
    long best_step, bad_evals, skipped_nonfinite;
    double tokens_seen, elapsed_before;
    char *ckdir;
    FILE *log;
    ft_tfevents *tb;            // --tensorboard DIR: every log line's scalars, also as events
    ft_lock *lock;              // OUT/.ft-lock, held for the whole run
    int created_out;            // OUT did not exist before this run
    // sequence-level objectives (objective.h row_grad: the preference objectives)
    int seq_level;
    ft_model *ref_m;            // the frozen reference (full fine-tuning without --precompute-ref)
    double *ref_data, *ref_val; // --precompute-ref: the reference's log-probability of every record
    double *logp, *rlogp, *dlogp;  // (seq_cap) per sequence of a micro-batch
    float *gw;                  // (Bm * T) the backward's per-position weights
    uint8_t *lab;               // (seq_cap) kto: the labels of a micro-batch's sequences
    ft_batch klb;               // kto: the mismatched sequences of the KL estimate
    uint32_t *kl_tok;           // (T) one of them being built
    uint8_t *kl_mask;
    double *dist_red;           // dist: (G + 1) the step's sums over the ranks (lib/train/dist.h)
    size_t zlo, zhi;            // dist: the shard of the parameters this rank's optimizer updates ([0, n): all)
    const char *precision;      // "f32" | "bf16" (lib/train/precision.h)
} trainer;

// ---- state <-> JSON ----------------------------------------------------------------------
static char *state_json(const trainer *t, double elapsed) {
    json_t *j = json_object();
    char hex[80];
    json_object_set_new(j, "step", json_integer(t->step));
    json_object_set_new(j, "epoch", json_integer((json_int_t)t->ld.pos.epoch));
    json_object_set_new(j, "cursor", json_integer((json_int_t)t->ld.pos.cursor));
    json_object_set_new(j, "optim_t", json_integer(t->opt.t));
    json_object_set_new(j, "method", json_string(t->tr.name));
    json_object_set_new(j, "precision", json_string(t->precision));
    json_object_set_new(j, "best_eval", isfinite(t->best_eval) ? json_real(t->best_eval) : json_null());
    json_object_set_new(j, "best_step", json_integer(t->best_step));
    json_object_set_new(j, "bad_evals", json_integer(t->bad_evals));
    json_object_set_new(j, "skipped_nonfinite", json_integer(t->skipped_nonfinite));
    json_object_set_new(j, "tokens_seen", json_real(t->tokens_seen));
    json_object_set_new(j, "elapsed_s", json_real(elapsed));
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)t->o->seed);
    json_object_set_new(j, "seed", json_string(hex));
    char *s = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    return s;
}

static long jint(json_t *j, const char *k) { return (long)json_integer_value(json_object_get(j, k)); }

static int state_load(trainer *t, const char *text, const char *dir) {
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) return ft_err("%s/state.json:%d: %s", dir, e.line, e.text);
    const char *method = json_string_value(json_object_get(j, "method"));
    if (!method || ft_peft_kind_by_method(method) != t->tr.kind) {
        json_decref(j);
        return ft_err("%s: checkpoint of method %s, this run is %s", dir, method ? method : "?", t->tr.name);
    }
    t->step = jint(j, "step");
    ft_data_pos pos = {(uint64_t)jint(j, "epoch"), (uint64_t)jint(j, "cursor")};
    t->opt.t = jint(j, "optim_t");
    json_t *be = json_object_get(j, "best_eval");
    t->best_eval = json_is_number(be) ? json_number_value(be) : INFINITY;
    t->best_step = jint(j, "best_step");
    t->bad_evals = jint(j, "bad_evals");
    t->skipped_nonfinite = jint(j, "skipped_nonfinite");
    t->tokens_seen = json_number_value(json_object_get(j, "tokens_seen"));
    t->elapsed_before = json_number_value(json_object_get(j, "elapsed_s"));
    json_decref(j);
    if (ft_loader_seek(&t->ld, pos)) return ft_err_ctx("%s", dir);
    return 0;
}

static int dist_zero_gather(trainer *t, float **m, float **v);
static int zero_on(const trainer *t) { return t->o->zero && ft_dist_size() > 1; }   // dist: ZeRO-1 shards

// On a device the checkpoint is written from the host staging (downloaded here), and read
// back into it, then uploaded.
static int save_ckpt(trainer *t, double elapsed) {
    float *zm = NULL, *zv = NULL;   // dist: ZeRO-1: the ranks' shards of the optimizer state, on rank 0
    if (dist_zero_gather(t, &zm, &zv)) {
        free(zm);
        free(zv);
        return -1;
    }
    if (ft_dist_rank() != 0) return 0;   // dist: rank 0 alone writes
    const float *p = t->params, *m = zm ? zm : t->opt.m, *v = zv ? zv : t->opt.v;
    if (t->dev.ops) {
        size_t bytes = t->n * sizeof(float);
        if (ft_trainable_download(&t->tr, &t->dev) || t->ops->download(t->stage_m, t->opt.m, bytes) ||
            t->ops->download(t->stage_v, t->opt.v, bytes))
            return ft_err_ctx("checkpoint of step %ld", t->step);
        p = t->dev.stage;
        m = t->stage_m;
        v = t->stage_v;
    }
    char *js = state_json(t, elapsed);
    int rc = !js ? ft_err("checkpoint state: out of memory")
                 : ft_ckpt_save(t->ckdir, t->step, p, m, v, t->n, js, (int)t->o->save_total_limit,
                                t->o->early_stop > 0 ? t->best_step : -1);
    free(js);
    free(zm);
    free(zv);
    return rc;
}

// Load checkpoint dir into the parameters and the optimizer state (m, v: NULL = the
// optimizer's own), through the staging on a device.
static int load_ckpt(trainer *t, const char *dir, float *m, float *v, char **js) {
    if (!t->dev.ops) return ft_ckpt_load(dir, t->params, m ? m : t->opt.m, v ? v : t->opt.v, t->n, js);
    size_t bytes = t->n * sizeof(float);
    if (ft_ckpt_load(dir, t->dev.stage, m ? m : t->stage_m, v ? v : t->stage_v, t->n, js)) return -1;
    if (ft_trainable_upload(&t->tr, &t->dev) ||
        (!m && (t->ops->upload(t->opt.m, t->stage_m, bytes) || t->ops->upload(t->opt.v, t->stage_v, bytes))))
        return ft_err_ctx("%s", dir);
    return 0;
}

// ---- data ----------------------------------------------------------------------------------
// Gather the micro-batches of the next step. Returns the count (0 = training is over).
static int gather(trainer *t) {
    int k = 0;
    for (; k < t->G; k++) {
        int rows = ft_loader_fill(&t->ld, &t->mb[k]);
        if (rows == 0 && k == 0) {
            if (t->o->max_steps <= 0 && (long)t->ld.pos.epoch + 1 >= t->n_epochs) return 0;
            ft_loader_next_epoch(&t->ld);
            rows = ft_loader_fill(&t->ld, &t->mb[k]);
        }
        if (rows == 0) break;
        if (ft_loader_epoch_over(&t->ld)) { k++; break; }   // the epoch ended with this micro-batch
    }
    return k;
}

// Prompt/prefix tuning runs one record per row with the virtual tokens in front: no document ids.
static const int32_t *batch_doc(const trainer *t, const ft_batch *b) { return t->tr.n_virtual ? NULL : b->doc; }

// ---- sequence-level objectives ------------------------------------------------------------
// Forward b through m and the summed target log-probability of each of its sequences.
static int seq_logp(trainer *t, ft_model *m, const ft_batch *b, double *out) {
    if (ft_model_forward(m, &t->acts, b->ids, b->pos, batch_doc(t, b), b->rows, b->T)) return -1;
    ft_loss_rows lr = {NULL, b->seq, out, b->n_seq};
    ft_model_loss_rows(m, &t->acts, b->targets, b->mask, b->rows * b->T, &lr);   // non-finite: the step's check
    return 0;
}

// The reference's log-probabilities of b's sequences: precomputed (pre), the frozen copy, or
// the model with the method's parameters switched off (adapter methods).
static int ref_pass(trainer *t, const ft_batch *b, const double *pre, double *out) {
    if (pre) {
        for (int s = 0; s < b->n_seq; s++) out[s] = pre[b->seq_rec[s]];
        return 0;
    }
    if (t->ref_m) return seq_logp(t, t->ref_m, b, out);
    if (ft_trainable_enable(&t->tr, 0)) return -1;
    int rc = seq_logp(t, t->m, b, out);
    if (ft_trainable_enable(&t->tr, 1)) rc = -1;
    return rc;
}

// --precompute-ref: the reference's log-probability of every record of d, once (the method's
// parameters off when it can, else the model as loaded, before any checkpoint is read).
static int precompute_ref(trainer *t, const ft_dataset *d, double **out) {
    if (!(*out = ft_calloc(d->n_rec ? d->n_rec : 1, sizeof **out))) return -1;
    int off = ft_trainable_enable(&t->tr, 0) == 0;
    if (!off) ft_err_clear();
    ft_loader l;
    int rc = ft_loader_init(&l, d, (int)t->o->seq_len, !t->o->no_pack && !t->tr.n_virtual, 0, 0);
    ft_batch *b = &t->mb[0];
    while (!rc && ft_loader_fill(&l, b) > 0) {
        if ((rc = seq_logp(t, t->m, b, t->rlogp))) break;
        for (int s = 0; s < b->n_seq; s++) (*out)[b->seq_rec[s]] = t->rlogp[s];
    }
    ft_loader_free(&l);
    if (off && ft_trainable_enable(&t->tr, 1)) rc = -1;
    return rc ? ft_err_ctx("--precompute-ref on %s", d->name) : 0;
}

static uint64_t first_targets(const ft_batch *b, int per) {
    uint64_t n = 0;
    for (int s = 0; per > 1 && s < b->n_seq; s += per) n += b->seq_targets[s];
    return n;
}

// KTO's KL estimate of micro-batch b (TRL's: each prompt with the completion of the sequence
// before it, cyclically): max(0, mean of policy - reference log-probabilities of those), in
// chunks of the KL batch's rows. The completion starts at a record's first target token.
static int flush_kl(trainer *t, double *sum) {
    if (!t->klb.n_seq) return 0;
    double *pol = t->dlogp, *ref = t->rlogp;   // free until the micro-batch's own passes
    if (seq_logp(t, t->m, &t->klb, pol) || ref_pass(t, &t->klb, NULL, ref)) return -1;
    for (int s = 0; s < t->klb.n_seq; s++) *sum += pol[s] - ref[s];
    ft_batch_clear(&t->klb);
    return 0;
}

static int kl_estimate(trainer *t, const ft_dataset *d, const ft_batch *b, double *kl) {
    int n = b->n_seq, T = (int)t->o->seq_len, pack = !t->o->no_pack && !t->tr.n_virtual;
    double sum = 0;
    ft_batch_clear(&t->klb);
    ft_trainable_prepare(&t->tr, t->o, t->step, -1);   // no dropout in a pass without gradients
    for (int s = 0; s < n; s++) {
        uint32_t a = b->seq_rec[s], c = b->seq_rec[(s + n - 1) % n];
        uint64_t ao = d->off[a], an = d->off[a + 1] - ao, co = d->off[c], cn = d->off[c + 1] - co, pa = 0, pc = 0;
        while (pa < an && !d->mask[ao + pa]) pa++;
        while (pc < cn && !d->mask[co + pc]) pc++;
        uint32_t k = 0;
        for (uint64_t i = 0; i < pa && k < (uint32_t)T; i++, k++) { t->kl_tok[k] = d->tokens[ao + i]; t->kl_mask[k] = 0; }
        for (uint64_t i = pc; i < cn && k < (uint32_t)T; i++, k++) { t->kl_tok[k] = d->tokens[co + i]; t->kl_mask[k] = d->mask[co + i]; }
        if (ft_batch_add(&t->klb, t->kl_tok, t->kl_mask, k, pack, 0)) {
            if (flush_kl(t, &sum)) return -1;
            ft_batch_add(&t->klb, t->kl_tok, t->kl_mask, k, pack, 0);
        }
    }
    if (flush_kl(t, &sum)) return -1;
    *kl = n ? sum / n : 0;
    if (*kl < 0) *kl = 0;
    return 0;
}

// One micro-batch of a sequence-level objective: reference, policy forward, dL/d logp, backward.
// d: the dataset b came from (kto's labels and KL sequences).
static int seq_micro(trainer *t, const ft_dataset *d, ft_obj_step *os, ft_batch *b, int micro) {
    ft_obj_rows rw = {t->logp, t->obj->needs_reference ? t->rlogp : NULL, b->seq_targets, b->n_seq, NULL, 0};
    if (t->obj->labeled) {
        if (kl_estimate(t, d, b, &rw.kl)) return -1;
        for (int s = 0; s < b->n_seq; s++) t->lab[s] = d->label[b->seq_rec[s]];
        rw.label = t->lab;
    }
    if (t->obj->needs_reference && ref_pass(t, b, d == &t->val ? t->ref_val : t->ref_data, t->rlogp)) return -1;
    if (micro < 0) {   // evaluation: the policy's log-probabilities, no gradient
        ft_trainable_prepare(&t->tr, t->o, t->step, -1);
        if (seq_logp(t, t->m, b, t->logp)) return -1;
        t->obj->add(os, 0, &rw);
        return 0;
    }
    ft_trainable_prepare(&t->tr, t->o, t->step, micro);
    if (seq_logp(t, t->m, b, t->logp)) return -1;
    if (t->obj->row_grad(os, &rw, t->dlogp)) return -1;
    size_t N = (size_t)b->rows * b->T;
    for (size_t n = 0; n < N; n++) t->gw[n] = b->mask[n] ? (float)-t->dlogp[b->seq[n]] : 0.0f;
    ft_loss_rows lr = {t->gw, b->seq, NULL, b->n_seq};
    double l = ft_model_backward_rows(t->m, &t->acts, &t->ws, b->ids, batch_doc(t, b), b->targets, b->mask, b->rows, b->T,
                                      t->tr.base_grads, 0.0f, &lr);
    t->obj->add(os, l, &rw);   // a NaN here (out of memory) reaches the step's non-finite check
    return 0;
}

// The objective's loss (and metrics) on --val.
static double evaluate_seq(trainer *t, double *metric) {
    ft_trainable_prepare(&t->tr, t->o, t->step, -1);
    ft_loader vl;
    if (ft_loader_init(&vl, &t->val, (int)t->o->seq_len, !t->o->no_pack && !t->tr.n_virtual, 0, 0)) return NAN;
    ft_obj_step es = {.o = t->o};
    t->obj->begin(&es);
    ft_batch *b = &t->mb[0];
    int rc = 0;
    while (!rc && ft_loader_fill(&vl, b) > 0) rc = seq_micro(t, &t->val, &es, b, -1);
    ft_loader_free(&vl);
    return rc ? NAN : t->obj->end(&es, metric);
}

// ", \"PREFIX%s\": %.6f" for each of the objective's metrics.
static void metric_text(const trainer *t, const char *prefix, const double *metric, char *out, size_t cap) {
    out[0] = 0;
    for (int i = 0, n = 0; i < t->obj->n_metric; i++)
        if ((n += snprintf(out + n, cap - (size_t)n, ", \"%s%s\": %.6f", prefix, t->obj->metric[i], metric[i])) >= (int)cap)
            break;
}

static double evaluate(trainer *t, double *metric) {
    if (t->seq_level) return evaluate_seq(t, metric);
    ft_trainable_prepare(&t->tr, t->o, t->step, -1);
    ft_loader vl;
    if (ft_loader_init(&vl, &t->val, (int)t->o->seq_len, !t->o->no_pack && !t->tr.n_virtual, 0, 0)) return NAN;
    double sum = 0, n = 0;
    ft_batch *b = &t->mb[0];
    for (long j = 0; ft_loader_fill(&vl, b) > 0; j++) {
        if (j % ft_dist_size() != ft_dist_rank()) continue;   // dist: every size-th batch is this rank's
        if (ft_model_forward(t->m, &t->acts, b->ids, b->pos, batch_doc(t, b), b->rows, b->T)) { sum = NAN; break; }
        sum += ft_model_loss(t->m, &t->acts, b->targets, b->mask, b->rows * b->T);
        n += (double)b->n_targets;
    }
    ft_loader_free(&vl);
    double red[2] = {sum, n};   // dist: the sums over the ranks
    if (ft_dist_allreduce_f64(red, 2)) return NAN;
    return red[1] > 0 ? red[0] / red[1] : NAN;
}

// ---- dist: data parallelism (lib/train/dist.h, docs/distributed.md) -------------------------
// ZeRO-1 (--zero 1): after the broadcast every rank keeps the AdamW state of its shard only.
static int dist_zero(trainer *t) {
    t->zlo = 0;
    t->zhi = t->n;
    if (!zero_on(t)) return 0;
    ft_dist_shard(t->n, ft_dist_rank(), ft_dist_size(), &t->zlo, &t->zhi);
    if (ft_dist_zero_optim(&t->opt, t->zlo, t->zhi)) return -1;
    int N = ft_dist_size();
    double *bytes = ft_calloc((size_t)N, sizeof *bytes);   // measured: each rank's moments
    if (!bytes) return -1;
    bytes[ft_dist_rank()] = 2.0 * (double)t->opt.n * sizeof(float);
    if (ft_dist_allreduce_f64(bytes, (size_t)N)) { free(bytes); return -1; }
    char text[256] = "";
    for (int r = 0, k = 0; r < N && k < (int)sizeof text - 40; r++)
        k += snprintf(text + k, sizeof text - (size_t)k, "%s%.0f", r ? ", " : "", bytes[r]);
    ft_log_info(1, "ZeRO-1: AdamW state per rank (bytes): %s; one process: %.0f", text, 2.0 * (double)t->n * sizeof(float));
    free(bytes);
    return 0;
}

// Every rank starts from rank 0's trainable parameters and, after --resume, from its optimizer
// state and data position (rank 0 alone read the checkpoint).
static int dist_start(trainer *t, int resumed) {
    if (ft_dist_size() == 1) return dist_zero(t);
    int32_t r = resumed;
    char *js = NULL;
    int rc = -1;
    if (ft_dist_bcast(&r, sizeof r, 0) || ft_dist_bcast_buf(t->ops, t->params, t->n, 0)) return -1;
    if (!r) return dist_zero(t);
    uint64_t len = 0;
    if (ft_dist_rank() == 0 && (!(js = state_json(t, t->elapsed_before)) || !(len = strlen(js) + 1))) goto out;
    if (ft_dist_bcast(&len, sizeof len, 0) || (ft_dist_rank() && !(js = ft_malloc(len))) || ft_dist_bcast(js, len, 0) ||
        ft_dist_bcast_buf(t->ops, t->opt.m, t->n, 0) || ft_dist_bcast_buf(t->ops, t->opt.v, t->n, 0))
        goto out;
    rc = (ft_dist_rank() && state_load(t, js, "rank 0's checkpoint")) || dist_zero(t) ? -1 : 0;
out:
    free(js);
    return rc;
}

// The step's sums over the ranks: the cross-entropy of each of its k micro-batches
// (t->dist_red[0..k)), a stop request (any rank's) and the gradients (ZeRO-1: this rank's
// shard of them only, reduce-scattered). *stop: stop after the step.
static int dist_reduce(trainer *t, int k, int *stop) {
    t->dist_red[k] = t->o->stop && *t->o->stop;
    if (ft_dist_allreduce_f64(t->dist_red, (size_t)k + 1)) return -1;
    if (zero_on(t) ? ft_dist_reduce_scatter_shards(t->grads, t->n) : ft_dist_allreduce_buf(t->ops, t->grads, t->n))
        return -1;
    *stop = t->dist_red[k] > 0;
    return 0;
}

// The gradients' global norm (ZeRO-1: from the ranks' shards), and clipping to max_norm as
// ft_grad_clip_on does (ZeRO-1: of this rank's shard).
static int dist_grad_norm(trainer *t, double *norm) {
    if (!zero_on(t)) {
        *norm = ft_grad_norm_on(t->ops, t->grads, t->n);
        return 0;
    }
    double ss = t->ops->sumsq(t->grads + t->zlo, t->zhi - t->zlo);
    if (ft_dist_allreduce_f64(&ss, 1)) return -1;
    *norm = sqrt(ss);
    return 0;
}

static void dist_grad_clip(trainer *t, double norm, double max_norm) {
    if (!zero_on(t)) {
        ft_grad_clip_on(t->ops, t->grads, t->n, max_norm);
        return;
    }
    if (max_norm > 0 && isfinite(norm) && max_norm / (norm + 1e-6) < 1.0)
        t->ops->scale(t->grads + t->zlo, (float)(max_norm / (norm + 1e-6)), t->zhi - t->zlo);
}

static int dist_zero_gather(trainer *t, float **m, float **v) {
    *m = *v = NULL;
    if (!zero_on(t)) return 0;
    if (ft_dist_rank() == 0 && (!(*m = ft_malloc(t->n * sizeof(float))) || !(*v = ft_malloc(t->n * sizeof(float))))) return -1;
    return ft_dist_gather_shards(t->opt.m, *m, t->n) || ft_dist_gather_shards(t->opt.v, *v, t->n) ? -1 : 0;
}

// At the end: the ranks' parameters must be the same bits (the same updates of the same sums).
static int dist_check(trainer *t) {
    if (ft_dist_size() == 1) return 0;
    if (ft_trainable_download(&t->tr, &t->dev)) return -1;
    int same = ft_dist_same_u64(ft_hash64(ft_trainable_host_params(&t->tr, &t->dev), t->n * sizeof(float), 0));
    if (same < 0) return -1;
    if (!same) return ft_err("the %d ranks' parameters differ after step %ld: the all-reduce did not give every rank the same sums", ft_dist_size(), t->step);
    return 0;
}

// ---- setup ---------------------------------------------------------------------------------
// A stream that names its tokenizer must match the model's (DESIGN.md §3).
static int check_tokenizer(const ft_model *m, const ft_dataset *d) {
    if (!d->tokenizer_id || !m->tokenizer_path) return 0;
    ft_tokenizer *tok = ft_tokenizer_load(m->tokenizer_path);
    if (!tok) return ft_err_ctx("checking the tokenizer of %s", d->name);
    uint64_t id = ft_tokenizer_id(tok);
    ft_tokenizer_free(tok);
    if (id != d->tokenizer_id)
        return ft_err("%s: tokenized with tokenizer %016llx, but the model's (%s) is %016llx", d->name,
                      (unsigned long long)d->tokenizer_id, m->tokenizer_path, (unsigned long long)id);
    return 0;
}

static int setup(trainer *t, const ft_train_opts *o) {
    memset(t, 0, sizeof *t);
    t->o = o;
    t->best_eval = INFINITY;
    t->best_step = -1;
    const ft_ops *ops = ft_ops_by_name(o->device ? o->device : "cpu");
    if (!ops) return ft_err_ctx("--device %s", o->device);
    if (!(t->obj = ft_objective_find(o->objective ? o->objective : "sft"))) return -1;
    if (t->obj->check && t->obj->check(o)) return -1;
    t->seq_level = t->obj->row_grad != NULL;
    int pairs = t->obj->rows_per_example == 2, kind = pairs ? FT_DATA_PAIRS : t->obj->labeled ? FT_DATA_LABELED : FT_DATA_PLAIN;
    if (t->seq_level && ft_dist_size() > 1)
        return ft_err("--objective %s does not run data-parallel yet (its per-sequence log-probabilities are not "
                      "reduced across ranks): run it as one process, without mpirun", t->obj->name);
    if (t->seq_level && !ops->host_access)
        return ft_err("--objective %s runs on the CPU only in this version (the per-sequence loss head reads host "
                      "memory): drop --device %s", t->obj->name, o->device);
    // one run per output directory, decided before anything is loaded: a second run fails at once
    struct stat sb;
    int writer = ft_dist_rank() == 0;   // dist: rank 0 alone locks and writes OUT
    t->created_out = writer && stat(o->out, &sb) != 0;
    if (writer && !(t->lock = ft_lock_dir(o->out))) return -1;
    const char *why;
    if (ft_trainable_open(&t->tr, o) || !(ops = ft_train_precision(o, ops, t->tr.n, &t->precision, &why))) return -1;
    ft_log_info(1, "precision %s (%s)", t->precision, why);
    if (ft_trainable_to_device(&t->tr, &t->dev, ops, o)) return -1;
    t->m = t->tr.m;
    t->ops = t->m->ops;
    const ft_config *c = &t->m->cfg;
    int T = (int)o->seq_len;
    if (ft_dataset_open(&t->data, o->data, T, kind)) return -1;
    if (t->data.max_token >= (uint32_t)c->vocab_size)
        return ft_err("%s: token id %u is outside the model's vocabulary (%d)", t->data.name, t->data.max_token, c->vocab_size);
    if (o->val) {
        if (ft_dataset_open(&t->val, o->val, T, kind)) return -1;
        if (t->val.max_token >= (uint32_t)c->vocab_size)
            return ft_err("%s: token id %u is outside the model's vocabulary (%d)", t->val.name, t->val.max_token, c->vocab_size);
        t->have_val = 1;
    }
    if (check_tokenizer(t->m, &t->data) || (t->have_val && check_tokenizer(t->m, &t->val))) return -1;
    if (t->data.n_no_target || t->data.n_truncated || t->data.n_empty)
        ft_log_info(1, "%s: %zu records; skipped %zu without target, %zu empty; %zu longer than --seq-len %d truncated",
                    t->data.name, t->data.n_read, t->data.n_no_target, t->data.n_empty, t->data.n_truncated, T);
    int nv = t->tr.n_virtual, pack = !o->no_pack && !nv;
    if (nv && !o->no_pack)
        ft_log_info(1, "%s tuning: one record per row (--no-pack), %d virtual tokens in front of each", t->tr.name, nv);
    if (ft_loader_init(&t->ld, &t->data, T, pack, !o->no_shuffle, (uint64_t)o->seed)) return -1;
    t->Bm = (int)o->batch * (pairs ? 2 : 1);   // pairs: --batch counts pairs, two rows each
    t->G = (int)o->grad_accum;
    if (o->batch_tokens > 0) {
        long per = o->batch * o->seq_len;
        t->G = (int)((o->batch_tokens + per - 1) / per);
    }
    t->n_epochs = o->epochs;
    if (o->max_steps > 0) {
        t->total_steps = o->max_steps;
    } else {
        for (long e = 0; e < o->epochs; e++) {
            // steps never cross an epoch's end: the last one may have fewer micro-batches
            uint64_t mbs = ft_loader_epoch_batches(&t->ld, (uint64_t)e, t->Bm);
            t->total_steps += (long)((mbs + t->G - 1) / t->G);
        }
    }
    t->mb = ft_calloc((size_t)t->G, sizeof *t->mb);
    t->dist_red = ft_calloc((size_t)t->G + 1, sizeof *t->dist_red);
    if (!t->mb || !t->dist_red) return -1;
    for (int k = 0; k < t->G; k++)
        if (ft_batch_alloc(&t->mb[k], t->Bm, T)) return -1;
    if (ft_model_acts_alloc(t->m, &t->acts, t->Bm, T + nv, 1) || ft_model_backward_alloc(t->m, &t->ws, t->Bm, T + nv))
        return -1;
    if (t->seq_level) {
        size_t ns = (size_t)t->mb[0].seq_cap;
        if (!(t->logp = ft_calloc(ns, sizeof *t->logp)) || !(t->rlogp = ft_calloc(ns, sizeof *t->rlogp)) ||
            !(t->dlogp = ft_calloc(ns, sizeof *t->dlogp)) || !(t->gw = ft_calloc((size_t)t->Bm * T, sizeof *t->gw)) ||
            !(t->lab = ft_calloc(ns, 1)))
            return -1;
        if (t->obj->labeled && (ft_batch_alloc(&t->klb, t->Bm, T) || !(t->kl_tok = ft_calloc((size_t)T, sizeof *t->kl_tok)) ||
                                !(t->kl_mask = ft_calloc((size_t)T, 1))))
            return -1;
    }
    if (t->obj->needs_reference) {   // the reference, chosen once (before any checkpoint is loaded)
        const char *how;
        if (o->precompute_ref) {
            if (precompute_ref(t, &t->data, &t->ref_data) || (t->have_val && precompute_ref(t, &t->val, &t->ref_val)))
                return -1;
            how = "precomputed once before training (--precompute-ref)";
        } else if (ft_trainable_enable(&t->tr, 0) == 0) {
            if (ft_trainable_enable(&t->tr, 1)) return -1;
            how = "the base model: the method's parameters switched off for each reference pass";
        } else {
            ft_err_clear();
            if (!(t->ref_m = t->tr.kind->load_base(o->model))) return ft_err_ctx("loading the frozen reference copy");
            how = "a frozen copy of the base model (--precompute-ref: none, computed once instead)";
        }
        ft_log_info(1, "--objective %s: reference = %s", t->obj->name, how);
    }
    // trainable parameters (train_method.c)
    ft_adamw_cfg ac = {(float)o->beta1, (float)o->beta2, (float)o->adam_eps, (float)o->weight_decay};
    t->params = t->tr.params;
    t->grads = t->tr.grads;
    t->n = t->tr.n;
    if (ft_trainable_optim(&t->tr, &t->opt, ac)) return -1;
    if (t->dev.ops && (!(t->stage_m = ft_malloc((t->n ? t->n : 1) * sizeof(float))) ||
                       !(t->stage_v = ft_malloc((t->n ? t->n : 1) * sizeof(float)))))
        return -1;
    t->sched.kind = FT_SCHED_COSINE;
    if (ft_sched_parse(o->schedule, &t->sched.kind)) return -1;
    t->sched.lr = o->lr;
    t->sched.total_steps = t->total_steps;
    t->sched.warmup_steps = ft_sched_resolve_warmup(o->warmup, t->total_steps);
    if (!(t->ckdir = ft_path_join(o->out, "checkpoints"))) return -1;
    int rc, resumed = 0;
    if (o->resume && writer) {   // dist: rank 0 reads the checkpoint, dist_start sends it
        char *skipped = NULL;
        char *dir = ft_ckpt_latest(t->ckdir, t->n, &skipped);
        if (skipped) ft_log_info(1, "ignoring %s", skipped);
        free(skipped);
        if (dir) {
            char *js = NULL;
            rc = load_ckpt(t, dir, NULL, NULL, &js) || state_load(t, js, dir);
            free(js);
            if (!rc) ft_log_info(1, "resuming from %s (step %ld)", dir, t->step);
            resumed = !rc;
            free(dir);
            if (rc) return -1;
        } else {
            ft_log_info(1, "--resume: no checkpoint in %s, starting fresh", t->ckdir);
        }
    }
    if (dist_start(t, resumed)) return -1;
    if (o->log && writer && !(t->log = ft_train_log_open(o->log, o->resume, t->step))) return -1;
    if (o->tensorboard && writer && !(t->tb = ft_tfevents_open(o->tensorboard))) return -1;
    return 0;
}

// failed: a run that fails leaves no OUT it created (when nothing else was written there).
static void teardown(trainer *t, int failed) {
    if (t->log) fclose(t->log);
    ft_tfevents_close(t->tb);
    free(t->ckdir);
    for (int k = 0; t->mb && k < t->G; k++) ft_batch_free(&t->mb[k]);
    free(t->mb);
    free(t->dist_red);
    ft_acts_free(&t->acts);
    ft_backward_free(&t->ws);
    ft_optim_free(&t->opt);
    free(t->stage_m);
    free(t->stage_v);
    ft_loader_free(&t->ld);
    ft_dataset_free(&t->data);
    if (t->have_val) ft_dataset_free(&t->val);
    ft_trainable_release_device(&t->tr, &t->dev);
    ft_trainable_close(&t->tr);
    ft_model_free(t->ref_m);
    free(t->ref_data); free(t->ref_val); free(t->logp); free(t->rlogp); free(t->dlogp); free(t->gw); free(t->lab);
    if (t->klb.ids) ft_batch_free(&t->klb);
    free(t->kl_tok); free(t->kl_mask);
    ft_lock_release(t->lock);
    if (failed && t->created_out && t->o) rmdir(t->o->out);   // only when empty
}

// The method's files, then train_config.json (the effective options) last: its presence says
// that the files beside it are one complete run's. The previous run's config goes first, so a
// failure or a kill while the files are replaced leaves none.
static int write_output(trainer *t) {
    if (ft_dist_rank() != 0) return 0;   // dist: rank 0 alone writes
    char *cp = ft_path_join(t->o->out, "train_config.json"), *cj = NULL;
    int rc = -1;
    if (!cp) return -1;
    if (unlink(cp) != 0 && errno != ENOENT) {
        ft_err("%s: cannot remove the previous run's config: %s", cp, strerror(errno));
        goto out;
    }
    if (ft_trainable_save_staged(&t->tr, &t->dev, t->o->out, t->o->model)) goto out;
    if (t->o->base_name && t->tr.kind->peft_type && ft_peft_set_base_name(t->o->out, t->o->base_name)) goto out;
    ft_train_opts eff = *t->o;   // the precision as resolved
    eff.precision = t->precision;
    if (!(cj = ft_train_opts_json(&eff)) || ft_write_all(cp, cj, strlen(cj))) goto out;
    rc = 0;
out:
    free(cj);
    free(cp);
    return rc;
}

// Load the best checkpoint's weights (early stopping keeps the best model).
static int restore_best(trainer *t) {
    if (ft_dist_rank() != 0) return 0;   // dist: only rank 0 writes the output
    char name[64];
    snprintf(name, sizeof name, "step-%08ld", t->best_step);
    char *dir = ft_path_join(t->ckdir, name);
    if (!dir) return -1;
    float *m = ft_malloc(t->n * sizeof(float)), *v = ft_malloc(t->n * sizeof(float));
    char *js = NULL;
    int rc = (!m || !v) ? -1 : load_ckpt(t, dir, m, v, &js);
    if (!rc) ft_log_info(1, "restored the best checkpoint (step %ld, eval_loss %.4f)", t->best_step, t->best_eval);
    free(js); free(m); free(v); free(dir);
    return rc;
}

// ---- the loop ------------------------------------------------------------------------------
static void log_line(trainer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(trainer *t, const char *fmt, ...) {
    if (!t->log && !t->tb) return;
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (t->log) {
        fprintf(t->log, "%s\n", line);
        fflush(t->log);
    }
    if (t->tb && ft_tfevents_json_line(t->tb, line)) {   // said once; training goes on
        ft_log_info(0, "--tensorboard: %s; no more events are written", ft_errmsg());
        ft_tfevents_close(t->tb);
        t->tb = NULL;
    }
    free(line);
}

static double epoch_frac(const trainer *t) {
    return (double)t->ld.pos.epoch + (double)t->ld.pos.cursor / (double)t->data.n_units;
}

int ft_train_run(const ft_train_opts *o) {
    trainer tr, *t = &tr;
    if (setup(t, o)) {
        char *msg = ft_strdup(ft_errmsg());
        teardown(t, 1);
        ft_err("%s", msg ? msg : "setup failed");
        free(msg);
        return -1;
    }
    char desc[400];
    ft_trainable_describe(&t->tr, o, desc, sizeof desc);
    ft_log_info(1, "%s", desc);
    ft_log_info(1, "%ld steps (%d x %d rows of %ld tokens per step), %s schedule, warmup %ld", t->total_steps, t->G,
                t->Bm, o->seq_len, o->schedule, t->sched.warmup_steps);
    if (ft_dist_size() > 1)   // dist
        ft_log_info(1, "data parallel over %d ranks (%s): each trains its share of every step's rows", ft_dist_size(),
                    ft_dist_backend());
    if (ft_dist_size() > 1 && o->lora_dropout > 0)   // dist: masks are drawn per forward call (per rank's rows)
        ft_log_info(1, "--lora-dropout over %d ranks: where a rank's share starts inside a micro-batch its masks differ "
                    "from one process's (the run stays reproducible for this N)", ft_dist_size());
    int rc = 0, stopped = 0;
    double t0 = ft_now();
    long first_step = t->step;   // > 0 after --resume: the bar's ETA counts this run's steps
    ft_log_progress(FT_PROGRESS_START, "train", 0, (uint64_t)(t->total_steps - first_step), NULL);
    char mtext[FT_OBJ_MAX_METRICS * 56];   // the objective's metrics in a log line
    double metric[FT_OBJ_MAX_METRICS] = {0};
    if (t->step == 0 && t->have_val && o->eval_every > 0) {
        double ev = evaluate(t, metric);
        metric_text(t, "eval_", metric, mtext, sizeof mtext);
        log_line(t, "{\"step\": 0, \"epoch\": 0, \"eval_loss\": %.6f%s}", ev, mtext);
        ft_log_info(1, "step 0: eval_loss %.4f", ev);
    }
    while (t->step < t->total_steps) {
        int k = gather(t);
        if (k == 0) break;
        double st0 = ft_now();
        uint64_t targets = 0, tokens = 0, rows = 0;
        for (int i = 0; i < k; i++) {
            targets += t->mb[i].n_targets;
            tokens += t->mb[i].n_tokens;
            rows += (uint64_t)t->mb[i].rows;
        }
        if (t->ops->zero(t->grads, t->n * sizeof(float))) { rc = -1; break; }
        ft_obj_step os = {.o = o, .targets = targets, .examples = rows / (uint64_t)t->obj->rows_per_example};
        if (t->seq_level) {   // examples = sequences / rows_per_example
            os.examples = 0;
            for (int i = 0; i < k; i++) {
                os.examples += (uint64_t)(t->mb[i].n_seq / t->obj->rows_per_example);
                os.first_targets += first_targets(&t->mb[i], t->obj->rows_per_example);
            }
        }
        t->obj->begin(&os);
        for (int i = 0; i < k && rc == 0 && t->seq_level; i++)
            if (seq_micro(t, &t->data, &os, &t->mb[i], i)) rc = -1;
        uint64_t first = 0;
        for (int i = 0; i < k && rc == 0 && !t->seq_level; i++) {
            ft_batch *b = &t->mb[i];
            int r0, nr;   // dist: this rank's rows [r0, r0 + nr) of the micro-batch (all of it on one rank)
            ft_dist_rows(first, b->rows, rows, t->obj->rows_per_example, ft_dist_rank(), ft_dist_size(), &r0, &nr);
            first += (uint64_t)b->rows;
            t->dist_red[i] = 0;
            if (!nr) continue;
            size_t o0 = (size_t)r0 * (size_t)b->T;
            const int32_t *doc = batch_doc(t, b) ? b->doc + o0 : NULL;
            ft_trainable_prepare(&t->tr, t->o, t->step, i);
            if (ft_model_forward(t->m, &t->acts, b->ids + o0, b->pos + o0, doc, nr, b->T)) { rc = -1; break; }
            t->dist_red[i] = ft_model_backward(t->m, &t->acts, &t->ws, b->ids + o0, doc, b->targets + o0, b->mask + o0,
                                               nr, b->T, t->tr.base_grads, os.grad_scale);
        }
        int stop_req = 0;   // dist: the sums over the ranks, then the objective sees each micro-batch
        if (rc || dist_reduce(t, k, &stop_req)) { rc = -1; break; }
        for (int i = 0; i < k && !t->seq_level; i++) t->obj->add(&os, t->dist_red[i], NULL);
        memset(metric, 0, sizeof metric);
        double loss = t->obj->end(&os, metric);
        double gnorm;   // dist: under ZeRO-1 from the ranks' shards
        if (dist_grad_norm(t, &gnorm)) { rc = -1; break; }
        if (!isfinite(loss) || !isfinite(gnorm)) {
            if (t->skipped_nonfinite < o->skip_nonfinite) {
                t->skipped_nonfinite++;
                ft_log_info(1, "step %ld: non-finite %s, update skipped (%ld of %ld allowed)", t->step + 1,
                            isfinite(loss) ? "gradient" : "loss", t->skipped_nonfinite, o->skip_nonfinite);
                t->step++;
                continue;
            }
            rc = ft_err("step %ld: non-finite %s (loss %g, grad norm %g); no checkpoint written for it%s", t->step + 1,
                        isfinite(loss) ? "gradient" : "loss", loss, gnorm,
                        o->skip_nonfinite ? "" : " (--skip-nonfinite N tolerates N such steps)");
            break;
        }
        dist_grad_clip(t, gnorm, o->clip);
        double lr = ft_sched_lr(&t->sched, t->step);
        // dist: the optimizer updates this rank's shard (all of it without --zero), then the shards are shared
        ft_optim_step(&t->opt, t->params + t->zlo, t->grads + t->zlo, (float)lr);
        if (zero_on(t) && ft_dist_allgather_shards(t->params, t->n)) { rc = -1; break; }
        t->step++;
        t->tokens_seen += (double)tokens;
        double now = ft_now(), dt = now - st0;
        double elapsed = t->elapsed_before + (now - t0);
        double tps = dt > 0 ? (double)tokens / dt : 0;
        metric_text(t, "", metric, mtext, sizeof mtext);   // the objective's metrics, after "loss"
        log_line(t, "{\"step\": %ld, \"epoch\": %.4f, \"loss\": %.6f%s, \"lr\": %.6g, \"grad_norm\": %.6f, \"tokens_per_s\": %.1f, \"elapsed_s\": %.3f}",
                 t->step, epoch_frac(t), loss, mtext, lr, gnorm, tps, elapsed);
        char extra[128];
        snprintf(extra, sizeof extra, "loss %.4f lr %.2e %.0f tok/s", loss, lr, tps);
        ft_log_progress(FT_PROGRESS_UPDATE, "train", (uint64_t)(t->step - first_step), (uint64_t)(t->total_steps - first_step),
                        extra);
        ft_log_info(2, "step %ld: loss %.4f lr %.3g grad_norm %.3f", t->step, loss, lr, gnorm);
        int stop_early = 0, saved = 0;
        if (t->have_val && o->eval_every > 0 && (t->step % o->eval_every == 0 || t->step == t->total_steps)) {
            double ev = evaluate(t, metric);
            metric_text(t, "eval_", metric, mtext, sizeof mtext);
            log_line(t, "{\"step\": %ld, \"epoch\": %.4f, \"eval_loss\": %.6f%s}", t->step, epoch_frac(t), ev, mtext);
            ft_log_info(1, "step %ld: eval_loss %.4f", t->step, ev);
            if (o->early_stop > 0) {
                if (ev < t->best_eval) {
                    t->best_eval = ev;
                    t->best_step = t->step;
                    t->bad_evals = 0;
                    if (save_ckpt(t, elapsed)) { rc = -1; break; }
                    saved = 1;
                } else if (++t->bad_evals >= o->early_stop) {
                    ft_log_info(1, "early stop: eval_loss has not improved for %ld evaluations (best %.4f at step %ld)",
                                t->bad_evals, t->best_eval, t->best_step);
                    stop_early = 1;
                }
            }
        }
        if (!saved && o->save_every > 0 && t->step % o->save_every == 0) {
            if (save_ckpt(t, elapsed)) { rc = -1; break; }
            saved = 1;
        }
        if (stop_req) {
            if (!saved && save_ckpt(t, elapsed)) { rc = -1; break; }
            ft_log_info(1, "stopped by signal after step %ld: checkpoint saved in %s; continue with --resume", t->step, t->ckdir);
            stopped = 1;
            break;
        }
        if (stop_early) break;
    }
    ft_log_progress(FT_PROGRESS_END, "train", (uint64_t)(t->step - first_step), (uint64_t)(t->total_steps - first_step),
                    NULL);
    // a final checkpoint lets a later --resume with more steps continue
    if (rc == 0 && !stopped && o->save_every > 0 && t->step % o->save_every != 0 &&
        save_ckpt(t, t->elapsed_before + ft_now() - t0))
        rc = -1;
    if (rc == 0 && dist_check(t)) rc = -1;
    if (rc == 0 && !stopped && o->early_stop > 0 && t->best_step >= 0 && t->best_step != t->step) rc = restore_best(t);
    if (rc == 0 && write_output(t)) rc = -1;
    if (rc == 0)
        ft_log_info(1, "%s after %ld steps: %s written to %s", stopped ? "stopped" : "done", t->step,
                    t->tr.kind->output, o->out);
    char *msg = rc ? ft_strdup(ft_errmsg()) : NULL;
    teardown(t, rc != 0);
    if (rc) {
        ft_err("%s", msg ? msg : "training failed");
        free(msg);
        return -1;
    }
    return stopped ? 2 : 0;
}
