// score.c — `ft-eval score`: EM, token F1, BLEU, chrF and ROUGE of predictions against
// references (JSONL in, JSON report out); thin wrapper over lib/eval/metrics_score.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "core/err.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "eval/metrics.h"
#include "eval/metrics_report.h"

static const char *P = "ft-eval score";

static void help(void) {
    printf("Usage: ft-eval score [OPTIONS] [PREDS.jsonl ...]\n\n"
           "Score predictions against references and print a JSON report (stdin when no file).\n"
           "Each record: {\"output\": \"...\", \"reference\": \"...\" or [\"...\", ...], \"id\": optional}.\n\n"
           "Options:\n"
           "  --metrics LIST        em,f1,bleu,chrf,rouge (default: all)\n"
           "  --pred-field NAME     field holding the prediction (default: output)\n"
           "  --ref-field NAME      field holding the reference(s) (default: reference)\n"
           "  --bleu-tokenize T     13a (default), intl, char or none, as sacrebleu\n"
           "  --rouge-stem          Porter-stem tokens for ROUGE (rouge-score use_stemmer=True)\n"
           "  --per-record FILE     write per-record scores as JSONL (used by compare)\n"
           "  --bootstrap N         resamples for the 95%% confidence intervals (default 1000, 0: none)\n"
           "  --seed N              bootstrap seed (default 12345)\n"
           "  --skip-bad            skip bad records (counted in the report) instead of failing\n"
           "  --threads N           scoring threads (default: OpenMP's)\n"
           "  -o FILE               write the report to FILE (default: stdout)\n"
           "  -q, -v                quieter / more verbose\n"
           "  -h, --help            this help\n"
           "      --version         print the version\n\n"
           "Scales: em, f1, bleu, chrf in 0-100; rouge1, rouge2, rougeL, rougeLsum in 0-1.\n"
           "Exit: 0 ok, 1 bad data, 2 usage.\n");
}

int ft_eval_score(int argc, char **argv) {
    ft_score_opts o = {FT_M_EM | FT_M_F1 | FT_M_BLEU | FT_M_CHRF | FT_M_ROUGE, "output", "reference",
                       FT_BLEU_TOK_13A, 0, 1000, 12345, 0, NULL};
    const char *out = "-";
    char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    int ninputs = 0, rc;
    if (!inputs) return ft_cli_fail(P, FT_EXIT_DATA);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED() do { if (!v) { free(inputs); return ft_cli_usage(P, "%s needs a value", a); } i++; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { help(); free(inputs); return 0; }
        else if (!strcmp(a, "--version")) { ft_cli_version("ft-eval"); free(inputs); return 0; }
        else if (!strcmp(a, "-q")) ft_verbosity = 0;
        else if (!strcmp(a, "-v")) ft_verbosity = 2;
        else if (!strcmp(a, "--metrics")) {
            NEED();
            if (ft_score_parse_metrics(v, &o.metrics) < 0) { free(inputs); return ft_cli_usage(P, "%s", ft_errmsg()); }
        } else if (!strcmp(a, "--pred-field")) { NEED(); o.pred_field = v; }
        else if (!strcmp(a, "--ref-field")) { NEED(); o.ref_field = v; }
        else if (!strcmp(a, "--bleu-tokenize")) {
            NEED();
            if ((o.bleu_tok = ft_bleu_tok_parse(v)) < 0) {
                free(inputs);
                return ft_cli_usage(P, "--bleu-tokenize: unknown tokenizer '%s' (13a, intl, char, none)", v);
            }
        } else if (!strcmp(a, "--rouge-stem")) o.rouge_stem = 1;
        else if (!strcmp(a, "--per-record")) { NEED(); o.per_record = v; }
        else if (!strcmp(a, "--bootstrap")) {
            long n;
            NEED();
            if (ft_parse_long(a, v, 0, 1000000, &n) < 0) { free(inputs); return ft_cli_usage(P, "%s", ft_errmsg()); }
            o.bootstrap = (int)n;
        } else if (!strcmp(a, "--seed")) {
            NEED();
            if (ft_parse_u64(a, v, &o.seed) < 0) { free(inputs); return ft_cli_usage(P, "%s", ft_errmsg()); }
        } else if (!strcmp(a, "--skip-bad")) o.skip_bad = 1;
        else if (!strcmp(a, "-o")) { NEED(); out = v; }
        else if (!strcmp(a, "--threads")) {
            long t;
            NEED();
            if (ft_parse_long(a, v, 1, 4096, &t) < 0) { free(inputs); return ft_cli_usage(P, "%s", ft_errmsg()); }
#ifdef _OPENMP
            omp_set_num_threads((int)t);
#endif
        } else if (!strcmp(a, "--model") || !strcmp(a, "--adapter") || !strcmp(a, "--device") || !strcmp(a, "--quantize"))
            NEED();   // global options: no model is needed to score
        else if (a[0] == '-' && a[1]) { free(inputs); return ft_cli_usage(P, "unknown option '%s'", a); }
        else inputs[ninputs++] = (char *)a;
#undef NEED
    }
    json_t *rep = NULL;
    size_t skipped = 0;
    double t0 = ft_now();
    if (ft_score_run(&o, inputs, ninputs, &rep, &skipped) < 0) { free(inputs); return ft_cli_fail(P, FT_EXIT_DATA); }
    free(inputs);
    json_int_t n = json_integer_value(json_object_get(rep, "records"));
    if (skipped) ft_cli_info(P, 1, "skipped %zu bad records", skipped);
    ft_cli_info(P, 2, "%lld records in %.2fs", (long long)n, ft_now() - t0);
    char *s = json_dumps(rep, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(rep);
    if (!s) { ft_err("cannot serialize the report"); return ft_cli_fail(P, FT_EXIT_DATA); }
    size_t len = strlen(s);
    s[len] = 0;
    ft_writer *w = ft_writer_open(out);
    rc = 0;
    if (!w || ft_writer_write(w, s, len) < 0 || ft_writer_write(w, "\n", 1) < 0) rc = -1;
    free(s);
    if (rc < 0) {
        if (w) ft_writer_abort(w);
        return ft_cli_fail(P, FT_EXIT_DATA);
    }
    if (ft_writer_commit(w) < 0) return ft_cli_fail(P, FT_EXIT_DATA);
    return 0;
}
