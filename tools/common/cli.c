// cli.c — shared tool helpers (see cli.h), linked into every tool (not into libft).
#include "cli.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ft_verbosity = 1;

void ft_cli_version(const char *prog) { printf("%s (ft) %s\n", prog, FT_VERSION); }

int ft_cli_fail(const char *prog, int code) {
    fprintf(stderr, "%s: %s\n", prog, ft_errmsg()[0] ? ft_errmsg() : "failed");
    return code;
}

int ft_cli_usage(const char *prog, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
    return FT_EXIT_USAGE;
}

void ft_cli_info(const char *prog, int level, const char *fmt, ...) {
    if (ft_verbosity < level) return;
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void ft_progress_start(ft_progress *p, const char *label, uint64_t total) {
    p->enabled = ft_verbosity >= 1 && isatty(2);
    p->t0 = p->last = ft_now();
    p->total = total;
    p->label = label;
}

void ft_progress_update(ft_progress *p, uint64_t done, const char *extra) {
    if (!p->enabled) return;
    double t = ft_now();
    if (t - p->last < 0.1 && done != p->total) return;
    p->last = t;
    double el = t - p->t0;
    if (p->total) {
        double f = (double)done / (double)p->total;
        if (f > 1) f = 1;
        int w = 24, k = (int)(f * w);
        char bar[32];
        for (int i = 0; i < w; i++) bar[i] = i < k ? '#' : '.';
        bar[w] = 0;
        double eta = f > 0 ? el * (1 - f) / f : 0;
        fprintf(stderr, "\r\033[K%s [%s] %llu/%llu %s ETA %.0fs", p->label, bar, (unsigned long long)done,
                (unsigned long long)p->total, extra ? extra : "", eta);
    } else {
        fprintf(stderr, "\r\033[K%s %llu %s %.0fs", p->label, (unsigned long long)done, extra ? extra : "", el);
    }
}

void ft_progress_end(ft_progress *p) {
    if (p->enabled) fprintf(stderr, "\r\033[K");
}

// ---- the library's hooks (lib/core/log.h) ---------------------------------------------------
static const char *log_prog = "ft";
static ft_progress log_bar;

static void log_info(void *ctx, int level, const char *msg) {
    (void)ctx;
    ft_cli_info(log_prog, level, "%s", msg);
}

static void log_progress(void *ctx, int event, const char *label, uint64_t done, uint64_t total, const char *extra) {
    (void)ctx;
    if (event == FT_PROGRESS_START) ft_progress_start(&log_bar, label, total);
    else if (event == FT_PROGRESS_UPDATE) ft_progress_update(&log_bar, done, extra);
    else ft_progress_end(&log_bar);
}

void ft_cli_log_install(const char *prog) {
    log_prog = prog;
    ft_log_hooks h = {log_info, log_progress, NULL};
    ft_log_set(&h);
}
