// report.h — the work behind ft-report: one page about a fine-tuning run, from the files a run
// leaves (the training metrics JSONL, train_config.json, ft-eval reports of the base and the
// tuned model with their per-record files, their generations, ft-filter's --stats JSON), as
// self-contained HTML (inline SVG charts, no script) and a Markdown twin (charts as .svg files
// beside it). Everything is read and checked before anything is written.
#ifndef FT_REPORT_H
#define FT_REPORT_H

#include <stdint.h>

#include "eval/metrics_report.h"

#define FT_REPORT_MAX_PAIRS 8
#define FT_REPORT_MAX_OWNED 32

typedef struct {
    const char *base, *tuned;   // two ft-eval reports of the same data: A = base, B = tuned
} ft_report_pair;

typedef struct {
    const char *title;          // default "ft run report"
    const char *run_dir;        // shown in the header (NULL: none)
    const char *log;            // ft-train --log JSONL
    const char *config;         // train_config.json
    const char *filter_stats;   // ft-filter --stats-out JSON
    ft_report_pair pairs[FT_REPORT_MAX_PAIRS];
    int npairs;
    const char *base_gen, *tuned_gen;   // ft-eval generate outputs, line by line the same prompts
    const ft_gate *gates;       // --min-gain / --max-regression, each checked on the pairs with its metric
    int ngates;
    int samples;                // generations shown (0: 12)
    int bootstrap;              // paired bootstrap resamples of the comparison (ft-eval compare's)
    uint64_t seed;
    char *owned[FT_REPORT_MAX_OWNED];   // paths ft_report_find allocated (ft_report_opts_free)
    int nowned;
} ft_report_opts;

// Defaults (bootstrap 1000, seed 12345: ft-eval compare's).
void ft_report_defaults(ft_report_opts *o);
// Fill the inputs not set yet from a run directory laid out as pipelines/sft.mk leaves it:
// train.log.jsonl, train_config.json (in DIR or one level down, e.g. adapter/), filter.json,
// every base.NAME.json with a tuned.NAME.json (NAME sorted), base.gen.jsonl + tuned.gen.jsonl.
// Finding nothing at all is an error naming DIR.
int ft_report_find(ft_report_opts *o, const char *dir);
void ft_report_opts_free(ft_report_opts *o);

// Write the page: html and/or md (NULL: not written); Markdown charts go to
// "<md without .md>.<chart>.svg". *gates_failed: gates that failed (the page shows them).
// 0, or -1 with a message naming the file (and line) at fault; nothing is left half-written.
int ft_report_write(const ft_report_opts *o, const char *html, const char *md, int *gates_failed);

#endif
