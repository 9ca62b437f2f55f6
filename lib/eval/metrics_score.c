// metrics_score.c — ft-eval score's engine: read {"output": ..., "reference": str|[str]}
// records, compute EM/F1/BLEU/chrF/ROUGE per record and over the corpus, 95% bootstrap CIs,
// optional per-record JSONL (with BLEU/chrF sufficient statistics so compare can resample).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "eval/metrics.h"
#include "eval/metrics_report.h"

int ft_score_parse_metrics(const char *list, unsigned *bits) {
    static const struct { const char *name; unsigned bit; } names[] = {
        {"em", FT_M_EM}, {"f1", FT_M_F1}, {"bleu", FT_M_BLEU}, {"chrf", FT_M_CHRF}, {"rouge", FT_M_ROUGE}};
    unsigned b = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        int found = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == l && !strncmp(p, names[i].name, l)) { b |= names[i].bit; found = 1; }
        if (!found) return ft_err("--metrics: unknown metric '%.*s' (em, f1, bleu, chrf, rouge)", (int)l, p);
        p += l + (e ? 1 : 0);
    }
    if (!b) return ft_err("--metrics: empty list");
    *bits = b;
    return 0;
}

typedef struct {
    ft_str pred;
    ft_str *refs;
    int nrefs;
    json_t *id;
} rec;

typedef struct {
    rec *v;
    size_t n, cap;
} recs;

static void rec_free(rec *r) {
    free((char *)r->pred.s);
    for (int k = 0; k < r->nrefs; k++) free((char *)r->refs[k].s);
    free(r->refs);
    json_decref(r->id);
}

static void recs_free(recs *r) {
    for (size_t i = 0; i < r->n; i++) rec_free(&r->v[i]);
    free(r->v);
}

static int copy_str(json_t *s, ft_str *out) {
    size_t n = json_string_length(s);
    char *c = ft_malloc(n + 1);
    if (!c) return -1;
    memcpy(c, json_string_value(s), n);
    c[n] = 0;
    out->s = c;
    out->n = n;
    return 0;
}

// -2: bad record (message set), -1: fatal.
static int parse_rec(const ft_score_opts *o, json_t *obj, rec *r) {
    memset(r, 0, sizeof *r);
    json_t *p = json_object_get(obj, o->pred_field), *ref = json_object_get(obj, o->ref_field);
    if (!p) return ft_err("no field '%s' (the prediction; see --pred-field)", o->pred_field), -2;
    if (!json_is_string(p)) return ft_err("field '%s' is not a string", o->pred_field), -2;
    if (!ref) return ft_err("no field '%s' (the reference; see --ref-field)", o->ref_field), -2;
    size_t nr = json_is_array(ref) ? json_array_size(ref) : 1;
    if (json_is_array(ref)) {
        if (nr == 0) return ft_err("field '%s' is an empty array", o->ref_field), -2;
        for (size_t i = 0; i < nr; i++)
            if (!json_is_string(json_array_get(ref, i)))
                return ft_err("field '%s'[%zu] is not a string", o->ref_field, i), -2;
    } else if (!json_is_string(ref)) {
        return ft_err("field '%s' is neither a string nor an array of strings", o->ref_field), -2;
    }
    if (nr > 100000) return ft_err("field '%s' has too many references", o->ref_field), -2;
    r->refs = ft_calloc(nr, sizeof *r->refs);
    if (!r->refs || copy_str(p, &r->pred) < 0) return -1;
    for (size_t i = 0; i < nr; i++) {
        if (copy_str(json_is_array(ref) ? json_array_get(ref, i) : ref, &r->refs[i]) < 0) return -1;
        r->nrefs++;
    }
    json_t *id = json_object_get(obj, "id");
    if (id) r->id = json_incref(id);
    return 0;
}

static int read_records(const ft_score_opts *o, char **inputs, int ninputs, recs *out, size_t *skipped) {
    for (int f = 0; f < (ninputs ? ninputs : 1); f++) {
        const char *path = ninputs ? inputs[f] : "-";
        ft_jsonl *j = ft_jsonl_open(path, 0);
        if (!j) return -1;
        json_t *obj;
        int rc;
        while ((rc = ft_jsonl_next(j, &obj)) != 0) {
            if (rc == -2) {
                if (o->skip_bad) { (*skipped)++; continue; }
                ft_jsonl_close(j);
                return -1;
            }
            if (rc < 0) { ft_jsonl_close(j); return -1; }
            if (out->n == out->cap) {
                size_t cap = out->cap ? out->cap * 2 : 256;
                rec *v = ft_realloc(out->v, cap * sizeof *v);
                if (!v) { json_decref(obj); ft_jsonl_close(j); return -1; }
                out->v = v;
                out->cap = cap;
            }
            rc = parse_rec(o, obj, &out->v[out->n]);
            json_decref(obj);
            if (rc == 0) { out->n++; continue; }
            rec_free(&out->v[out->n]);
            if (rc == -2 && o->skip_bad) { (*skipped)++; continue; }
            ft_err_ctx("%s:%zu", ft_jsonl_name(j), ft_jsonl_lineno(j));
            ft_jsonl_close(j);
            return -1;
        }
        ft_jsonl_close(j);
    }
    return 0;
}

static double bleu_metric(const double *sum, size_t n, void *ctx) {
    (void)n; (void)ctx;
    return ft_bleu_from_stats(sum, 0, NULL);
}
static double chrf_metric(const double *sum, size_t n, void *ctx) {
    (void)n; (void)ctx;
    return ft_chrf_from_stats(sum);
}

static json_t *jarr_d(const double *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
    return a;
}

// Adds "name": value and ci95.name: [lo, hi] to the report.
static int put_metric(const ft_score_opts *o, json_t *rep, json_t *ci, const char *name, double value,
                      const double *stats, size_t n, size_t dim, ft_stat_metric f) {
    json_object_set_new(rep, name, json_real(value));
    if (o->bootstrap > 0 && n > 0) {
        double lo, hi;
        if (ft_bootstrap_ci(stats, n, dim, f, NULL, o->bootstrap, o->seed, &lo, &hi) < 0) return -1;
        json_t *pair = json_array();
        json_array_append_new(pair, json_real(lo));
        json_array_append_new(pair, json_real(hi));
        json_object_set_new(ci, name, pair);
    }
    return 0;
}

// Per-record scores, records spread over OpenMP threads. Token ids only need to agree within
// a record, so each thread interns into its own BLEU / ROUGE vocabulary.
static int score_all(const ft_score_opts *o, const recs *R, double *em, double *f1, double *bs, double *cs,
                     double *rs) {
    long n = (long)R->n;
    int fail = 0;
    char msg[1024] = "";
#pragma omp parallel
    {
        ft_bleu *bleu = (o->metrics & FT_M_BLEU) ? ft_bleu_new(o->bleu_tok) : NULL;
        ft_rouge *rouge = (o->metrics & FT_M_ROUGE) ? ft_rouge_new(o->rouge_stem) : NULL;
        int ok = !((o->metrics & FT_M_BLEU) && !bleu) && !((o->metrics & FT_M_ROUGE) && !rouge);
        long at = -1;
#pragma omp for schedule(dynamic, 32)
        for (long i = 0; i < n; i++) {
            if (!ok) continue;
            const rec *r = &R->v[i];
            at = i;
            if (((o->metrics & (FT_M_EM | FT_M_F1)) && ft_squad_scores(r->pred, r->refs, r->nrefs, &em[i], &f1[i]) < 0) ||
                (bleu && ft_bleu_segment(bleu, r->pred, r->refs, r->nrefs, bs + i * FT_BLEU_NSTATS) < 0) ||
                ((o->metrics & FT_M_CHRF) && ft_chrf_segment(r->pred, r->refs, r->nrefs, cs + i * FT_CHRF_NSTATS) < 0) ||
                (rouge && ft_rouge_score(rouge, r->pred, r->refs, r->nrefs, rs + i * FT_ROUGE_N) < 0))
                ok = 0;
        }
        if (!ok) {
#pragma omp critical(ft_score_err)
            if (!fail) {
                fail = 1;
                snprintf(msg, sizeof msg, "record %ld: %s", at + 1, ft_errmsg());
            }
        }
        ft_bleu_free(bleu);
        ft_rouge_free(rouge);
    }
    return fail ? ft_err("%s", msg) : 0;
}

int ft_score_run(const ft_score_opts *o, char **inputs, int ninputs, json_t **report, size_t *skipped) {
    recs R = {0};
    *skipped = 0;
    int rc = -1;
    double *em = NULL, *f1 = NULL, *bs = NULL, *cs = NULL, *rs = NULL;
    json_t *rep = NULL;
    ft_writer *w = NULL;
    if (read_records(o, inputs, ninputs, &R, skipped) < 0) goto done;
    size_t n = R.n;
    em = ft_calloc(n + 1, sizeof *em);
    f1 = ft_calloc(n + 1, sizeof *f1);
    bs = ft_calloc((n + 1) * FT_BLEU_NSTATS, sizeof *bs);
    cs = ft_calloc((n + 1) * FT_CHRF_NSTATS, sizeof *cs);
    rs = ft_calloc((n + 1) * FT_ROUGE_N, sizeof *rs);
    if (!em || !f1 || !bs || !cs || !rs) goto done;
    int nrefs = n ? R.v[0].nrefs : 1;
    for (size_t i = 0; i < n; i++)
        if (R.v[i].nrefs != nrefs) nrefs = -1;
    if (score_all(o, &R, em, f1, bs, cs, rs) < 0) goto done;
    rep = json_object();
    json_t *ci = json_object();
    json_object_set_new(rep, "records", json_integer((json_int_t)n));
    double tot_b[FT_BLEU_NSTATS] = {0}, tot_c[FT_CHRF_NSTATS] = {0}, mean[2 + FT_ROUGE_N] = {0};
    for (size_t i = 0; i < n; i++) {
        for (int d = 0; d < FT_BLEU_NSTATS; d++) tot_b[d] += bs[i * FT_BLEU_NSTATS + d];
        for (int d = 0; d < FT_CHRF_NSTATS; d++) tot_c[d] += cs[i * FT_CHRF_NSTATS + d];
        mean[0] += em[i];
        mean[1] += f1[i];
        for (int d = 0; d < FT_ROUGE_N; d++) mean[2 + d] += rs[i * FT_ROUGE_N + d];
    }
    for (int d = 0; d < 2 + FT_ROUGE_N; d++) mean[d] = n ? mean[d] / (double)n : 0.0;
    int bad = 0;
    if (o->metrics & FT_M_EM) bad |= put_metric(o, rep, ci, "em", mean[0], em, n, 1, ft_stat_mean);
    if (o->metrics & FT_M_F1) bad |= put_metric(o, rep, ci, "f1", mean[1], f1, n, 1, ft_stat_mean);
    if (o->metrics & FT_M_BLEU) {
        ft_bleu_result br;
        ft_bleu_from_stats(tot_b, 0, &br);
        bad |= put_metric(o, rep, ci, "bleu", br.score, bs, n, FT_BLEU_NSTATS, bleu_metric);
    }
    if (o->metrics & FT_M_CHRF)
        bad |= put_metric(o, rep, ci, "chrf", ft_chrf_from_stats(tot_c), cs, n, FT_CHRF_NSTATS, chrf_metric);
    if (o->metrics & FT_M_ROUGE) {
        double *col = ft_malloc((n + 1) * sizeof *col);
        if (!col) goto done;
        for (int d = 0; d < FT_ROUGE_N; d++) {
            for (size_t i = 0; i < n; i++) col[i] = rs[i * FT_ROUGE_N + d];
            bad |= put_metric(o, rep, ci, ft_rouge_names[d], mean[2 + d], col, n, 1, ft_stat_mean);
        }
        free(col);
    }
    if (bad) { json_decref(ci); goto done; }
    if (o->bootstrap > 0) json_object_set_new(rep, "ci95", ci);
    else json_decref(ci);
    char sig[160];
    if (o->metrics & FT_M_BLEU) {
        ft_bleu_result br;
        ft_bleu_from_stats(tot_b, 0, &br);
        ft_bleu_signature(sig, sizeof sig, nrefs, o->bleu_tok);
        json_object_set_new(rep, "bleu_signature", json_string(sig));
        json_t *d = json_object();
        json_object_set_new(d, "counts", jarr_d(br.counts, FT_BLEU_ORDER));
        json_object_set_new(d, "totals", jarr_d(br.totals, FT_BLEU_ORDER));
        json_object_set_new(d, "precisions", jarr_d(br.precisions, FT_BLEU_ORDER));
        json_object_set_new(d, "bp", json_real(br.bp));
        json_object_set_new(d, "ratio", json_real(br.ratio));
        json_object_set_new(d, "hyp_len", json_integer((json_int_t)br.hyp_len));
        json_object_set_new(d, "ref_len", json_integer((json_int_t)br.ref_len));
        json_object_set_new(rep, "bleu_detail", d);
    }
    if (o->metrics & FT_M_CHRF) {
        ft_chrf_signature(sig, sizeof sig, nrefs);
        json_object_set_new(rep, "chrf_signature", sig[0] ? json_string(sig) : json_null());
    }
    if (o->metrics & FT_M_ROUGE) json_object_set_new(rep, "rouge_stem", json_boolean(o->rouge_stem));
    if (o->bootstrap > 0) {
        json_t *b = json_object();
        json_object_set_new(b, "samples", json_integer(o->bootstrap));
        json_object_set_new(b, "seed", json_integer((json_int_t)o->seed));
        json_object_set_new(rep, "bootstrap", b);
    }
    if (*skipped) json_object_set_new(rep, "skipped", json_integer((json_int_t)*skipped));
    if (o->per_record) {
        if (!(w = ft_writer_open(o->per_record))) goto done;
        for (size_t i = 0; i < n; i++) {
            json_t *x = json_object();
            json_object_set_new(x, "index", json_integer((json_int_t)i));
            if (R.v[i].id) json_object_set(x, "id", R.v[i].id);
            if (o->metrics & FT_M_EM) json_object_set_new(x, "em", json_real(em[i]));
            if (o->metrics & FT_M_F1) json_object_set_new(x, "f1", json_real(f1[i]));
            if (o->metrics & FT_M_BLEU) {
                json_object_set_new(x, "bleu", json_real(ft_bleu_from_stats(bs + i * FT_BLEU_NSTATS, 1, NULL)));
                json_object_set_new(x, "bleu_stats", jarr_d(bs + i * FT_BLEU_NSTATS, FT_BLEU_NSTATS));
            }
            if (o->metrics & FT_M_CHRF) {
                json_object_set_new(x, "chrf", json_real(ft_chrf_from_stats(cs + i * FT_CHRF_NSTATS)));
                json_object_set_new(x, "chrf_stats", jarr_d(cs + i * FT_CHRF_NSTATS, FT_CHRF_NSTATS));
            }
            if (o->metrics & FT_M_ROUGE)
                for (int d = 0; d < FT_ROUGE_N; d++)
                    json_object_set_new(x, ft_rouge_names[d], json_real(rs[i * FT_ROUGE_N + d]));
            char *line = ft_json_dumps(x);
            json_decref(x);
            if (!line || ft_writer_printf(w, "%s\n", line) < 0) { free(line); goto done; }
            free(line);
        }
        if (ft_writer_commit(w) < 0) { w = NULL; goto done; }
        w = NULL;
        json_object_set_new(rep, "per_record", json_string(o->per_record));
    }
    *report = rep;
    rep = NULL;
    rc = 0;
done:
    if (w) ft_writer_abort(w);
    json_decref(rep);
    recs_free(&R);
    free(em); free(f1); free(bs); free(cs); free(rs);
    return rc;
}
