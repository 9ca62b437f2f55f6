// report_int.h — what report.c (inputs, training log, run/curation/config sections) and
// report_eval.c (comparisons, gates, generations) share inside lib/eval.
#ifndef FT_REPORT_INT_H
#define FT_REPORT_INT_H

#include <jansson.h>
#include <stddef.h>

#include "eval/report.h"
#include "eval/report_doc.h"

#define REP_MAX_SERIES 32
#define PLOT_W 530   // two charts side by side on the page
#define PLOT_H 250

typedef struct {
    char name[48];
    double *x, *y;
    size_t n, cap;
} rep_series;

typedef struct {
    rep_series s[REP_MAX_SERIES];
    int ns;
    json_t *config, *filter;
    json_t *rep_a[FT_REPORT_MAX_PAIRS], *rep_b[FT_REPORT_MAX_PAIRS], *cmp[FT_REPORT_MAX_PAIRS];
    json_t *gen_a, *gen_b;      // arrays of the generation records
    json_t *per_a, *per_b;      // per-record scores matching them (or NULL)
    const char *per_metric;     // the per-record metric shown beside the generations
    int gates_failed;
} rep_data;

// Number as a report shows it: %.4f, or %.4g for |v| >= 1e6 or 0 < |v| < 1e-3; an integer
// JSON value as an integer.
void rep_num(char *buf, size_t cap, double v);
void rep_json_num(char *buf, size_t cap, const json_t *v);

int rep_load_eval(rep_data *r, const ft_report_opts *o);
void rep_eval_sections(ft_rdoc *d, const rep_data *r, const ft_report_opts *o);
void rep_free_eval(rep_data *r);

#endif
