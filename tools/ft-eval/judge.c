// judge.c — `ft-eval judge --cmd PROGRAM A.jsonl B.jsonl`: pairwise preference by an external
// judge program, each prompt asked twice with positions swapped; thin wrapper over
// lib/eval/metrics_judge.c.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "core/io.h"
#include "eval/metrics_report.h"

static const char *P = "ft-eval judge";

static void help(void) {
    printf("Usage: ft-eval judge --cmd 'PROGRAM' [OPTIONS] A.jsonl B.jsonl\n\n"
           "Pairwise preference (AlpacaEval / MT-Bench style) of B's outputs over A's, line by line.\n"
           "For every prompt PROGRAM runs twice under /bin/sh -c, reading one JSON object on stdin,\n"
           "  {\"prompt\": ..., \"output_a\": ..., \"output_b\": ...}\n"
           "and printing A, B or tie; the second call swaps the outputs to cancel position bias.\n"
           "The report gives B's win rate (ties count half) with a bootstrap 95%% CI. No network\n"
           "is built in: PROGRAM can be any script calling any model.\n\n"
           "Options:\n"
           "  --cmd PROGRAM         the judge command (required)\n"
           "  --prompt-field NAME   prompt field (default: prompt; taken from A, else B)\n"
           "  --pred-field NAME     output field (default: output)\n"
           "  -j, --jobs N          judge calls run in parallel (default 1)\n"
           "  --timeout SECONDS     limit per judge call (default 300, 0: none); on expiry the judge's\n"
           "                        process group is killed and the call fails the run\n"
           "  --per-record FILE     per-prompt verdicts as JSONL\n"
           "  --bootstrap N         resamples for the CI (default 1000, 0: none)\n"
           "  --seed N              bootstrap seed (default 12345)\n"
           "  -o FILE               write the report to FILE (default: stdout)\n"
           "  -q, -v                quieter / more verbose\n"
           "  -h, --help            this help\n"
           "      --version         print the version\n\n"
           "Exit: 0 ok, 1 bad data or a failing judge (non-zero exit, bad answer, timeout), 2 usage.\n");
}

int ft_eval_judge(int argc, char **argv) {
    ft_judge_opts o = {NULL, "prompt", "output", 1, 1000, 12345, NULL, 300};
    const char *files[2] = {0}, *out = "-";
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED() do { if (!v) return ft_cli_usage(P, "%s needs a value", a); i++; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { help(); return 0; }
        else if (!strcmp(a, "--version")) { ft_cli_version("ft-eval"); return 0; }
        else if (!strcmp(a, "-q")) ft_verbosity = 0;
        else if (!strcmp(a, "-v")) ft_verbosity = 2;
        else if (!strcmp(a, "--cmd")) { NEED(); o.cmd = v; }
        else if (!strcmp(a, "--prompt-field")) { NEED(); o.prompt_field = v; }
        else if (!strcmp(a, "--pred-field")) { NEED(); o.pred_field = v; }
        else if (!strcmp(a, "--per-record")) { NEED(); o.per_record = v; }
        else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
            long n;
            NEED();
            if (ft_parse_long(a, v, 1, 256, &n) < 0) return ft_cli_usage(P, "%s", ft_errmsg());
            o.jobs = (int)n;
        } else if (!strcmp(a, "--bootstrap")) {
            long n;
            NEED();
            if (ft_parse_long(a, v, 0, 1000000, &n) < 0) return ft_cli_usage(P, "%s", ft_errmsg());
            o.bootstrap = (int)n;
        } else if (!strcmp(a, "--timeout")) {
            NEED();
            if (ft_parse_double(a, v, 0, 1e9, &o.timeout) < 0) return ft_cli_usage(P, "%s", ft_errmsg());
        } else if (!strcmp(a, "--seed")) {
            NEED();
            if (ft_parse_u64(a, v, &o.seed) < 0) return ft_cli_usage(P, "%s", ft_errmsg());
        } else if (!strcmp(a, "-o")) { NEED(); out = v; }
        else if (!strcmp(a, "--model") || !strcmp(a, "--adapter") || !strcmp(a, "--device") || !strcmp(a, "--threads") ||
                 !strcmp(a, "--quantize"))
            NEED();
        else if (a[0] == '-' && a[1]) return ft_cli_usage(P, "unknown option '%s'", a);
        else if (nfiles < 2) files[nfiles++] = a;
        else return ft_cli_usage(P, "expected two output files, got a third: '%s'", a);
#undef NEED
    }
    if (!o.cmd) return ft_cli_usage(P, "--cmd PROGRAM is required");
    if (nfiles != 2) return ft_cli_usage(P, "expected two output files: A.jsonl B.jsonl");
    signal(SIGPIPE, SIG_IGN);   // a judge that exits without reading stdin must not kill us
    double t0 = ft_now();
    json_t *rep = NULL;
    if (ft_judge_run(&o, files[0], files[1], &rep) < 0) return ft_cli_fail(P, FT_EXIT_DATA);
    ft_cli_info(P, 2, "%lld judge calls in %.2fs", (long long)json_integer_value(json_object_get(rep, "calls")),
                ft_now() - t0);
    char *s = json_dumps(rep, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(rep);
    ft_writer *w = ft_writer_open(out);
    if (!s || !w || ft_writer_printf(w, "%s\n", s) < 0) {
        free(s);
        if (w) ft_writer_abort(w);
        if (!s) ft_err("cannot serialize the report");
        return ft_cli_fail(P, FT_EXIT_DATA);
    }
    free(s);
    if (ft_writer_commit(w) < 0) return ft_cli_fail(P, FT_EXIT_DATA);
    return 0;
}
