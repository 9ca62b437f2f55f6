// report.c — ft-report's page (see report.h): finding a run's files, reading the training log
// into series, and the run summary, training curves, data curation and configuration sections.
// The comparisons, gates and generations are report_eval.c's; HTML/Markdown is report_doc.c's.
#include "eval/report.h"
#include "core/err.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "eval/report_int.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void ft_report_defaults(ft_report_opts *o) {
    memset(o, 0, sizeof *o);
    o->title = "ft run report";
    o->samples = 12;
    o->bootstrap = 1000;
    o->seed = 12345;
}

void ft_report_opts_free(ft_report_opts *o) {
    for (int i = 0; i < o->nowned; i++) free(o->owned[i]);
    o->nowned = 0;
}

void rep_num(char *b, size_t n, double v) {
    if (!isfinite(v)) snprintf(b, n, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    else if (fabs(v) >= 1e6 || (v != 0 && fabs(v) < 1e-3)) snprintf(b, n, "%.4g", v);
    else snprintf(b, n, "%.4f", v);
}

void rep_json_num(char *b, size_t n, const json_t *v) {
    if (json_is_integer(v)) snprintf(b, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_number(v)) rep_num(b, n, json_number_value(v));
    else snprintf(b, n, "-");
}

// ---- finding the inputs ----------------------------------------------------------------------
static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

// dir/name when it is a file: kept in o->owned; NULL otherwise (or out of memory: -1 in *err).
static const char *own_if_file(ft_report_opts *o, const char *dir, const char *name, int *err) {
    char *p = ft_path_join(dir, name);
    if (!p) { *err = -1; return NULL; }
    if (!is_file(p) || o->nowned >= FT_REPORT_MAX_OWNED) {
        free(p);
        return NULL;
    }
    o->owned[o->nowned++] = p;
    return p;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int ft_report_find(ft_report_opts *o, const char *dir) {
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, by_name), err = 0;
    if (n < 0) return ft_err("%s: cannot read the run directory", dir);
    if (!o->run_dir) o->run_dir = dir;
    if (!o->log) o->log = own_if_file(o, dir, "train.log.jsonl", &err);
    if (!o->config) o->config = own_if_file(o, dir, "train_config.json", &err);
    if (!o->filter_stats) o->filter_stats = own_if_file(o, dir, "filter.json", &err);
    if (!o->base_gen && !o->tuned_gen) {
        o->base_gen = own_if_file(o, dir, "base.gen.jsonl", &err);
        o->tuned_gen = o->base_gen ? own_if_file(o, dir, "tuned.gen.jsonl", &err) : NULL;
        if (!o->tuned_gen) o->base_gen = NULL;
    }
    int find_pairs = o->npairs == 0;
    for (int i = 0; i < n && !err; i++) {
        const char *e = ents[i]->d_name;
        size_t len = strlen(e);
        if (!o->config && e[0] != '.') {   // one level down: OUT/adapter/train_config.json
            char sub[512];
            snprintf(sub, sizeof sub, "%s/train_config.json", e);
            o->config = own_if_file(o, dir, sub, &err);
        }
        if (!find_pairs || strncmp(e, "base.", 5) || len < 11 || strcmp(e + len - 5, ".json")) continue;
        char tuned[512];
        snprintf(tuned, sizeof tuned, "tuned.%s", e + 5);
        if (o->npairs >= FT_REPORT_MAX_PAIRS) break;
        const char *a = own_if_file(o, dir, e, &err), *b = a ? own_if_file(o, dir, tuned, &err) : NULL;
        if (a && b) {
            o->pairs[o->npairs].base = a;
            o->pairs[o->npairs].tuned = b;
            o->npairs++;
        }
    }
    for (int i = 0; i < n; i++) free(ents[i]);
    free(ents);
    if (err) return -1;
    if (!o->log && !o->config && !o->filter_stats && !o->npairs && !o->base_gen)
        return ft_err("%s: no run files found (train.log.jsonl, train_config.json, filter.json, "
                      "base.*.json with tuned.*.json, base.gen.jsonl with tuned.gen.jsonl)", dir);
    return 0;
}

// ---- the training log ------------------------------------------------------------------------
static rep_series *series(rep_data *r, const char *name) {
    for (int i = 0; i < r->ns; i++)
        if (!strcmp(r->s[i].name, name)) return &r->s[i];
    if (r->ns >= REP_MAX_SERIES || strlen(name) >= sizeof r->s[0].name) return NULL;
    rep_series *s = &r->s[r->ns++];
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

static int push(rep_series *s, double x, double y) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        double *nx = ft_realloc(s->x, cap * sizeof *nx);
        if (!nx) return -1;
        s->x = nx;
        double *ny = ft_realloc(s->y, cap * sizeof *ny);
        if (!ny) return -1;
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
    return 0;
}

static const rep_series *get(const rep_data *r, const char *name) {
    for (int i = 0; i < r->ns; i++)
        if (!strcmp(r->s[i].name, name)) return &r->s[i];
    return NULL;
}

// Every numeric key of every line becomes a series over "step" (which each line must have).
static int load_log(rep_data *r, const char *path) {
    ft_jsonl *j = ft_jsonl_open(path, 0);
    if (!j) return -1;
    json_t *obj;
    int k, rc = 0;
    while (rc == 0 && (k = ft_jsonl_next(j, &obj)) == 1) {
        json_t *st = json_object_get(obj, "step");
        if (!json_is_number(st)) {
            rc = ft_err("%s:%zu: a training log line without a numeric \"step\"", path, ft_jsonl_lineno(j));
        } else {
            const char *key;
            json_t *v;
            json_object_foreach(obj, key, v) {
                if (!strcmp(key, "step") || !json_is_number(v)) continue;
                rep_series *s = series(r, key);
                if (!s) { rc = ft_err("%s:%zu: more than %d metrics (\"%s\")", path, ft_jsonl_lineno(j), REP_MAX_SERIES, key); break; }
                if (push(s, json_number_value(st), json_number_value(v))) { rc = -1; break; }
            }
        }
        json_decref(obj);
    }
    if (rc == 0 && k < 0) rc = -1;
    ft_jsonl_close(j);
    return rc;
}

static int load_json(const char *path, json_t **out) {
    json_error_t e;
    if (!(*out = json_load_file(path, 0, &e))) return ft_err("%s:%d: %s", path, e.line, e.text);
    if (!json_is_object(*out)) return ft_err("%s: expected a JSON object", path);
    return 0;
}

// ---- sections ----------------------------------------------------------------------------------
static void row2(ft_rdoc *d, const char *k, const char *v) {
    const char *c[2] = {k, v};
    rd_row(d, c);
}

static const char *cfg_str(const rep_data *r, const char *key) {
    return r->config ? json_string_value(json_object_get(r->config, key)) : NULL;
}

static double last(const rep_series *s) { return s && s->n ? s->y[s->n - 1] : NAN; }

static void run_section(ft_rdoc *d, const rep_data *r, const ft_report_opts *o) {
    rd_heading(d, 2, "Run", "run");
    static const char *H[2] = {"item", "value"};
    rd_table(d, 2, H, NULL);
    char b[160], x[40], y[40];
    if (o->run_dir) row2(d, "run directory", o->run_dir);
    const char *keys[] = {"method", "objective", "model", "data", "val"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (cfg_str(r, keys[i])) row2(d, keys[i], cfg_str(r, keys[i]));
    const rep_series *loss = get(r, "loss"), *ev = get(r, "eval_loss"), *tps = get(r, "tokens_per_s");
    if (loss && loss->n) {
        snprintf(b, sizeof b, "%.0f", loss->x[loss->n - 1]);
        row2(d, "steps", b);
        rep_num(x, sizeof x, loss->y[0]);
        rep_num(y, sizeof y, last(loss));
        snprintf(b, sizeof b, "%s → %s", x, y);
        row2(d, "train loss (first → last step)", b);
    }
    if (ev && ev->n) {
        rep_num(x, sizeof x, ev->y[0]);
        rep_num(y, sizeof y, last(ev));
        snprintf(b, sizeof b, "%s (step %.0f) → %s (step %.0f)", x, ev->x[0], y, ev->x[ev->n - 1]);
        row2(d, "eval loss", b);
        size_t bi = 0;
        for (size_t i = 1; i < ev->n; i++)
            if (ev->y[i] < ev->y[bi]) bi = i;
        rep_num(x, sizeof x, ev->y[bi]);
        snprintf(b, sizeof b, "%s at step %.0f", x, ev->x[bi]);
        row2(d, "best eval loss", b);
    }
    if (tps && tps->n) {
        double sum = 0;
        for (size_t i = 0; i < tps->n; i++) sum += tps->y[i];
        snprintf(b, sizeof b, "%.1f", sum / (double)tps->n);
        row2(d, "mean tokens/s", b);
    }
    const rep_series *el = get(r, "elapsed_s");
    if (el && el->n) {
        snprintf(b, sizeof b, "%.1f", last(el));
        row2(d, "training time (s)", b);
    }
    rd_table_end(d);
}

static int is_eval_name(const char *n) { return !strncmp(n, "eval_", 5); }

static void curves_section(ft_rdoc *d, const rep_data *r) {
    if (!r->ns) return;
    rd_heading(d, 2, "Training curves", "curves");
    rd_group(d, 1);
    ft_plot_series ls[REP_MAX_SERIES];
    int nl = 0;
    const rep_series *tl = get(r, "loss");   // the training loss first, then every *_loss
    if (tl) ls[nl++] = (ft_plot_series){tl->name, tl->x, tl->y, tl->n, 0};
    for (int i = 0; i < r->ns; i++) {
        const char *n = r->s[i].name;
        size_t len = strlen(n);
        if (!(len > 5 && !strcmp(n + len - 5, "_loss"))) continue;
        ls[nl++] = (ft_plot_series){n, r->s[i].x, r->s[i].y, r->s[i].n, is_eval_name(n)};
    }
    if (nl) {
        ft_plot p = {"Loss", "step", "loss", ls, nl, PLOT_W, PLOT_H};
        rd_plot(d, &p, "loss");
    }
    static const struct { const char *key, *title, *slug; } ONE[] = {
        {"lr", "Learning rate", "lr"}, {"grad_norm", "Gradient norm (before clipping)", "grad_norm"},
        {"tokens_per_s", "Throughput (tokens/s)", "tokens_per_s"}};
    for (size_t k = 0; k < sizeof ONE / sizeof *ONE; k++) {
        const rep_series *s = get(r, ONE[k].key);
        if (!s) continue;
        ft_plot_series ps = {s->name, s->x, s->y, s->n, 0};
        ft_plot p = {ONE[k].title, "step", ONE[k].key, &ps, 1, PLOT_W, PLOT_H};
        rd_plot(d, &p, ONE[k].slug);
    }
    // the objective's own metrics: everything else but the bookkeeping
    for (int i = 0; i < r->ns; i++) {
        const char *n = r->s[i].name;
        size_t len = strlen(n);
        if (!strcmp(n, "loss") || (len > 5 && !strcmp(n + len - 5, "_loss")) || !strcmp(n, "lr") ||
            !strcmp(n, "grad_norm") || !strcmp(n, "tokens_per_s") || !strcmp(n, "epoch") || !strcmp(n, "elapsed_s"))
            continue;
        ft_plot_series ps = {n, r->s[i].x, r->s[i].y, r->s[i].n, is_eval_name(n)};
        ft_plot p = {n, "step", n, &ps, 1, PLOT_W, PLOT_H};
        char slug[64];
        snprintf(slug, sizeof slug, "m%d", i);
        rd_plot(d, &p, slug);
    }
    rd_group(d, 0);
}

static void curation_section(ft_rdoc *d, const rep_data *r) {
    if (!r->filter) return;
    rd_heading(d, 2, "Data curation (ft-filter)", "curation");
    static const char *H[2] = {"count", "value"};
    rd_table(d, 2, H, NULL);
    const char *keys[] = {"records_in", "records_out", "records_val", "tokens_in", "tokens_out", "trained_tokens_out",
                          "truncated"};
    char b[64];
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_t *v = json_object_get(r->filter, keys[i]);
        if (!json_is_number(v)) continue;
        rep_json_num(b, sizeof b, v);
        row2(d, keys[i], b);
    }
    rd_table_end(d);
    json_t *dropped = json_object_get(r->filter, "dropped"), *v;
    const char *k;
    if (json_is_object(dropped)) {
        if (!json_object_size(dropped)) {
            rd_para(d, "No record was dropped.");
        } else {
            static const char *HD[2] = {"dropped because", "records"};
            rd_table(d, 2, HD, NULL);
            json_object_foreach(dropped, k, v) {
                rep_json_num(b, sizeof b, v);
                row2(d, k, b);
            }
            rd_table_end(d);
        }
    }
    json_t *len = json_object_get(r->filter, "length");
    if (json_is_object(len) && json_object_size(len)) {
        const char *unit = json_string_value(json_object_get(r->filter, "length_unit"));
        char title[96];
        snprintf(title, sizeof title, "Record length (%s) of the output", unit ? unit : "tokens");
        rd_para(d, title);
        const char *hd[12], *cells[12];
        char vals[12][40];
        int n = 0;
        json_object_foreach(len, k, v) {
            if (n >= 12) break;
            hd[n] = k;
            rep_json_num(vals[n], sizeof vals[n], v);
            cells[n] = vals[n];
            n++;
        }
        rd_table(d, n, hd, NULL);
        rd_row(d, cells);
        rd_table_end(d);
    }
    json_t *dd = json_object_get(r->filter, "dedup"), *dc = json_object_get(r->filter, "decontamination");
    if (json_is_object(dd) || json_is_object(dc)) {
        static const char *HO[2] = {"operation", "settings"};
        rd_table(d, 2, HO, NULL);
        if (json_is_object(dd)) {
            char s[160], t[40];
            rep_json_num(t, sizeof t, json_object_get(dd, "threshold"));
            const char *mode = json_string_value(json_object_get(dd, "mode"));
            snprintf(s, sizeof s, "%s, threshold %s", mode ? mode : "?", t);
            row2(d, "dedup", s);
        }
        if (json_is_object(dc)) {
            char s[160], a[40], e[40];
            rep_json_num(a, sizeof a, json_object_get(dc, "ngram"));
            rep_json_num(e, sizeof e, json_object_get(dc, "eval_items"));
            snprintf(s, sizeof s, "%s-gram overlap with %s eval items", a, e);
            row2(d, "decontamination", s);
        }
        rd_table_end(d);
    }
}

static void config_section(ft_rdoc *d, const rep_data *r, const ft_report_opts *o) {
    if (!r->config) return;
    rd_heading(d, 2, "Configuration (train_config.json)", "config");
    rd_para(d, o->config);
    static const char *H[2] = {"option", "value"};
    rd_table(d, 2, H, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(r->config, k, v) {
        if (json_is_null(v)) continue;
        char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
        row2(d, k, s ? s : json_string_value(v));
        free(s);
    }
    rd_table_end(d);
}

static int render(ft_rdoc *d, const rep_data *r, const ft_report_opts *o) {
    rd_begin(d, o->title);
    run_section(d, r, o);
    curves_section(d, r);
    rep_eval_sections(d, r, o);
    curation_section(d, r);
    config_section(d, r, o);
    rd_para(d, "Written by ft-report from the files named above; every number is read from them.");
    rd_end(d);
    return d->rc;
}

int ft_report_write(const ft_report_opts *o, const char *html, const char *md, int *gates_failed) {
    rep_data r;
    memset(&r, 0, sizeof r);
    int rc = -1;
    ft_writer *wh = NULL, *wm = NULL;
    char *stem = NULL;
    if (o->log && load_log(&r, o->log)) goto out;
    if (o->config && load_json(o->config, &r.config)) goto out;
    if (o->filter_stats && load_json(o->filter_stats, &r.filter)) goto out;
    if (rep_load_eval(&r, o)) goto out;
    if (html) {
        ft_rdoc d = {0};
        if (!(d.w = wh = ft_writer_open(html)) || render(&d, &r, o)) goto out;
    }
    if (md) {
        size_t n = strlen(md);
        if (!(stem = ft_strdup(md))) goto out;
        if (n > 3 && !strcmp(md + n - 3, ".md")) stem[n - 3] = 0;
        ft_rdoc d = {.md = 1, .plot_stem = stem};
        if (!(d.w = wm = ft_writer_open(md)) || render(&d, &r, o)) goto out;
    }
    // both pages are complete: put them in place
    rc = 0;
    if (wh) rc |= ft_writer_commit(wh);
    if (wm) rc |= ft_writer_commit(wm);
    wh = wm = NULL;
    *gates_failed = r.gates_failed;
out:
    if (wh) ft_writer_abort(wh);
    if (wm) ft_writer_abort(wm);
    free(stem);
    for (int i = 0; i < r.ns; i++) {
        free(r.s[i].x);
        free(r.s[i].y);
    }
    json_decref(r.config);
    json_decref(r.filter);
    rep_free_eval(&r);
    return rc ? -1 : 0;
}
