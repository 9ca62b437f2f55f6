// train.c — the training loop (see train.h): setup, steps with gradient accumulation,
// evaluation, checkpoints, resume, outputs. Options/JSON live in train_opts.c, what is
// trained (the methods) in train_method.c, output files in train_io.c.
#include "train/train.h"
#include "data/batch.h"
#include "train/ckpt.h"
#include "core/err.h"
#include "core/io.h"
#include "core/lock.h"
#include "core/log.h"
#include "model/model.h"
#include "model/model_backward.h"
#include "train/objective.h"
#include "optim/optim.h"
#include "model/train_io.h"
#include "train/train_method.h"
#include "train/precision.h"
#include "tokenize/tokenizer.h"
#include "core/rng.h"

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
    ft_lock *lock;              // OUT/.ft-lock, held for the whole run
    int created_out;            // OUT did not exist before this run
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

// On a device the checkpoint is written from the host staging (downloaded here), and read
// back into it, then uploaded.
static int save_ckpt(trainer *t, double elapsed) {
    const float *p = t->params, *m = t->opt.m, *v = t->opt.v;
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
    if (!js) return ft_err("checkpoint state: out of memory");
    int rc = ft_ckpt_save(t->ckdir, t->step, p, m, v, t->n, js, (int)t->o->save_total_limit,
                          t->o->early_stop > 0 ? t->best_step : -1);
    free(js);
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
        if (rows < t->mb[k].B) { k++; break; }   // the epoch ended inside this micro-batch
    }
    return k;
}

// Prompt/prefix tuning runs one record per row with the virtual tokens in front: no document ids.
static const int32_t *batch_doc(const trainer *t, const ft_batch *b) { return t->tr.n_virtual ? NULL : b->doc; }

static double evaluate(trainer *t) {
    ft_trainable_prepare(&t->tr, t->o, t->step, -1);
    ft_loader vl;
    if (ft_loader_init(&vl, &t->val, (int)t->o->seq_len, !t->o->no_pack && !t->tr.n_virtual, 0, 0)) return NAN;
    double sum = 0, n = 0;
    ft_batch *b = &t->mb[0];
    while (ft_loader_fill(&vl, b) > 0) {
        if (ft_model_forward(t->m, &t->acts, b->ids, b->pos, batch_doc(t, b), b->rows, b->T)) { sum = NAN; break; }
        sum += ft_model_loss(t->m, &t->acts, b->targets, b->mask, b->rows * b->T);
        n += (double)b->n_targets;
    }
    ft_loader_free(&vl);
    return n > 0 ? sum / n : NAN;
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
    if (t->obj->row_grad || t->obj->needs_reference || t->obj->rows_per_example != 1)
        return ft_err("--objective %s: the step runs token-level objectives only (no per-row pass yet)", t->obj->name);
    // one run per output directory, decided before anything is loaded: a second run fails at once
    struct stat sb;
    t->created_out = stat(o->out, &sb) != 0;
    if (!(t->lock = ft_lock_dir(o->out))) return -1;
    const char *why;
    if (ft_trainable_open(&t->tr, o) || !(ops = ft_train_precision(o, ops, t->tr.n, &t->precision, &why))) return -1;
    ft_log_info(1, "precision %s (%s)", t->precision, why);
    if (ft_trainable_to_device(&t->tr, &t->dev, ops, o)) return -1;
    t->m = t->tr.m;
    t->ops = t->m->ops;
    const ft_config *c = &t->m->cfg;
    int T = (int)o->seq_len;
    if (ft_dataset_load(&t->data, o->data, T)) return -1;
    if (t->data.max_token >= (uint32_t)c->vocab_size)
        return ft_err("%s: token id %u is outside the model's vocabulary (%d)", t->data.name, t->data.max_token, c->vocab_size);
    if (o->val) {
        if (ft_dataset_load(&t->val, o->val, T)) return -1;
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
    t->Bm = (int)o->batch;
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
            uint64_t rows = ft_loader_epoch_rows(&t->ld, (uint64_t)e);
            uint64_t mbs = (rows + t->Bm - 1) / t->Bm;
            t->total_steps += (long)((mbs + t->G - 1) / t->G);
        }
    }
    t->mb = ft_calloc((size_t)t->G, sizeof *t->mb);
    if (!t->mb) return -1;
    for (int k = 0; k < t->G; k++)
        if (ft_batch_alloc(&t->mb[k], t->Bm, T)) return -1;
    if (ft_model_acts_alloc(t->m, &t->acts, t->Bm, T + nv, 1) || ft_model_backward_alloc(t->m, &t->ws, t->Bm, T + nv))
        return -1;
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
    int rc;
    if (o->resume) {
        char *skipped = NULL;
        char *dir = ft_ckpt_latest(t->ckdir, t->n, &skipped);
        if (skipped) ft_log_info(1, "ignoring %s", skipped);
        free(skipped);
        if (dir) {
            char *js = NULL;
            rc = load_ckpt(t, dir, NULL, NULL, &js) || state_load(t, js, dir);
            free(js);
            if (!rc) ft_log_info(1, "resuming from %s (step %ld)", dir, t->step);
            free(dir);
            if (rc) return -1;
        } else {
            ft_log_info(1, "--resume: no checkpoint in %s, starting fresh", t->ckdir);
        }
    }
    if (o->log && !(t->log = ft_train_log_open(o->log, o->resume, t->step))) return -1;
    return 0;
}

// failed: a run that fails leaves no OUT it created (when nothing else was written there).
static void teardown(trainer *t, int failed) {
    if (t->log) fclose(t->log);
    free(t->ckdir);
    for (int k = 0; t->mb && k < t->G; k++) ft_batch_free(&t->mb[k]);
    free(t->mb);
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
    ft_lock_release(t->lock);
    if (failed && t->created_out && t->o) rmdir(t->o->out);   // only when empty
}

// The method's files, then train_config.json (the effective options) last: its presence says
// that the files beside it are one complete run's. The previous run's config goes first, so a
// failure or a kill while the files are replaced leaves none.
static int write_output(trainer *t) {
    char *cp = ft_path_join(t->o->out, "train_config.json"), *cj = NULL;
    int rc = -1;
    if (!cp) return -1;
    if (unlink(cp) != 0 && errno != ENOENT) {
        ft_err("%s: cannot remove the previous run's config: %s", cp, strerror(errno));
        goto out;
    }
    if (ft_trainable_save_staged(&t->tr, &t->dev, t->o->out, t->o->model)) goto out;
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
    if (!t->log) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(t->log, fmt, ap);
    va_end(ap);
    fputc('\n', t->log);
    fflush(t->log);
}

static double epoch_frac(const trainer *t) {
    return (double)t->ld.pos.epoch + (double)t->ld.pos.cursor / (double)t->data.n_rec;
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
    int rc = 0, stopped = 0;
    double t0 = ft_now();
    long first_step = t->step;   // > 0 after --resume: the bar's ETA counts this run's steps
    ft_log_progress(FT_PROGRESS_START, "train", 0, (uint64_t)(t->total_steps - first_step), NULL);
    if (t->step == 0 && t->have_val && o->eval_every > 0) {
        double ev = evaluate(t);
        log_line(t, "{\"step\": 0, \"epoch\": 0, \"eval_loss\": %.6f}", ev);
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
        ft_obj_step os = {.targets = targets, .examples = rows / (uint64_t)t->obj->rows_per_example};
        t->obj->begin(&os);
        for (int i = 0; i < k && rc == 0; i++) {
            ft_batch *b = &t->mb[i];
            const int32_t *doc = batch_doc(t, b);
            ft_trainable_prepare(&t->tr, t->o, t->step, i);
            if (ft_model_forward(t->m, &t->acts, b->ids, b->pos, doc, b->rows, b->T)) { rc = -1; break; }
            double l = ft_model_backward(t->m, &t->acts, &t->ws, b->ids, doc, b->targets, b->mask, b->rows, b->T,
                                         t->tr.base_grads, os.grad_scale);
            t->obj->add(&os, l, NULL, NULL, 0);
        }
        if (rc) break;
        double metric[FT_OBJ_MAX_METRICS] = {0};
        double loss = t->obj->end(&os, metric);
        double gnorm = ft_grad_norm_on(t->ops, t->grads, t->n);
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
        ft_grad_clip_on(t->ops, t->grads, t->n, o->clip);
        double lr = ft_sched_lr(&t->sched, t->step);
        ft_optim_step(&t->opt, t->params, t->grads, (float)lr);
        t->step++;
        t->tokens_seen += (double)tokens;
        double now = ft_now(), dt = now - st0;
        double elapsed = t->elapsed_before + (now - t0);
        double tps = dt > 0 ? (double)tokens / dt : 0;
        char mtext[FT_OBJ_MAX_METRICS * 48] = "";   // the objective's metrics, after "loss"
        for (int i = 0, n = 0; i < t->obj->n_metric; i++)
            if ((n += snprintf(mtext + n, sizeof mtext - (size_t)n, ", \"%s\": %.6f", t->obj->metric[i], metric[i])) >=
                (int)sizeof mtext)
                break;
        log_line(t, "{\"step\": %ld, \"epoch\": %.4f, \"loss\": %.6f%s, \"lr\": %.6g, \"grad_norm\": %.6f, \"tokens_per_s\": %.1f, \"elapsed_s\": %.3f}",
                 t->step, epoch_frac(t), loss, mtext, lr, gnorm, tps, elapsed);
        char extra[128];
        snprintf(extra, sizeof extra, "loss %.4f lr %.2e %.0f tok/s", loss, lr, tps);
        ft_log_progress(FT_PROGRESS_UPDATE, "train", (uint64_t)(t->step - first_step), (uint64_t)(t->total_steps - first_step),
                        extra);
        ft_log_info(2, "step %ld: loss %.4f lr %.3g grad_norm %.3f", t->step, loss, lr, gnorm);
        int stop_early = 0, saved = 0;
        if (t->have_val && o->eval_every > 0 && (t->step % o->eval_every == 0 || t->step == t->total_steps)) {
            double ev = evaluate(t);
            log_line(t, "{\"step\": %ld, \"epoch\": %.4f, \"eval_loss\": %.6f}", t->step, epoch_frac(t), ev);
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
        if (o->stop && *o->stop) {
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
