// metrics_report.h — the work behind ft-eval score, compare and judge: read prediction
// records, compute the metrics of metrics.h into a JSON report (layout in docs/ft-eval.md),
// compare two reports with paired bootstrap and gates, and run an external judge program.
#ifndef FT_METRICS_REPORT_H
#define FT_METRICS_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

// ---- score (metrics_score.c) --------------------------------------------------------------
enum { FT_M_EM = 1, FT_M_F1 = 2, FT_M_BLEU = 4, FT_M_CHRF = 8, FT_M_ROUGE = 16 };

typedef struct {
    unsigned metrics;          // FT_M_* bits
    const char *pred_field;    // "output"
    const char *ref_field;     // "reference" (string or array of strings)
    int bleu_tok;              // FT_BLEU_TOK_*
    int rouge_stem;
    int bootstrap;             // resamples for the 95% CIs (0: none)
    uint64_t seed;
    int skip_bad;
    const char *per_record;    // JSONL of per-record scores, or NULL
} ft_score_opts;

// "em,f1,bleu" -> bits; -1 with a message naming the unknown metric.
int ft_score_parse_metrics(const char *list, unsigned *bits);
// Score every record of the inputs ("-" = stdin). *report: new JSON object. *skipped: bad
// records skipped under skip_bad. Returns 0, or -1 with "FILE:LINE: what" in ft_errmsg().
int ft_score_run(const ft_score_opts *o, char **inputs, int ninputs, json_t **report, size_t *skipped);

// ---- compare (metrics_compare.c) ----------------------------------------------------------
typedef struct {
    const char *metric;
    double value;
    int percent;     // X% relative to A; else absolute in the metric's units
    int min_gain;    // 1: --min-gain, 0: --max-regression
} ft_gate;

typedef struct {
    const char *a_path, *b_path;
    const char *a_records, *b_records;   // per-record overrides (NULL: from the reports)
    const ft_gate *gates;
    int ngates;
    int bootstrap;
    uint64_t seed;
} ft_compare_opts;

int ft_gate_parse(const char *arg, int min_gain, ft_gate *g);
// 1 when lower values are better (loss, ppl, *_loss, *_ppl).
int ft_metric_lower_better(const char *name);
// Builds the comparison (*out: {"a","b","metrics":[...],"gates":[...]}); *failed: number of
// failed gates, and the first failure's description in fail_msg. 0 ok, -1 error.
int ft_compare_run(const ft_compare_opts *o, json_t **out, int *failed, char *fail_msg, size_t cap);

// ---- judge (metrics_judge.c) --------------------------------------------------------------
typedef struct {
    const char *cmd;           // run with /bin/sh -c; JSON on stdin; prints A, B or tie
    const char *prompt_field;  // "prompt"
    const char *pred_field;    // "output"
    int jobs;                  // parallel judge calls
    int bootstrap;
    uint64_t seed;
    const char *per_record;
    double timeout;            // seconds per judge call (<= 0: none); expiry fails the call
} ft_judge_opts;

int ft_judge_run(const ft_judge_opts *o, const char *a_path, const char *b_path, json_t **report);

#endif
