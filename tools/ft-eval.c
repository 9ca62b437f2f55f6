// ft-eval — evaluation: dispatches to subcommands implemented in tools/ft-eval/*.c.
// Each subcommand is `int ft_eval_NAME(int argc, char **argv)` (argv[0] = "NAME") and
// returns the exit code. Symbols are weak so a subcommand not yet built says so clearly.
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "train/dist.h"

typedef int (*subcmd_fn)(int argc, char **argv);
int ft_eval_ppl(int argc, char **argv) __attribute__((weak));
int ft_eval_generate(int argc, char **argv) __attribute__((weak));
int ft_eval_score(int argc, char **argv) __attribute__((weak));
int ft_eval_choice(int argc, char **argv) __attribute__((weak));
int ft_eval_bench(int argc, char **argv) __attribute__((weak));
int ft_eval_compare(int argc, char **argv) __attribute__((weak));
int ft_eval_judge(int argc, char **argv) __attribute__((weak));

static const struct { const char *name; subcmd_fn fn; const char *what; } cmds[] = {
    {"ppl", ft_eval_ppl, "loss and perplexity on an FTOK stream"},
    {"generate", ft_eval_generate, "generate answers for prompts (greedy or sampled)"},
    {"score", ft_eval_score, "EM, F1, BLEU, chrF, ROUGE of predictions against references"},
    {"choice", ft_eval_choice, "multiple-choice accuracy by log-likelihood"},
    {"bench", ft_eval_bench, "ARC, HellaSwag, PIQA, WinoGrande, BoolQ, SciQ, OpenBookQA, MMLU as lm-eval scores them"},
    {"compare", ft_eval_compare, "two reports side by side, with regression gates (exit 3)"},
    {"judge", ft_eval_judge, "pairwise preference by an external judge program"},
};

static void usage(void) {
    printf("Usage: ft-eval [--model M [--quantize nf4] [--weights auto|native|f32]] [--adapter DIR]... SUBCOMMAND [OPTIONS] [FILES]\n\n"
           "Evaluate a model, or score and compare predictions.\n\nSubcommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        printf("  %-10s %s%s\n", cmds[i].name, cmds[i].what, cmds[i].fn ? "" : " (not built yet)");
    printf("\nRun 'ft-eval SUBCOMMAND --help' for its options.\n"
           "Exit codes: 0 ok, 1 bad data or runtime failure, 2 usage, 3 a gate failed.\n");
}

int main(int argc, char **argv) {
    ft_cli_log_install("ft-eval");   // the library's warnings and progress, on stderr
    // Global options before the subcommand are passed through to it: the subcommand sees
    // argv = [NAME, global options..., its own options...].
    int sub = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        if (!strcmp(a, "--version")) { ft_cli_version("ft-eval"); return 0; }
        if (a[0] == '-') {
            // options taking a value
            if ((!strcmp(a, "--model") || !strcmp(a, "--adapter") || !strcmp(a, "-o") || !strcmp(a, "--device") ||
                 !strcmp(a, "--threads") || !strcmp(a, "--quantize") || !strcmp(a, "--weights")) && i + 1 < argc)
                i++;
            continue;
        }
        sub = i;
        break;
    }
    if (sub < 0) return ft_cli_usage("ft-eval", "missing subcommand (ppl, generate, score, choice, bench, compare, judge)");
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
        if (strcmp(argv[sub], cmds[k].name) != 0) continue;
        if (!cmds[k].fn) {
            fprintf(stderr, "ft-eval: subcommand '%s' is not implemented in this build yet\n", cmds[k].name);
            return FT_EXIT_USAGE;
        }
        // rebuild argv: NAME, globals, rest
        char *nargv[argc + 1];
        int n = 0;
        nargv[n++] = argv[sub];
        for (int i = 1; i < sub; i++) nargv[n++] = argv[i];
        for (int i = sub + 1; i < argc; i++) nargv[n++] = argv[i];
        nargv[n] = NULL;
        // dist: under mpirun (a build with MPI) ppl and choice deal their records to the ranks
        if (ft_dist_init() < 0) return ft_cli_fail("ft-eval", FT_EXIT_DATA);
        if (ft_dist_size() > 1 && strcmp(cmds[k].name, "ppl") && strcmp(cmds[k].name, "choice") &&
            strcmp(cmds[k].name, "generate")) {
            ft_dist_finalize();
            return ft_cli_usage("ft-eval", "%s runs on one process; under mpirun only ppl, choice and generate split their records",
                                cmds[k].name);
        }
        if (ft_dist_rank() > 0) ft_verbosity = 0;
        int rc = cmds[k].fn(n, nargv);
        if (rc != 0) ft_dist_abort(rc);   // a failing rank stops every rank
        ft_dist_finalize();
        return rc;
    }
    return ft_cli_usage("ft-eval", "unknown subcommand '%s'", argv[sub]);
}
