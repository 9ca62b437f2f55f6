// choice.c — `ft-eval --model M choice DATA.jsonl`: multiple choice by log-likelihood, as
// lm-evaluation-harness scores it: each record {"context","choices":[...],"label"}; every
// choice is scored by the summed log-probability of its tokens after the context (context
// and context+choice encoded separately, trailing context whitespace moved to the choice);
// acc = argmax is the label, acc_norm = argmax of log-likelihood per UTF-8 byte of the choice.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "io.h"
#include "jsonl.h"
#include "metrics.h"
#include "model_common.h"
#include "virtual.h"
#include "tokenizer.h"

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
           "%s", ft_eval_common_help);
}

typedef struct {
    ft_model *m;
    ft_tokenizer *tok;
    ft_acts acts;
    int cap, add_bos;
    int32_t *ids, *tgt;   // (cap)
    uint8_t *msk;         // (cap)
} chooser;

static int encode(chooser *c, const char *s, size_t n, uint32_t **ids, size_t *k) {
    return ft_tokenizer_encode(c->tok, s, n, 0, ids, k);
}

// Log-likelihood of cont (n_cont ids) after ctx (n_ctx ids), left-truncated to the context size.
static int loglik(chooser *c, const uint32_t *ctx, size_t n_ctx, const uint32_t *cont, size_t n_cont, double *ll) {
    int nv = ft_model_n_virtual(c->m);   // prompt/prefix tuning: virtual tokens in front of the row
    int maxT = ft_model_real_ctx(c->m, 1 << 20);
    if (maxT < 1) return ft_err("the %d virtual tokens fill the model's context of %d", nv, c->m->cfg.max_pos);
    if (n_cont + 1 > (size_t)maxT) return ft_err("a choice of %zu tokens does not fit the context of %d", n_cont, maxT);
    size_t T = n_ctx + n_cont, skip = T > (size_t)maxT ? T - (size_t)maxT : 0;
    T -= skip;
    if ((int)T > c->cap) {
        if (c->acts.buf) ft_acts_free(&c->acts);
        memset(&c->acts, 0, sizeof c->acts);
        int cap = (int)T * 2 < maxT ? (int)T * 2 : maxT;
        if (cap < (int)T) cap = (int)T;
        free(c->ids); free(c->tgt); free(c->msk);
        c->ids = ft_malloc((size_t)cap * 4); c->tgt = ft_malloc((size_t)cap * 4); c->msk = ft_malloc((size_t)cap);
        if (!c->ids || !c->tgt || !c->msk || ft_model_acts_alloc(c->m, &c->acts, 1, cap + nv, 0) < 0) { c->cap = 0; return -1; }
        c->cap = cap;
    }
    for (size_t i = 0; i < T; i++) {
        size_t j = i + skip;
        c->ids[i] = (int32_t)(j < n_ctx ? ctx[j] : cont[j - n_ctx]);
    }
    size_t first = n_ctx - skip;   // position of the first choice token
    for (size_t i = 0; i < T; i++) {
        c->tgt[i] = i + 1 < T ? c->ids[i + 1] : 0;
        c->msk[i] = i + 1 < T && i + 1 >= first;
    }
    if (ft_model_forward(c->m, &c->acts, c->ids, NULL, NULL, 1, (int)T) < 0) return -1;
    *ll = -ft_model_loss(c->m, &c->acts, c->tgt, c->msk, (int)T);
    return 0;
}

// One record: log-likelihoods into ll[nch]. -2 bad record.
static int score_record(chooser *c, const char *ctx, size_t ctx_len, json_t *choices, double *ll) {
    size_t keep = ctx_len;
    while (keep > 0 && (ctx[keep - 1] == ' ' || ctx[keep - 1] == '\t' || ctx[keep - 1] == '\n' || ctx[keep - 1] == '\r'))
        keep--;
    uint32_t *cids = NULL, *w = NULL;
    size_t nc = 0, nw = 0;
    int rc = -1;
    if (encode(c, ctx, keep, &cids, &nc) < 0) return -1;
    // BOS when the tokenizer adds one; an empty context starts from EOS (the harness's EOT)
    uint32_t *pre = ft_malloc((nc + 1) * sizeof *pre);
    if (!pre) goto done;
    size_t np = 0;
    if (c->add_bos) pre[np++] = (uint32_t)ft_tokenizer_bos(c->tok);
    memcpy(pre + np, cids, nc * sizeof *pre);
    np += nc;
    if (np == 0) {
        int32_t e = ft_tokenizer_eos(c->tok) >= 0 ? ft_tokenizer_eos(c->tok) : ft_tokenizer_bos(c->tok);
        if (e < 0) { ft_err("empty context and the tokenizer has neither EOS nor BOS"); rc = -2; goto done; }
        pre[np++] = (uint32_t)e;
    }
    for (size_t k = 0; k < json_array_size(choices); k++) {
        const char *ch = json_string_value(json_array_get(choices, k));
        size_t cl = json_string_length(json_array_get(choices, k)), wl = ctx_len + cl;
        char *whole = ft_malloc(wl + 1);
        if (!whole) goto done;
        memcpy(whole, ctx, ctx_len);
        memcpy(whole + ctx_len, ch, cl);
        int e = encode(c, whole, wl, &w, &nw);
        free(whole);
        if (e < 0) goto done;
        if (nw <= nc) { ft_err("choice %zu adds no tokens to the context", k); rc = -2; goto done; }
        if (loglik(c, pre, np, w + nc, nw - nc, &ll[k]) < 0) goto done;
        free(w);
        w = NULL;
    }
    rc = 0;
done:
    free(cids); free(pre); free(w);
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
    int rc = FT_EXIT_DATA;
    chooser c = {0};
    ft_jsonl *j = NULL;
    ft_writer *pw = NULL, *out = NULL;
    json_t *rows = json_array();
    double *acc = NULL, *accn = NULL, *ll = NULL;
    size_t n = 0, cap_rec = 0, cap_ll = 0;
    if (!(c.m = ft_eval_open_model(&co))) return ft_cli_fail(PROG, FT_EXIT_DATA);
    if (!c.m->tokenizer_path) { ft_err("%s: the model has no tokenizer", c.m->path); goto done; }
    if (!(c.tok = ft_tokenizer_load(c.m->tokenizer_path))) goto done;
    c.add_bos = ft_tokenizer_add_bos_default(c.tok) && ft_tokenizer_bos(c.tok) >= 0;
    if (!(j = ft_jsonl_open(input, 0))) goto done;
    json_t *rec;
    int got;
    ft_progress pr;
    ft_progress_start(&pr, "choice", 0);
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
        int r = bad ? -2 : score_record(&c, json_string_value(cx), json_string_length(cx), chs, ll);
        if (r < 0) {
            ft_err_ctx("%s:%zu", ft_jsonl_name(j), ft_jsonl_lineno(j));
            json_decref(rec);
            goto done;
        }
        if (n == cap_rec) {
            cap_rec = cap_rec ? cap_rec * 2 : 256;
            double *a2 = ft_realloc(acc, cap_rec * sizeof *a2);
            if (!a2) { json_decref(rec); goto done; }
            acc = a2;
            double *b2 = ft_realloc(accn, cap_rec * sizeof *b2);
            if (!b2) { json_decref(rec); goto done; }
            accn = b2;
        }
        size_t label = (size_t)json_integer_value(lab), p = argmax(ll, nch);
        double *norm = ft_malloc(nch * sizeof *norm);
        if (!norm) { json_decref(rec); goto done; }
        for (size_t k = 0; k < nch; k++) {
            size_t bytes = json_string_length(json_array_get(chs, k));
            norm[k] = ll[k] / (double)(bytes ? bytes : 1);
        }
        size_t pn = argmax(norm, nch);
        free(norm);
        acc[n] = p == label;
        accn[n] = pn == label;
        json_t *row = json_object(), *lls = json_array();
        json_object_set_new(row, "index", json_integer((json_int_t)n));
        if (json_object_get(rec, "id")) json_object_set(row, "id", json_object_get(rec, "id"));
        for (size_t k = 0; k < nch; k++) json_array_append_new(lls, json_real(ll[k]));
        json_object_set_new(row, "ll", lls);
        json_object_set_new(row, "label", json_integer((json_int_t)label));
        json_object_set_new(row, "pred", json_integer((json_int_t)p));
        json_object_set_new(row, "pred_norm", json_integer((json_int_t)pn));
        json_object_set_new(row, "acc", json_real(acc[n]));
        json_object_set_new(row, "acc_norm", json_real(accn[n]));
        json_array_append_new(rows, row);
        json_decref(rec);
        n++;
        ft_progress_update(&pr, n, NULL);
    }
    ft_progress_end(&pr);
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
    free(c.ids); free(c.tgt); free(c.msk);
    if (c.acts.buf) ft_acts_free(&c.acts);
    if (c.tok) ft_tokenizer_free(c.tok);
    ft_eval_close_model(&co, c.m);
    return rc;
}
