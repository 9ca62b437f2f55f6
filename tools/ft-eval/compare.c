// compare.c — `ft-eval compare A.json B.json`: every metric the two reports share, the delta,
// a paired bootstrap CI when per-record scores exist, and regression/gain gates (exit 3).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "core/io.h"
#include "eval/metrics_report.h"

static const char *P = "ft-eval compare";

static void help(void) {
    printf("Usage: ft-eval compare [OPTIONS] A.json B.json\n\n"
           "Compare two ft-eval reports (A = baseline, B = candidate): every numeric metric in both,\n"
           "B - A, and a paired bootstrap 95%% CI of B - A when both have per-record files.\n\n"
           "Options:\n"
           "  --max-regression METRIC=X%%  fail (exit 3) when B is worse than A by more than X%% of A\n"
           "                              (METRIC=X: by more than X in the metric's units); repeatable\n"
           "  --min-gain METRIC=X%%        fail (exit 3) unless B is better than A by at least X%%; repeatable\n"
           "  --json                      JSON output instead of the text table\n"
           "  --a-records FILE            per-record JSONL of A (default: the report's \"per_record\")\n"
           "  --b-records FILE            per-record JSONL of B\n"
           "  --bootstrap N               resamples for the paired CI (default 1000, 0: none)\n"
           "  --seed N                    bootstrap seed (default 12345)\n"
           "  -o FILE                     write the output to FILE (default: stdout)\n"
           "  -q, -v                      quieter / more verbose\n"
           "  -h, --help                  this help\n"
           "      --version               print the version\n\n"
           "Lower is better for loss, ppl and names ending in _loss/_ppl; higher for everything else.\n"
           "Exit: 0 ok, 1 bad data, 2 usage, 3 a gate failed (named on stderr).\n");
}

static void fmt_num(char *b, size_t n, double v) {
    if (fabs(v) >= 1e6 || (v != 0 && fabs(v) < 1e-3)) snprintf(b, n, "%.4g", v);
    else snprintf(b, n, "%.4f", v);
}

static int write_table(ft_writer *w, json_t *res) {
    json_t *ms = json_object_get(res, "metrics"), *m;
    size_t i;
    int rc = ft_writer_printf(w, "%-12s %14s %14s %14s %9s  %s\n", "metric", "A", "B", "B-A", "rel", "95% CI of B-A");
    json_array_foreach(ms, i, m) {
        char a[32], b[32], d[32], rel[32] = "-", ci[80] = "-";
        fmt_num(a, sizeof a, json_real_value(json_object_get(m, "a")));
        fmt_num(b, sizeof b, json_real_value(json_object_get(m, "b")));
        double dv = json_real_value(json_object_get(m, "delta"));
        fmt_num(d, sizeof d, dv);
        if (dv >= 0) { memmove(d + 1, d, strlen(d) + 1); d[0] = '+'; }
        json_t *p = json_object_get(m, "delta_pct");
        if (json_is_real(p)) snprintf(rel, sizeof rel, "%+.2f%%", json_real_value(p));
        json_t *c = json_object_get(m, "ci95");
        if (c) {
            char lo[32], hi[32];
            fmt_num(lo, sizeof lo, json_real_value(json_array_get(c, 0)));
            fmt_num(hi, sizeof hi, json_real_value(json_array_get(c, 1)));
            snprintf(ci, sizeof ci, "[%s, %s]%s", lo, hi, json_is_true(json_object_get(m, "significant")) ? " *" : "");
        }
        const char *name = json_string_value(json_object_get(m, "metric"));
        int lower = json_is_true(json_object_get(m, "lower_is_better"));
        rc |= ft_writer_printf(w, "%-12s %14s %14s %14s %9s  %s%s\n", name, a, b, d, rel, ci, lower ? "  (lower is better)" : "");
    }
    const char *side[2] = {"only_in_a", "only_in_b"}, *label[2] = {"only in A:", "only in B:"};
    for (int sd = 0; sd < 2; sd++) {
        json_t *arr = json_object_get(res, side[sd]), *x;
        if (!json_array_size(arr)) continue;
        rc |= ft_writer_printf(w, "%s", label[sd]);
        json_array_foreach(arr, i, x) rc |= ft_writer_printf(w, " %s", json_string_value(x));
        rc |= ft_writer_printf(w, "\n");
    }
    json_t *gs = json_object_get(res, "gates"), *g;
    json_array_foreach(gs, i, g) {
        rc |= ft_writer_printf(w, "%s  %s\n", json_is_true(json_object_get(g, "passed")) ? "PASS" : "FAIL",
                               json_string_value(json_object_get(g, "gate")));
    }
    return rc;
}

int ft_eval_compare(int argc, char **argv) {
    ft_compare_opts o = {0};
    o.bootstrap = 1000;
    o.seed = 12345;
    ft_gate *gates = calloc((size_t)argc + 1, sizeof *gates);
    const char *files[2] = {0}, *out = "-";
    int nfiles = 0, json = 0, ret = FT_EXIT_DATA;
    if (!gates) return ft_cli_fail(P, FT_EXIT_DATA);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED() do { if (!v) { ret = ft_cli_usage(P, "%s needs a value", a); goto out; } i++; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { help(); ret = 0; goto out; }
        else if (!strcmp(a, "--version")) { ft_cli_version("ft-eval"); ret = 0; goto out; }
        else if (!strcmp(a, "-q")) ft_verbosity = 0;
        else if (!strcmp(a, "-v")) ft_verbosity = 2;
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--max-regression") || !strcmp(a, "--min-gain")) {
            NEED();
            if (ft_gate_parse(v, a[2] == 'm' && a[3] == 'i', &gates[o.ngates]) < 0) { ret = ft_cli_usage(P, "%s", ft_errmsg()); goto out; }
            o.ngates++;
        } else if (!strcmp(a, "--a-records")) { NEED(); o.a_records = v; }
        else if (!strcmp(a, "--b-records")) { NEED(); o.b_records = v; }
        else if (!strcmp(a, "--bootstrap")) {
            long n;
            NEED();
            if (ft_parse_long(a, v, 0, 1000000, &n) < 0) { ret = ft_cli_usage(P, "%s", ft_errmsg()); goto out; }
            o.bootstrap = (int)n;
        } else if (!strcmp(a, "--seed")) {
            NEED();
            if (ft_parse_u64(a, v, &o.seed) < 0) { ret = ft_cli_usage(P, "%s", ft_errmsg()); goto out; }
        } else if (!strcmp(a, "-o")) { NEED(); out = v; }
        else if (!strcmp(a, "--model") || !strcmp(a, "--adapter") || !strcmp(a, "--device") || !strcmp(a, "--threads") ||
                 !strcmp(a, "--quantize"))
            NEED();
        else if (a[0] == '-' && a[1]) { ret = ft_cli_usage(P, "unknown option '%s'", a); goto out; }
        else if (nfiles < 2) files[nfiles++] = a;
        else { ret = ft_cli_usage(P, "expected two reports, got a third: '%s'", a); goto out; }
#undef NEED
    }
    if (nfiles != 2) { ret = ft_cli_usage(P, "expected two reports: A.json B.json"); goto out; }
    o.a_path = files[0];
    o.b_path = files[1];
    o.gates = gates;
    json_t *res = NULL;
    int failed = 0;
    char msg[1024];
    if (ft_compare_run(&o, &res, &failed, msg, sizeof msg) < 0) { ret = ft_cli_fail(P, FT_EXIT_DATA); goto out; }
    ft_writer *w = ft_writer_open(out);
    int rc = w ? 0 : -1;
    if (w && json) {
        char *s = json_dumps(res, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        rc = s ? ft_writer_printf(w, "%s\n", s) : -1;
        free(s);
    } else if (w) {
        rc = write_table(w, res);
    }
    json_decref(res);
    if (rc < 0 || ft_writer_commit(w) < 0) {
        if (w && rc < 0) ft_writer_abort(w);
        ret = ft_cli_fail(P, FT_EXIT_DATA);
        goto out;
    }
    if (failed) {
        fprintf(stderr, "%s: %s\n", P, msg);
        if (failed > 1) fprintf(stderr, "%s: %d gates failed in all\n", P, failed);
        ret = FT_EXIT_GATE;
    } else {
        ret = 0;
    }
out:
    for (int i = 0; i < o.ngates; i++) free((char *)gates[i].metric);
    free(gates);
    return ret;
}
