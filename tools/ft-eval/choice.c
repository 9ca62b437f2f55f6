// choice.c — `ft-eval --model M choice DATA.jsonl`: multiple choice by log-likelihood, as
// lm-evaluation-harness scores it: each record {"context","choices":[...],"label"}; every
// choice is scored by the summed log-probability of its tokens after the context (context
// and context+choice encoded separately, trailing context whitespace moved to the choice);
// acc = argmax is the label, acc_norm = argmax of log-likelihood per UTF-8 byte of the choice.
// The scoring is lib/eval/eval_choice.c; here: flags, records, accuracies, bootstrap CIs, reports.
// Under mpirun (a build with MPI, docs/distributed.md) record k is scored by rank k mod N, the
// log-likelihoods are summed over the ranks and rank 0 writes the report.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "eval/eval_choice.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "eval/metrics.h"
#include "model_common.h"
#include "tokenize/tokenizer.h"
#include "train/dist.h"

static const char *PROG = "ft-eval choice";

static void help(void) {
    printf("Usage: ft-eval --model M [--adapter DIR]... choice [OPTIONS] [DATA.jsonl]\n\n"
           "Multiple-choice accuracy by log-likelihood (lm-evaluation-harness style). Each record:\n"
           "  {\"context\": \"Q: ... A:\", \"choices\": [\" yes\", \" no\"], \"label\": 0}\n"
           "Report: {\"records\", \"acc\", \"acc_norm\", \"ci95\"} (0-1); acc_norm divides each\n"
           "log-likelihood by the choice's length in UTF-8 bytes.\n\nOptions:\n"
           "  --context-field F  (default context)   --choices-field F (default choices)\n"
           "  --label-field F    (default label: index of the right choice)\n"
           "  --per-record FILE  per-record log-likelihoods and predictions as JSONL\n"
           "  --bootstrap N      resamples for the 95%% CIs (default 1000, 0: none); --seed N\n"
           "Under `mpirun -np N` (a build with MPI) record k is scored by rank k mod N (DATA must be a\n"
           "file) and rank 0 writes the merged report.\n"
           "%s", ft_eval_common_help);
}

// One record: log-likelihoods into ll[nch] (the scoring is lib/eval/eval_choice.c). -2 bad record.
static int score_record(ft_choice_scorer *sc, const char *ctx, size_t ctx_len, json_t *choices, double *ll) {
    size_t n = json_array_size(choices);
    const char **chs = ft_malloc(n * sizeof *chs);
    size_t *lens = ft_malloc(n * sizeof *lens);
    int rc = -1;
    if (chs && lens) {
        for (size_t k = 0; k < n; k++) {
            chs[k] = json_string_value(json_array_get(choices, k));
            lens[k] = json_string_length(json_array_get(choices, k));
        }
        rc = ft_choice_score(sc, ctx, ctx_len, chs, lens, n, ll);
    }
    free(chs);
    free(lens);
    return rc;
}

static size_t argmax(const double *v, size_t n) {
    size_t b = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

int ft_eval_choice(int argc, char **argv) {
    ft_eval_common co = {0};
    const char *input = NULL, *per_path = NULL, *f_ctx = "context", *f_ch = "choices", *f_lab = "label";
    long boot = 1000;
    uint64_t seed = 12345;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = ft_eval_common_opt(&co, PROG, argc, argv, &i);
        if (c < 0) return FT_EXIT_USAGE;
        if (c) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { help(); return 0; }
        if (!strcmp(a, "--version")) { ft_cli_version("ft-eval"); return 0; }
        int val = !strcmp(a, "--per-record") || !strcmp(a, "--bootstrap") || !strcmp(a, "--seed") ||
                  !strcmp(a, "--context-field") || !strcmp(a, "--choices-field") || !strcmp(a, "--label-field");
        if (val && i + 1 >= argc) return ft_cli_usage(PROG, "option %s needs a value", a);
        if (!strcmp(a, "--per-record")) per_path = argv[++i];
        else if (!strcmp(a, "--context-field")) f_ctx = argv[++i];
        else if (!strcmp(a, "--choices-field")) f_ch = argv[++i];
        else if (!strcmp(a, "--label-field")) f_lab = argv[++i];
        else if (!strcmp(a, "--bootstrap")) {
            if (ft_parse_long(a, argv[++i], 0, 1000000, &boot) < 0) return ft_cli_usage(PROG, "%s", ft_errmsg());
        } else if (!strcmp(a, "--seed")) {
            if (ft_parse_u64(a, argv[++i], &seed) < 0) return ft_cli_usage(PROG, "%s", ft_errmsg());
        } else if (a[0] == '-' && a[1]) return ft_cli_usage(PROG, "unknown option '%s'", a);
        else if (input) return ft_cli_usage(PROG, "one input file at most");
        else input = a;
    }
    if (!co.model) return ft_cli_usage(PROG, "--model is required");
    int R = ft_dist_size(), me = ft_dist_rank();   // dist: record k is rank k mod R's
    if (R > 1 && (!input || !strcmp(input, "-")))
        return ft_cli_usage(PROG, "under mpirun every rank reads DATA: give a file, not stdin");
    int rc = FT_EXIT_DATA;
    ft_model *m = NULL;
    ft_tokenizer *tok = NULL;
    ft_choice_scorer *sc = NULL;
    ft_jsonl *j = NULL;
    ft_writer *pw = NULL, *out = NULL;
    json_t *rows = json_array();
    double *acc = NULL, *accn = NULL, *ll = NULL;
    size_t n = 0, cap_rec = 0, cap_ll = 0;
    // every record's choices' log-likelihoods and byte lengths, flat (record i: [off[i], off[i+1])),
    // its label and id: the rows are made once all are known (on every rank after the all-reduce)
    double *llv = NULL, *blen = NULL;
    size_t *off = NULL, *labels = NULL, n_ll = 0, cap_v = 0;
    json_t *ids = json_array();
    if (!(m = ft_eval_open_model(&co))) {
        json_decref(rows);
        json_decref(ids);
        return ft_cli_fail(PROG, FT_EXIT_DATA);
    }
    if (!m->tokenizer_path) { ft_err("%s: the model has no tokenizer", m->path); goto done; }
    if (!(tok = ft_tokenizer_load(m->tokenizer_path))) goto done;
    if (!(sc = ft_choice_scorer_new(m, tok))) goto done;
    if (!(j = ft_jsonl_open(input, 0))) goto done;
    json_t *rec;
    int got;
    ft_progress pr;
    ft_progress_start(&pr, "choice", ft_progress_count_lines(input));
    while ((got = ft_jsonl_next(j, &rec)) != 0) {
        if (got < 0) goto done;
        json_t *cx = json_object_get(rec, f_ctx), *chs = json_object_get(rec, f_ch), *lab = json_object_get(rec, f_lab);
        size_t nch = json_array_size(chs);
        int bad = !json_is_string(cx) ? ft_err("no string field '%s'", f_ctx)
                  : nch < 1 ? ft_err("field '%s' is not a non-empty array", f_ch)
                  : !json_is_integer(lab) || json_integer_value(lab) < 0 || (size_t)json_integer_value(lab) >= nch
                      ? ft_err("field '%s' is not an index into the %zu choices", f_lab, nch)
                      : 0;
        for (size_t k = 0; !bad && k < nch; k++)
            if (!json_is_string(json_array_get(chs, k))) bad = ft_err("%s[%zu] is not a string", f_ch, k);
        if (nch > cap_ll) {
            cap_ll = nch * 2;
            free(ll);
            if (!(ll = ft_malloc(cap_ll * sizeof *ll))) { json_decref(rec); goto done; }
        }
        int mine = n % (size_t)R == (size_t)me;
        int r = bad ? -2 : mine ? score_record(sc, json_string_value(cx), json_string_length(cx), chs, ll) : 0;
        if (r < 0) {
            ft_err_ctx("%s:%zu", ft_jsonl_name(j), ft_jsonl_lineno(j));
            json_decref(rec);
            goto done;
        }
        if (n + 1 >= cap_rec) {
            cap_rec = cap_rec ? cap_rec * 2 : 256;
            size_t *o2 = ft_realloc(off, (cap_rec + 1) * sizeof *o2), *l2 = o2 ? ft_realloc(labels, cap_rec * sizeof *l2) : NULL;
            if (o2) off = o2;
            if (l2) labels = l2;
            if (!o2 || !l2) { json_decref(rec); goto done; }
        }
        if (n_ll + nch > cap_v) {
            cap_v = (n_ll + nch) * 2;
            double *a2 = ft_realloc(llv, cap_v * sizeof *a2), *b2 = a2 ? ft_realloc(blen, cap_v * sizeof *b2) : NULL;
            if (a2) llv = a2;
            if (b2) blen = b2;
            if (!a2 || !b2) { json_decref(rec); goto done; }
        }
        if (n == 0) off[0] = 0;
        for (size_t k = 0; k < nch; k++) {
            llv[n_ll + k] = mine ? ll[k] : 0.0;
            blen[n_ll + k] = (double)json_string_length(json_array_get(chs, k));
        }
        n_ll += nch;
        off[n + 1] = n_ll;
        labels[n] = (size_t)json_integer_value(lab);
        json_t *id = json_object_get(rec, "id");
        json_array_append(ids, id ? id : json_null());
        json_decref(rec);
        n++;
        if (me == 0) ft_progress_update(&pr, n, NULL);
    }
    ft_progress_end(&pr);
    if (R > 1 && ft_dist_allreduce_f64(llv, n_ll) < 0) goto done;   // dist: every record's log-likelihoods
    if (n && (!(acc = ft_malloc(n * sizeof *acc)) || !(accn = ft_malloc(n * sizeof *accn)))) goto done;
    for (size_t i = 0; i < n; i++) {
        const double *lli = llv + off[i];
        size_t nch = off[i + 1] - off[i], label = labels[i], p = argmax(lli, nch);
        for (size_t k = 0; k < nch; k++) ll[k] = lli[k] / (blen[off[i] + k] ? blen[off[i] + k] : 1);
        size_t pn = argmax(ll, nch);
        acc[i] = p == label;
        accn[i] = pn == label;
        json_t *row = json_object(), *lls = json_array(), *id = json_array_get(ids, i);
        json_object_set_new(row, "index", json_integer((json_int_t)i));
        if (!json_is_null(id)) json_object_set(row, "id", id);
        for (size_t k = 0; k < nch; k++) json_array_append_new(lls, json_real(lli[k]));
        json_object_set_new(row, "ll", lls);
        json_object_set_new(row, "label", json_integer((json_int_t)label));
        json_object_set_new(row, "pred", json_integer((json_int_t)p));
        json_object_set_new(row, "pred_norm", json_integer((json_int_t)pn));
        json_object_set_new(row, "acc", json_real(acc[i]));
        json_object_set_new(row, "acc_norm", json_real(accn[i]));
        json_array_append_new(rows, row);
    }
    if (me != 0) {   // dist: rank 0 writes
        rc = 0;
        goto done;
    }
    double sa = 0, sn = 0;
    for (size_t i = 0; i < n; i++) { sa += acc[i]; sn += accn[i]; }
    json_t *rep = json_object();
    json_object_set_new(rep, "records", json_integer((json_int_t)n));
    json_object_set_new(rep, "acc", json_real(n ? sa / (double)n : 0));
    json_object_set_new(rep, "acc_norm", json_real(n ? sn / (double)n : 0));
    if (boot > 0 && n > 0) {
        json_t *ci = json_object();
        double *cols[2] = {acc, accn};
        const char *names[2] = {"acc", "acc_norm"};
        for (int k = 0; k < 2; k++) {
            double lo, hi;
            if (ft_bootstrap_ci(cols[k], n, 1, ft_stat_mean, NULL, (int)boot, seed, &lo, &hi) < 0) {
                json_decref(ci); json_decref(rep);
                goto done;
            }
            json_object_set_new(ci, names[k], json_pack("[f,f]", lo, hi));
        }
        json_object_set_new(rep, "ci95", ci);
        json_object_set_new(rep, "bootstrap", json_pack("{s:i,s:I}", "samples", (int)boot, "seed", (json_int_t)seed));
    }
    if (per_path) {
        size_t i;
        json_t *row;
        if (!(pw = ft_writer_open(per_path))) { json_decref(rep); goto done; }
        json_array_foreach(rows, i, row) {
            char *s = ft_json_dumps(row);
            int e = !s || ft_writer_printf(pw, "%s\n", s) < 0;
            free(s);
            if (e) { json_decref(rep); goto done; }
        }
        json_object_set_new(rep, "per_record", json_string(per_path));
    }
    char *s = json_dumps(rep, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(rep);
    if (!s || !(out = ft_writer_open(co.out)) || ft_writer_printf(out, "%s\n", s) < 0) { free(s); goto done; }
    free(s);
    if (pw) {
        int e = ft_writer_commit(pw);
        pw = NULL;
        if (e < 0) goto done;
    }
    int e = ft_writer_commit(out);
    out = NULL;
    if (e < 0) goto done;
    ft_cli_info(PROG, 2, "%zu records: acc %.4f acc_norm %.4f", n, n ? sa / n : 0, n ? sn / n : 0);
    rc = 0;
done:
    if (rc) ft_cli_fail(PROG, rc);
    if (pw) ft_writer_abort(pw);
    if (out) ft_writer_abort(out);
    if (j) ft_jsonl_close(j);
    json_decref(rows);
    free(acc); free(accn); free(ll);
    free(llv); free(blen); free(off); free(labels);
    json_decref(ids);
    ft_choice_scorer_free(sc);
    if (tok) ft_tokenizer_free(tok);
    ft_eval_close_model(&co, m);
    return rc;
}
