// ft-template — render conversations with a chat template into segment JSONL
// ({"segments":[{"text","train"}...]} + passthrough fields), loss on the assistant turns.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "template/template.h"

static const char *PROG = "ft-template";

static void usage(void) {
    printf("Usage: ft-template [OPTIONS] [FILE...]\n\n"
           "Render conversations (JSONL, files or stdin) with a chat template into segment JSONL:\n"
           "{\"segments\":[{\"text\":...,\"train\":bool},...]} plus passthrough fields (id, ...).\n"
           "By default the loss falls on each assistant message and the marker that closes its turn.\n\n"
           "Options:\n"
           "  -t, --template SPEC     auto | built-in name | FILE.jinja | model dir | tokenizer_config.json |\n"
           "                          MODEL.gguf (default: auto, from --model)\n"
           "  -m, --model MODEL       model dir or .gguf for --template auto (and its bos/eos tokens)\n"
           "      --bos-token STR     bos_token string the template sees\n"
           "      --eos-token STR     eos_token string the template sees\n"
           "      --format F          auto|messages|sharegpt|alpaca|completion|text (default auto, per record)\n"
           "      --system TEXT       add or replace the system message\n"
           "      --train-on-inputs   train on the whole rendering\n"
           "      --last-turn-only    train only on the final assistant turn\n"
           "      --generation-prompt hold out a final assistant message as \"reference\", render the rest\n"
           "                          with add_generation_prompt=true (all segments train:false)\n"
           "      --skip-bad          skip bad records (counted on stderr) instead of failing\n"
           "      --template-limit K=V[,K=V...]\n"
           "                          the budget of each rendering; a template that exceeds one fails with\n"
           "                          an error naming it. Keys (defaults): iterations=10000000 (loop body\n"
           "                          runs, all loops), output=64M (bytes of output or any one string),\n"
           "                          items=1000000 (elements of a list or dict), depth=256 (nested macro\n"
           "                          calls, at most 1024), memory=1G (bytes of values alive at once)\n"
           "      --print-template    print the template's Jinja source and exit\n"
           "      --list-templates    list the built-in templates and exit\n"
           "  -o, --output FILE       output (default stdout; .zst compresses)\n"
           "  -q, --quiet / -v, --verbose\n"
           "  -h, --help / --version\n\n"
           "Built-ins: chatml llama2 llama3 mistral gemma phi3 zephyr alpaca vicuna\n"
           "Exit status: 0 ok, 1 bad data (FILE:LINE: reason) or template error, 2 usage.\n");
}

int main(int argc, char **argv) {
    const char *spec = NULL, *model = NULL, *bos = NULL, *eos = NULL, *outp = "-";
    ft_template_opts o = {0};
    int skip_bad = 0, print_tpl = 0;
    ft_jinja_limits lim;
    ft_jinja_limits_default(&lim);
    const char **inputs = calloc((size_t)argc + 1, sizeof(char *));
    int nin = 0;
    if (!inputs) return FT_EXIT_DATA;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define VAL() (i + 1 < argc ? argv[++i] : NULL)
#define NEEDVAL(var) do { if (!(var = VAL())) { free(inputs); return ft_cli_usage(PROG, "%s needs a value", a); } } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); free(inputs); return 0; }
        else if (!strcmp(a, "--version")) { ft_cli_version(PROG); free(inputs); return 0; }
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) ft_verbosity = 0;
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) ft_verbosity = 2;
        else if (!strcmp(a, "-t") || !strcmp(a, "--template")) NEEDVAL(spec);
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) NEEDVAL(model);
        else if (!strcmp(a, "--bos-token")) NEEDVAL(bos);
        else if (!strcmp(a, "--eos-token")) NEEDVAL(eos);
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) NEEDVAL(outp);
        else if (!strcmp(a, "--system")) NEEDVAL(o.system);
        else if (!strcmp(a, "--format")) {
            const char *f;
            NEEDVAL(f);
            if ((o.format = ft_template_parse_format(f)) < 0) { free(inputs); return ft_cli_usage(PROG, "unknown --format '%s'", f); }
        }
        else if (!strcmp(a, "--train-on-inputs")) o.train_on_inputs = 1;
        else if (!strcmp(a, "--last-turn-only")) o.last_turn_only = 1;
        else if (!strcmp(a, "--generation-prompt")) o.generation_prompt = 1;
        else if (!strcmp(a, "--skip-bad")) skip_bad = 1;
        else if (!strcmp(a, "--template-limit")) {
            const char *l;
            NEEDVAL(l);
            if (ft_jinja_limits_parse(l, &lim)) { free(inputs); return ft_cli_usage(PROG, "--template-limit: %s", ft_errmsg()); }
        }
        else if (!strcmp(a, "--print-template")) print_tpl = 1;
        else if (!strcmp(a, "--list-templates")) {
            for (const char *const *n = ft_template_builtin_names(); *n; n++) printf("%s\n", *n);
            free(inputs);
            return 0;
        }
        else if (a[0] == '-' && a[1]) { free(inputs); return ft_cli_usage(PROG, "unknown option '%s'", a); }
        else inputs[nin++] = a;
    }
    if (o.train_on_inputs && o.last_turn_only) { free(inputs); return ft_cli_usage(PROG, "--train-on-inputs and --last-turn-only exclude each other"); }
    if (!spec && !model) { free(inputs); return ft_cli_usage(PROG, "give --template SPEC or --model MODEL"); }
    if (!nin) inputs[nin++] = "-";

    ft_template *t = ft_template_load(spec ? spec : "auto", model);
    if (!t || ft_template_set_tokens(t, bos, eos)) { free(inputs); ft_template_free(t); return ft_cli_fail(PROG, FT_EXIT_DATA); }
    ft_template_set_limits(t, &lim);
    if (print_tpl) { fputs(ft_template_source(t), stdout); free(inputs); ft_template_free(t); return 0; }

    ft_writer *w = ft_writer_open(outp);
    if (!w) { free(inputs); ft_template_free(t); return ft_cli_fail(PROG, FT_EXIT_DATA); }
    long n_ok = 0, n_bad = 0;
    int unlocated = 0, rc = FT_EXIT_OK;
    char first_unlocated[512] = "";
    for (int f = 0; f < nin && rc == FT_EXIT_OK; f++) {
        ft_jsonl *j = ft_jsonl_open(inputs[f], 0);
        if (!j) { rc = ft_cli_fail(PROG, FT_EXIT_DATA); break; }
        for (;;) {
            json_t *rec, *out = NULL;
            int r = ft_jsonl_next(j, &rec);
            if (r == 0) break;
            if (r == -1) { rc = ft_cli_fail(PROG, FT_EXIT_DATA); break; }
            if (r == 1) {
                int before = unlocated;
                r = ft_template_record(t, &o, rec, &out, &unlocated);
                json_decref(rec);
                if (r == -2) ft_err_ctx("%s:%zu", ft_jsonl_name(j), ft_jsonl_lineno(j));
                else if (r == -1) { rc = ft_cli_fail(PROG, FT_EXIT_DATA); break; }
                if (r == 0 && unlocated > before) {
                    if (!first_unlocated[0]) snprintf(first_unlocated, sizeof first_unlocated, "%s:%zu", ft_jsonl_name(j), ft_jsonl_lineno(j));
                    ft_cli_info(PROG, 2, "%s:%zu: warning: an assistant message does not appear in the rendering; it gets no loss",
                                ft_jsonl_name(j), ft_jsonl_lineno(j));
                }
            }
            if (r == -2) {   // bad record (bad JSON from the reader, or a bad shape / template error)
                if (!skip_bad) { rc = ft_cli_fail(PROG, FT_EXIT_DATA); break; }
                ft_cli_info(PROG, 2, "skipped %s", ft_errmsg());
                n_bad++;
                continue;
            }
            char *line = ft_template_dump(out);
            json_decref(out);
            if (!line || ft_writer_write(w, line, strlen(line)) || ft_writer_write(w, "\n", 1)) {
                free(line);
                rc = ft_cli_fail(PROG, FT_EXIT_DATA);
                break;
            }
            free(line);
            n_ok++;
        }
        ft_jsonl_close(j);
    }
    if (rc != FT_EXIT_OK) ft_writer_abort(w);
    else if (ft_writer_commit(w)) rc = ft_cli_fail(PROG, FT_EXIT_DATA);
    if (unlocated)
        fprintf(stderr, "%s: warning: %d assistant message(s) do not appear in the rendering (the template drops or "
                        "rewrites them); they get no loss (first at %s)\n", PROG, unlocated, first_unlocated);
    if (n_bad) fprintf(stderr, "%s: skipped %ld bad record(s)\n", PROG, n_bad);
    if (rc == FT_EXIT_OK) ft_cli_info(PROG, 2, "%ld record(s) written with template %s", n_ok, ft_template_name(t));
    ft_template_free(t);
    free(inputs);
    return rc;
}
