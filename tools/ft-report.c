// ft-report — one page about a fine-tuning run: self-contained HTML (inline SVG charts, no
// JavaScript) and a Markdown twin, from a run directory or from the files named one by one.
// Thin: flags, then lib/eval/report.c does the reading, comparing and writing.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "core/io.h"
#include "eval/report.h"

#define PROG "ft-report"
#define MAX_GATES 32

static void usage(void) {
    printf("Usage: ft-report [OPTIONS] [RUN_DIR]\n\n"
           "Writes one page about a fine-tuning run: the run summary, training curves (loss and\n"
           "eval loss, learning rate, gradient norm, tokens/s, the objective's metrics), base vs\n"
           "tuned tables with 95%% CIs and the gates' verdicts, generations side by side (those that\n"
           "differ first), ft-filter's curation counts and the training configuration. HTML with\n"
           "inline SVG (no JavaScript) and Markdown with the charts as .svg files beside it.\n\n"
           "RUN_DIR is read as pipelines/sft.mk leaves it: train.log.jsonl, train_config.json (or\n"
           "*/train_config.json), filter.json, base.NAME.json + tuned.NAME.json (ft-eval reports;\n"
           "their \"per_record\" files give the paired CIs), base.gen.jsonl + tuned.gen.jsonl.\n"
           "The options below name files instead (or as well: they win).\n\n"
           "Options:\n"
           "  -o, --output FILE.html    the HTML page (default RUN_DIR/report.html)\n"
           "      --md FILE.md          the Markdown page (default RUN_DIR/report.md; charts in\n"
           "                            FILE.<chart>.svg); --no-md: none\n"
           "      --log FILE            training metrics JSONL (ft-train --log)\n"
           "      --config FILE         train_config.json\n"
           "      --filter-stats FILE   ft-filter --stats-out JSON\n"
           "      --pair BASE.json TUNED.json  two ft-eval reports of the same data (repeatable)\n"
           "      --gen BASE.jsonl TUNED.jsonl ft-eval generate outputs of the same prompts\n"
           "      --min-gain METRIC=X[%%]       gate, as ft-eval compare's (repeatable); checked on\n"
           "      --max-regression METRIC=X[%%] every pair with METRIC; shown as PASS/FAIL\n"
           "      --samples N           generations shown (default 12)\n"
           "      --title TEXT          page title (default \"ft run report\")\n"
           "      --bootstrap N         paired bootstrap resamples (default 1000, 0: none)\n"
           "      --seed N              bootstrap seed (default 12345)\n"
           "  -q, -v                    quieter / more verbose\n"
           "  -h, --help                this help\n"
           "      --version             print the version\n\n"
           "Exit status: 0 ok, 1 bad or missing input (nothing written), 2 usage, 3 a gate failed\n"
           "(the page is written and shows it).\n");
}

int main(int argc, char **argv) {
    ft_cli_log_install(PROG);
    ft_report_opts o;
    ft_report_defaults(&o);
    const char *html = NULL, *md = NULL;
    int no_md = 0, ngates = 0;
    ft_gate gates[MAX_GATES];
    enum { O_MD = 256, O_NOMD, O_LOG, O_CONFIG, O_FILTER, O_PAIR, O_GEN, O_MING, O_MAXR, O_SAMPLES, O_TITLE, O_BOOT, O_SEED, O_VERSION };
    static const struct option longs[] = {
        {"output", required_argument, 0, 'o'}, {"md", required_argument, 0, O_MD}, {"no-md", no_argument, 0, O_NOMD},
        {"log", required_argument, 0, O_LOG}, {"config", required_argument, 0, O_CONFIG},
        {"filter-stats", required_argument, 0, O_FILTER}, {"pair", required_argument, 0, O_PAIR},
        {"gen", required_argument, 0, O_GEN}, {"min-gain", required_argument, 0, O_MING},
        {"max-regression", required_argument, 0, O_MAXR}, {"samples", required_argument, 0, O_SAMPLES},
        {"title", required_argument, 0, O_TITLE}, {"bootstrap", required_argument, 0, O_BOOT},
        {"seed", required_argument, 0, O_SEED}, {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, O_VERSION},
        {0, 0, 0, 0}};
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "o:qvh", longs, NULL)) != -1) {
        switch (c) {
        case 'o': html = optarg; break;
        case O_MD: md = optarg; break;
        case O_NOMD: no_md = 1; break;
        case O_LOG: o.log = optarg; break;
        case O_CONFIG: o.config = optarg; break;
        case O_FILTER: o.filter_stats = optarg; break;
        case O_PAIR:
        case O_GEN:
            // two values: this one and the next argument
            if (optind >= argc) return ft_cli_usage(PROG, "--%s needs two files", c == O_PAIR ? "pair" : "gen");
            if (c == O_GEN) {
                o.base_gen = optarg;
                o.tuned_gen = argv[optind++];
            } else {
                if (o.npairs >= FT_REPORT_MAX_PAIRS) return ft_cli_usage(PROG, "at most %d --pair", FT_REPORT_MAX_PAIRS);
                o.pairs[o.npairs].base = optarg;
                o.pairs[o.npairs++].tuned = argv[optind++];
            }
            break;
        case O_MING:
        case O_MAXR:
            if (ngates >= MAX_GATES) return ft_cli_usage(PROG, "at most %d gates", MAX_GATES);
            if (ft_gate_parse(optarg, c == O_MING, &gates[ngates])) return ft_cli_usage(PROG, "%s", ft_errmsg());
            ngates++;
            break;
        case O_SAMPLES:
            if (ft_parse_long("--samples", optarg, 0, 1000000, &v)) return ft_cli_usage(PROG, "%s", ft_errmsg());
            o.samples = (int)v;
            break;
        case O_TITLE: o.title = optarg; break;
        case O_BOOT:
            if (ft_parse_long("--bootstrap", optarg, 0, 1000000, &v)) return ft_cli_usage(PROG, "%s", ft_errmsg());
            o.bootstrap = (int)v;
            break;
        case O_SEED:
            if (ft_parse_long("--seed", optarg, 0, 4294967295L, &v)) return ft_cli_usage(PROG, "%s", ft_errmsg());
            o.seed = (uint64_t)v;
            break;
        case 'q': ft_verbosity = 0; break;
        case 'v': ft_verbosity = 2; break;
        case 'h': usage(); return FT_EXIT_OK;
        case O_VERSION: ft_cli_version(PROG); return FT_EXIT_OK;
        default: return ft_cli_usage(PROG, "unknown option");
        }
    }
    if (argc - optind > 1) return ft_cli_usage(PROG, "one RUN_DIR at most (got %d arguments)", argc - optind);
    const char *dir = optind < argc ? argv[optind] : NULL;
    if (!dir && !html) return ft_cli_usage(PROG, "no RUN_DIR: name the page with -o FILE.html");
    if (!dir && !o.log && !o.config && !o.filter_stats && !o.npairs && !o.base_gen)
        return ft_cli_usage(PROG, "nothing to report: give a RUN_DIR or input files");
    o.gates = gates;
    o.ngates = ngates;
    int rc = FT_EXIT_OK, failed = 0;
    char *dh = NULL, *dm = NULL;
    if (dir && ft_report_find(&o, dir)) { rc = ft_cli_fail(PROG, FT_EXIT_DATA); goto out; }
    if (!html && !(html = dh = ft_path_join(dir, "report.html"))) { rc = ft_cli_fail(PROG, FT_EXIT_DATA); goto out; }
    if (!md && !no_md) {
        if (dir) {
            md = dm = ft_path_join(dir, "report.md");
        } else {   // beside the HTML: X.html -> X.md
            size_t n = strlen(html);
            dm = malloc(n + 4);
            if (dm) {
                snprintf(dm, n + 4, "%.*s.md", (int)(n > 5 && !strcmp(html + n - 5, ".html") ? n - 5 : n), html);
            }
            md = dm;
        }
        if (!md) { rc = ft_cli_fail(PROG, FT_EXIT_DATA); goto out; }
    }
    if (ft_report_write(&o, html, no_md ? NULL : md, &failed)) { rc = ft_cli_fail(PROG, FT_EXIT_DATA); goto out; }
    ft_cli_info(PROG, 1, "wrote %s%s%s", html, no_md ? "" : " and ", no_md ? "" : md);
    if (failed) {
        fprintf(stderr, "%s: %d gate%s failed (shown in %s)\n", PROG, failed, failed > 1 ? "s" : "", html);
        rc = FT_EXIT_GATE;
    }
out:
    for (int i = 0; i < ngates; i++) free((char *)gates[i].metric);   // ft_gate_parse's copies
    free(dh);
    free(dm);
    ft_report_opts_free(&o);
    return rc;
}
