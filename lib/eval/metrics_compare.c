// metrics_compare.c — ft-eval compare's engine: two reports (score, ppl, choice, judge: any
// flat JSON object of numbers) side by side, deltas, a paired bootstrap 95% CI of B - A from
// the per-record files when both exist, and --max-regression / --min-gain gates.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "eval/metrics.h"
#include "eval/metrics_report.h"

int ft_metric_lower_better(const char *m) {
    size_t n = strlen(m);
    if (!strcmp(m, "loss") || !strcmp(m, "ppl") || !strcmp(m, "perplexity")) return 1;
    return (n > 5 && !strcmp(m + n - 5, "_loss")) || (n > 4 && !strcmp(m + n - 4, "_ppl"));
}

// Keys that describe the run rather than measure the model.
static int info_key(const char *k) {
    static const char *skip[] = {"records", "tokens", "skipped", "n", "seed", "samples", "prompts", "calls", "a_wins", "b_wins", "ties",
                                  "fewshot", "limit"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (!strcmp(k, skip[i])) return 1;
    return 0;
}

int ft_gate_parse(const char *arg, int min_gain, ft_gate *g) {
    const char *eq = strrchr(arg, '=');
    const char *flag = min_gain ? "--min-gain" : "--max-regression";
    if (!eq || eq == arg || !eq[1]) return ft_err("%s: '%s' is not METRIC=X%% or METRIC=X", flag, arg);
    char *end;
    double v = strtod(eq + 1, &end);
    int pct = 0;
    if (*end == '%') { pct = 1; end++; }
    if (end == eq + 1 || *end || !isfinite(v)) return ft_err("%s: '%s': '%s' is not a number", flag, arg, eq + 1);
    g->metric = strndup(arg, (size_t)(eq - arg));
    if (!g->metric) return ft_err("out of memory");
    g->value = v;
    g->percent = pct;
    g->min_gain = min_gain;
    return 0;
}

static json_t *load_report(const char *path) {
    char *data;
    size_t len;
    if (ft_read_all(path, &data, &len) < 0) return NULL;
    json_error_t e;
    json_t *j = json_loadb(data, len, 0, &e);
    free(data);
    if (!j) { ft_err("%s:%d: invalid JSON: %s", path, e.line, e.text); return NULL; }
    if (!json_is_object(j)) { json_decref(j); ft_err("%s: the report is not a JSON object", path); return NULL; }
    return j;
}

// Per-record path: override, else the report's "per_record", resolved next to the report
// when relative and not found as given.
static char *records_path(const char *override, json_t *rep, const char *rep_path) {
    if (override) return ft_strdup(override);
    const char *p = json_string_value(json_object_get(rep, "per_record"));
    if (!p) return NULL;
    if (p[0] == '/' || access(p, R_OK) == 0) return ft_strdup(p);
    const char *slash = strrchr(rep_path, '/');
    if (!slash) return ft_strdup(p);
    size_t dl = (size_t)(slash - rep_path) + 1;
    char *q = ft_malloc(dl + strlen(p) + 1);
    if (!q) return NULL;
    memcpy(q, rep_path, dl);
    strcpy(q + dl, p);
    return q;
}

static double m_bleu(const double *s, size_t n, void *c) { (void)n; (void)c; return ft_bleu_from_stats(s, 0, NULL); }
static double m_chrf(const double *s, size_t n, void *c) { (void)n; (void)c; return ft_chrf_from_stats(s); }
static double m_ratio(const double *s, size_t n, void *c) { (void)n; (void)c; return s[1] ? s[0] / s[1] : 0; }
static double m_expratio(const double *s, size_t n, void *c) { (void)n; (void)c; return s[1] ? exp(s[0] / s[1]) : 0; }

// Per-record statistics of metric m from rows: (n, *dim) matrix and the aggregate; NULL when
// the rows do not carry the metric.
static double *row_stats(json_t *rows, const char *m, size_t *dim, ft_stat_metric *f) {
    size_t n = json_array_size(rows);
    if (n == 0) return NULL;
    char key[256];
    snprintf(key, sizeof key, "%s_stats", m);
    json_t *r0 = json_array_get(rows, 0);
    int mode;   // 0 stats array, 1 mean of m, 2 token-weighted loss
    if (json_is_array(json_object_get(r0, key)) && (!strcmp(m, "bleu") || !strcmp(m, "chrf"))) {
        mode = 0;
        *dim = json_array_size(json_object_get(r0, key));
        if (*dim != (size_t)(!strcmp(m, "bleu") ? FT_BLEU_NSTATS : FT_CHRF_NSTATS)) return NULL;
        *f = !strcmp(m, "bleu") ? m_bleu : m_chrf;
    } else if ((!strcmp(m, "loss") || !strcmp(m, "ppl")) && json_is_number(json_object_get(r0, "loss")) &&
               json_is_number(json_object_get(r0, "tokens"))) {
        mode = 2;
        *dim = 2;
        *f = !strcmp(m, "loss") ? m_ratio : m_expratio;
    } else if (json_is_number(json_object_get(r0, m))) {
        mode = 1;
        *dim = 1;
        *f = ft_stat_mean;
    } else {
        return NULL;
    }
    double *s = ft_calloc(n * *dim, sizeof *s);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(rows, i);
        if (mode == 0) {
            json_t *a = json_object_get(r, key);
            if (json_array_size(a) != *dim) { free(s); return NULL; }
            for (size_t d = 0; d < *dim; d++) s[i * *dim + d] = json_number_value(json_array_get(a, d));
        } else if (mode == 1) {
            json_t *v = json_object_get(r, m);
            if (!json_is_number(v)) { free(s); return NULL; }
            s[i] = json_number_value(v);
        } else {
            double t = json_number_value(json_object_get(r, "tokens"));
            s[2 * i] = json_number_value(json_object_get(r, "loss")) * t;
            s[2 * i + 1] = t;
        }
    }
    return s;
}

static int check_aligned(json_t *ra, json_t *rb, const char *pa, const char *pb) {
    size_t na = json_array_size(ra), nb = json_array_size(rb);
    if (na != nb) return ft_err("per-record files %s and %s have %zu and %zu records: not the same data", pa, pb, na, nb);
    for (size_t i = 0; i < na; i++) {
        json_t *ia = json_object_get(json_array_get(ra, i), "id"), *ib = json_object_get(json_array_get(rb, i), "id");
        if (ia && ib && !json_equal(ia, ib))
            return ft_err("%s:%zu and %s:%zu: ids differ: records are not aligned", pa, i + 1, pb, i + 1);
    }
    return 0;
}

// How much worse B is than A: in % of |A| (pct) or in the metric's units.
static double worse_by(const char *m, double a, double b, int pct) {
    double d = ft_metric_lower_better(m) ? b - a : a - b;
    if (!pct) return d;
    if (a == 0) return d == 0 ? 0 : (d > 0 ? INFINITY : -INFINITY);
    return 100.0 * d / fabs(a);
}

int ft_compare_run(const ft_compare_opts *o, json_t **out, int *failed, char *fail_msg, size_t cap) {
    json_t *A = NULL, *B = NULL, *ra = NULL, *rb = NULL, *res = NULL;
    char *pa = NULL, *pb = NULL;
    int rc = -1;
    *failed = 0;
    if (cap) fail_msg[0] = 0;
    if (!(A = load_report(o->a_path)) || !(B = load_report(o->b_path))) goto done;
    pa = records_path(o->a_records, A, o->a_path);
    pb = records_path(o->b_records, B, o->b_path);
    if (pa && pb) {
        if (!(ra = ft_jsonl_load_all(pa)) || !(rb = ft_jsonl_load_all(pb))) goto done;
        if (check_aligned(ra, rb, pa, pb) < 0) goto done;
    }
    res = json_object();
    json_object_set_new(res, "a", json_string(o->a_path));
    json_object_set_new(res, "b", json_string(o->b_path));
    json_t *ms = json_array();
    json_object_set_new(res, "metrics", ms);
    const char *k;
    json_t *va;
    json_object_foreach(A, k, va) {
        json_t *vb = json_object_get(B, k);
        if (!json_is_number(va) || !json_is_number(vb) || info_key(k)) continue;
        double a = json_number_value(va), b = json_number_value(vb);
        json_t *m = json_object();
        json_object_set_new(m, "metric", json_string(k));
        json_object_set_new(m, "a", json_real(a));
        json_object_set_new(m, "b", json_real(b));
        json_object_set_new(m, "delta", json_real(b - a));
        json_object_set_new(m, "delta_pct", a != 0 ? json_real(100.0 * (b - a) / fabs(a)) : json_null());
        json_object_set_new(m, "lower_is_better", json_boolean(ft_metric_lower_better(k)));
        if (ra && rb) {
            size_t da = 0, db = 0;
            ft_stat_metric fa = NULL, fb = NULL;
            double *sa = row_stats(ra, k, &da, &fa), *sb = row_stats(rb, k, &db, &fb);
            if (sa && sb && da == db && fa == fb && o->bootstrap > 0) {
                double lo, hi;
                if (ft_bootstrap_paired(sa, sb, json_array_size(ra), da, fa, NULL, o->bootstrap, o->seed, &lo, &hi) < 0) {
                    free(sa); free(sb);
                    goto done;
                }
                json_t *ci = json_array();
                json_array_append_new(ci, json_real(lo));
                json_array_append_new(ci, json_real(hi));
                json_object_set_new(m, "ci95", ci);
                json_object_set_new(m, "significant", json_boolean(lo > 0 || hi < 0));
            }
            free(sa);
            free(sb);
        }
        json_array_append_new(ms, m);
    }
    // metrics only one side has (e.g. a score report against a ppl report)
    json_t *only[2] = {json_array(), json_array()};
    json_t *side[2] = {A, B}, *val;
    for (int sd = 0; sd < 2; sd++) {
        json_object_foreach(side[sd], k, val) {
            if (json_is_number(val) && !info_key(k) && !json_is_number(json_object_get(side[1 - sd], k)))
                json_array_append_new(only[sd], json_string(k));
        }
    }
    json_object_set_new(res, "only_in_a", only[0]);
    json_object_set_new(res, "only_in_b", only[1]);
    json_t *gs = json_array();
    json_object_set_new(res, "gates", gs);
    for (int i = 0; i < o->ngates; i++) {
        const ft_gate *g = &o->gates[i];
        char desc[512];
        snprintf(desc, sizeof desc, "%s %s=%g%s", g->min_gain ? "--min-gain" : "--max-regression", g->metric, g->value,
                 g->percent ? "%" : "");
        json_t *va2 = json_object_get(A, g->metric), *vb2 = json_object_get(B, g->metric);
        if (!json_is_number(va2) || !json_is_number(vb2)) {
            ft_err("gate %s: metric '%s' is not a number in %s", desc, g->metric, json_is_number(va2) ? o->b_path : o->a_path);
            goto done;
        }
        double a = json_number_value(va2), b = json_number_value(vb2), w = worse_by(g->metric, a, b, g->percent);
        double slack = 1e-9 * (fabs(g->value) > 1 ? fabs(g->value) : 1);   // 2.0 -> 2.1 is 5%, not 5.000000000000004%
        int ok = g->min_gain ? (-w >= g->value - slack) : (w <= g->value + slack);
        json_t *gj = json_object();
        json_object_set_new(gj, "gate", json_string(desc));
        json_object_set_new(gj, "metric", json_string(g->metric));
        json_object_set_new(gj, g->min_gain ? "gain" : "regression", isfinite(w) ? json_real(g->min_gain ? -w : w) : json_null());
        json_object_set_new(gj, "unit", json_string(g->percent ? "%" : "abs"));
        json_object_set_new(gj, "passed", json_boolean(ok));
        json_array_append_new(gs, gj);
        if (!ok) {
            if (*failed == 0 && cap)
                snprintf(fail_msg, cap, "gate failed: %s: %s went from %.6g to %.6g (%s %.4g%s)", desc, g->metric, a, b,
                         w > 0 ? "worse by" : "better by", fabs(w), g->percent ? "%" : "");
            (*failed)++;
        }
    }
    *out = res;
    res = NULL;
    rc = 0;
done:
    json_decref(A); json_decref(B); json_decref(ra); json_decref(rb); json_decref(res);
    free(pa); free(pb);
    return rc;
}
