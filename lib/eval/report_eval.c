// report_eval.c — ft-report's evaluation sections (see report.h): each base/tuned pair of
// ft-eval reports compared as `ft-eval compare` does (ft_compare_run: paired bootstrap CI of
// tuned - base from the per-record files), the gates and their verdicts, and the generations
// side by side (base, tuned, reference), those whose outputs differ first, the largest
// per-record score change first among them.
#include "core/err.h"
#include "core/jsonl.h"
#include "eval/report_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEXT_MAX 700   // bytes of a generation cell before it is cut (at a character boundary)

static int load_obj(const char *path, json_t **out) {
    json_error_t e;
    if (!(*out = json_load_file(path, 0, &e))) return ft_err("%s:%d: %s", path, e.line, e.text);
    if (!json_is_object(*out)) return ft_err("%s: expected a JSON object (an ft-eval report)", path);
    return 0;
}

static int has_num(json_t *rep, const char *k) { return json_is_number(json_object_get(rep, k)); }

// The report's "per_record" file, as ft-eval compare finds it (as given, else beside the report).
static char *per_record_path(json_t *rep, const char *rep_path) {
    const char *p = json_string_value(json_object_get(rep, "per_record"));
    if (!p) return NULL;
    if (p[0] == '/' || access(p, R_OK) == 0) return ft_strdup(p);
    const char *slash = strrchr(rep_path, '/');
    if (!slash) return ft_strdup(p);
    size_t n = (size_t)(slash - rep_path) + 1 + strlen(p) + 1;
    char *q = ft_malloc(n);
    if (q) snprintf(q, n, "%.*s%s", (int)(slash - rep_path + 1), rep_path, p);
    return q;
}

// Per-record scores of the pair that matches the generations (same number of records).
static int load_per_record(rep_data *r, const ft_report_opts *o) {
    size_t n = json_array_size(r->gen_a);
    for (int i = 0; i < o->npairs; i++) {
        char *pa = per_record_path(r->rep_a[i], o->pairs[i].base), *pb = per_record_path(r->rep_b[i], o->pairs[i].tuned);
        int rc = 0;
        if (pa && pb && access(pa, R_OK) == 0 && access(pb, R_OK) == 0) {
            json_t *a = ft_jsonl_load_all(pa), *b = a ? ft_jsonl_load_all(pb) : NULL;
            if (!a || !b) {
                rc = -1;
            } else if (json_array_size(a) == n && json_array_size(b) == n) {
                static const char *PREF[] = {"f1", "em", "acc", "rougeL", "loss"};
                json_t *a0 = json_array_get(a, 0);
                for (size_t k = 0; k < sizeof PREF / sizeof *PREF && !r->per_metric; k++)
                    if (has_num(a0, PREF[k])) r->per_metric = PREF[k];
                if (r->per_metric) {
                    r->per_a = a;
                    r->per_b = b;
                    a = b = NULL;
                }
            }
            json_decref(a);
            json_decref(b);
        }
        free(pa);
        free(pb);
        if (rc || r->per_a) return rc;
    }
    return 0;
}

int rep_load_eval(rep_data *r, const ft_report_opts *o) {
    for (int i = 0; i < o->npairs; i++)
        if (load_obj(o->pairs[i].base, &r->rep_a[i]) || load_obj(o->pairs[i].tuned, &r->rep_b[i])) return -1;
    // every gate names a metric of at least one pair; it is checked on each pair that has it
    for (int g = 0; g < o->ngates; g++) {
        int found = 0;
        for (int i = 0; i < o->npairs; i++) found |= has_num(r->rep_a[i], o->gates[g].metric) && has_num(r->rep_b[i], o->gates[g].metric);
        if (!found)
            return ft_err("%s %s: no base/tuned pair of reports has the metric '%s'",
                          o->gates[g].min_gain ? "--min-gain" : "--max-regression", o->gates[g].metric, o->gates[g].metric);
    }
    ft_gate *gs = o->ngates ? ft_calloc((size_t)o->ngates, sizeof *gs) : NULL;
    if (o->ngates && !gs) return -1;
    for (int i = 0; i < o->npairs; i++) {
        int ng = 0, failed = 0;
        for (int g = 0; g < o->ngates; g++)
            if (has_num(r->rep_a[i], o->gates[g].metric) && has_num(r->rep_b[i], o->gates[g].metric)) gs[ng++] = o->gates[g];
        ft_compare_opts co = {o->pairs[i].base, o->pairs[i].tuned, NULL, NULL, gs, ng, o->bootstrap, o->seed};
        char msg[512];
        if (ft_compare_run(&co, &r->cmp[i], &failed, msg, sizeof msg)) {
            free(gs);
            return ft_err_ctx("comparing %s with %s", o->pairs[i].base, o->pairs[i].tuned);
        }
        r->gates_failed += failed;
    }
    free(gs);
    if (o->base_gen && o->tuned_gen) {
        if (!(r->gen_a = ft_jsonl_load_all(o->base_gen)) || !(r->gen_b = ft_jsonl_load_all(o->tuned_gen))) return -1;
        size_t na = json_array_size(r->gen_a), nb = json_array_size(r->gen_b);
        if (na != nb)
            return ft_err("%s has %zu records, %s has %zu: the generations must be of the same prompts, line by line",
                          o->base_gen, na, o->tuned_gen, nb);
        for (size_t i = 0; i < na; i++) {
            const char *ia = json_string_value(json_object_get(json_array_get(r->gen_a, i), "id"));
            const char *ib = json_string_value(json_object_get(json_array_get(r->gen_b, i), "id"));
            if (ia && ib && strcmp(ia, ib))
                return ft_err("%s:%zu: id \"%s\", but %s:%zu has id \"%s\": not the same prompts", o->base_gen, i + 1, ia,
                              o->tuned_gen, i + 1, ib);
        }
        if (load_per_record(r, o)) return -1;
    }
    return 0;
}

void rep_free_eval(rep_data *r) {
    for (int i = 0; i < FT_REPORT_MAX_PAIRS; i++) {
        json_decref(r->rep_a[i]);
        json_decref(r->rep_b[i]);
        json_decref(r->cmp[i]);
    }
    json_decref(r->gen_a);
    json_decref(r->gen_b);
    json_decref(r->per_a);
    json_decref(r->per_b);
}

// ---- the comparison tables -------------------------------------------------------------------
static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

// "0.6120 [0.5820, 0.6420]" from a report's value and its own ci95 (when it has one).
static void with_ci(char *b, size_t n, json_t *rep, const char *metric, double v) {
    char x[40], lo[40], hi[40];
    rep_num(x, sizeof x, v);
    json_t *ci = json_object_get(json_object_get(rep, "ci95"), metric);
    if (json_array_size(ci) == 2) {
        rep_num(lo, sizeof lo, json_number_value(json_array_get(ci, 0)));
        rep_num(hi, sizeof hi, json_number_value(json_array_get(ci, 1)));
        snprintf(b, n, "%s [%s, %s]", x, lo, hi);
    } else {
        snprintf(b, n, "%s", x);
    }
}

static void pair_table(ft_rdoc *d, const rep_data *r, const ft_report_opts *o, int i) {
    char title[600];
    json_t *recs = json_object_get(r->rep_a[i], "records");
    snprintf(title, sizeof title, "%s vs %s", base_name(o->pairs[i].base), base_name(o->pairs[i].tuned));
    if (json_is_integer(recs)) snprintf(title + strlen(title), sizeof title - strlen(title), " (%lld records)", (long long)json_integer_value(recs));
    rd_heading(d, 3, title, NULL);
    static const char *H[7] = {"metric", "base [95% CI]", "tuned [95% CI]", "tuned - base", "relative", "95% CI of tuned - base", "better"};
    rd_table(d, 7, H, NULL);
    json_t *m;
    size_t k;
    json_array_foreach(json_object_get(r->cmp[i], "metrics"), k, m) {
        const char *name = json_string_value(json_object_get(m, "metric"));
        double a = json_number_value(json_object_get(m, "a")), b = json_number_value(json_object_get(m, "b"));
        double dv = json_number_value(json_object_get(m, "delta"));
        char ca[100], cb[100], cd[40], rel[40] = "-", ci[100] = "-";
        with_ci(ca, sizeof ca, r->rep_a[i], name, a);
        with_ci(cb, sizeof cb, r->rep_b[i], name, b);
        rep_num(cd, sizeof cd, dv);
        if (dv >= 0) { memmove(cd + 1, cd, strlen(cd) + 1); cd[0] = '+'; }
        json_t *p = json_object_get(m, "delta_pct"), *c = json_object_get(m, "ci95");
        if (json_is_number(p)) snprintf(rel, sizeof rel, "%+.2f%%", json_number_value(p));
        if (json_array_size(c) == 2) {
            char lo[40], hi[40];
            rep_num(lo, sizeof lo, json_number_value(json_array_get(c, 0)));
            rep_num(hi, sizeof hi, json_number_value(json_array_get(c, 1)));
            snprintf(ci, sizeof ci, "[%s, %s]%s", lo, hi, json_is_true(json_object_get(m, "significant")) ? " *" : "");
        }
        int lower = json_is_true(json_object_get(m, "lower_is_better"));
        const char *better = dv == 0 ? "=" : (dv < 0) == lower ? "tuned" : "base";
        const char *cells[7] = {name, ca, cb, cd, rel, ci, better};
        rd_row(d, cells);
    }
    rd_table_end(d);
}

static void gates_block(ft_rdoc *d, const rep_data *r, const ft_report_opts *o) {
    if (!o->ngates) return;
    char s[700];
    int n = 0;
    for (int i = 0; i < o->npairs; i++) {
        json_t *g;
        size_t k;
        json_array_foreach(json_object_get(r->cmp[i], "gates"), k, g) {
            int pass = json_is_true(json_object_get(g, "passed"));
            const char *metric = json_string_value(json_object_get(g, "metric"));
            json_t *gain = json_object_get(g, "gain"), *reg = json_object_get(g, "regression");
            const char *unit = json_string_value(json_object_get(g, "unit"));
            char v[40] = "n/a";
            if (json_is_number(gain ? gain : reg)) rep_num(v, sizeof v, json_number_value(gain ? gain : reg));
            snprintf(s, sizeof s, "%s (%s: %s %s%s, on %s)", json_string_value(json_object_get(g, "gate")), metric,
                     gain ? "gain" : "regression", v, unit && !strcmp(unit, "%") ? "%" : "", base_name(o->pairs[i].tuned));
            rd_verdict(d, pass, s);
            n++;
        }
    }
    snprintf(s, sizeof s, r->gates_failed ? "%d of %d gates failed." : "All %d gates passed.", r->gates_failed ? r->gates_failed : n, n);
    rd_para(d, s);
}

// ---- generations -----------------------------------------------------------------------------
static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

// The prompt of a generation record: "prompt", else its segments' text, else its last message.
static char *prompt_of(json_t *rec) {
    if (str(rec, "prompt")) return ft_strdup(str(rec, "prompt"));
    json_t *segs = json_object_get(rec, "segments"), *s, *msgs = json_object_get(rec, "messages");
    size_t i;
    if (json_is_array(segs)) {
        size_t n = 1;
        json_array_foreach(segs, i, s) n += str(s, "text") ? strlen(str(s, "text")) : 0;
        char *p = ft_malloc(n);
        if (!p) return NULL;
        p[0] = 0;
        json_array_foreach(segs, i, s) if (str(s, "text")) strcat(p, str(s, "text"));
        return p;
    }
    const char *last = json_array_size(msgs) ? str(json_array_get(msgs, json_array_size(msgs) - 1), "content") : NULL;
    if (last) return ft_strdup(last);
    return ft_strdup("");
}

// At most TEXT_MAX bytes, cut at a UTF-8 character boundary, "..." when cut.
static char *cut(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    if (n <= TEXT_MAX) return ft_strdup(s);
    size_t k = TEXT_MAX;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    char *p = ft_malloc(k + 4);
    if (p) {
        memcpy(p, s, k);
        memcpy(p + k, "...", 4);
    }
    return p;
}

static const char *ref_of(json_t *rec) {
    json_t *v = json_object_get(rec, "reference");
    if (json_is_array(v)) v = json_array_get(v, 0);
    return json_string_value(v);
}

typedef struct {
    size_t i;
    int differ;
    double change;   // |per-record metric change|, 0 without per-record scores
} gen_order;

static int by_interest(const void *x, const void *y) {
    const gen_order *a = x, *b = y;
    if (a->differ != b->differ) return b->differ - a->differ;
    if (a->change != b->change) return a->change < b->change ? 1 : -1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static double per_val(json_t *rows, size_t i, const char *m) {
    return json_number_value(json_object_get(json_array_get(rows, i), m));
}

static void generations_section(ft_rdoc *d, const rep_data *r, const ft_report_opts *o) {
    size_t n = json_array_size(r->gen_a);
    if (!r->gen_a || !n) return;
    rd_heading(d, 2, "Generations: base vs tuned", "generations");
    gen_order *ord = ft_calloc(n, sizeof *ord);
    if (!ord) { d->rc = -1; return; }
    size_t ndiff = 0;
    for (size_t i = 0; i < n; i++) {
        const char *a = str(json_array_get(r->gen_a, i), "output"), *b = str(json_array_get(r->gen_b, i), "output");
        ord[i].i = i;
        ord[i].differ = !a || !b || strcmp(a, b) != 0;
        ndiff += (size_t)ord[i].differ;
        if (r->per_a) ord[i].change = fabs(per_val(r->per_b, i, r->per_metric) - per_val(r->per_a, i, r->per_metric));
    }
    qsort(ord, n, sizeof *ord, by_interest);
    size_t show = (size_t)(o->samples > 0 ? o->samples : 12);
    if (show > n) show = n;
    char s[400];
    snprintf(s, sizeof s, "%zu of %zu prompts shown; %zu have different base and tuned outputs (shown first%s).", show, n,
             ndiff, r->per_a ? ", the largest per-record score change first" : "");
    rd_para(d, s);
    char mh[64];
    snprintf(mh, sizeof mh, "%s (base → tuned)", r->per_metric ? r->per_metric : "score");
    const char *H[6] = {"#", "prompt", "reference", "base", "tuned", mh};
    int nc = r->per_a ? 6 : 5;
    rd_table(d, nc, H, "long");
    for (size_t k = 0; k < show && !d->rc; k++) {
        size_t i = ord[k].i;
        json_t *ra = json_array_get(r->gen_a, i), *rb = json_array_get(r->gen_b, i);
        char idx[64], sc[100] = "";
        const char *id = str(ra, "id");
        snprintf(idx, sizeof idx, "%zu%s%s", i + 1, id ? " " : "", id ? id : "");
        if (r->per_a) {
            char x[40], y[40];
            rep_num(x, sizeof x, per_val(r->per_a, i, r->per_metric));
            rep_num(y, sizeof y, per_val(r->per_b, i, r->per_metric));
            snprintf(sc, sizeof sc, "%s → %s", x, y);
        }
        char *p = prompt_of(ra), *pc = cut(p), *rc = cut(ref_of(ra)), *ac = cut(str(ra, "output")), *bc = cut(str(rb, "output"));
        const char *cells[6] = {idx, pc, rc, ac, bc, sc};
        if (!pc || !rc || !ac || !bc) d->rc = -1;
        else rd_row(d, cells);
        free(p); free(pc); free(rc); free(ac); free(bc);
    }
    rd_table_end(d);
    free(ord);
}

void rep_eval_sections(ft_rdoc *d, const rep_data *r, const ft_report_opts *o) {
    if (o->npairs) {
        rd_heading(d, 2, "Evaluation: base vs tuned", "evaluation");
        gates_block(d, r, o);
        for (int i = 0; i < o->npairs; i++) pair_table(d, r, o, i);
        rd_para(d, "95% CIs: each model's from its report (bootstrap over records); the difference's from a paired "
                   "bootstrap over the per-record files (ft-eval compare), * when it excludes 0.");
    }
    generations_section(d, r, o);
}
