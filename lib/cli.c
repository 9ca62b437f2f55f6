// cli.c — shared tool helpers (see cli.h).
#include "cli.h"
#include "err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

int ft_parse_long(const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno) return ft_err("%s: '%s' is not an integer", flag, s);
    if (v < lo || v > hi) return ft_err("%s: %ld is out of range [%ld, %ld]", flag, v, lo, hi);
    *out = v;
    return 0;
}

int ft_parse_u64(const char *flag, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') return ft_err("%s: '%s' must not be negative", flag, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno) return ft_err("%s: '%s' is not a non-negative integer", flag, s);
    *out = v;
    return 0;
}

int ft_parse_double(const char *flag, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v)) return ft_err("%s: '%s' is not a number", flag, s);
    if (v < lo || v > hi) return ft_err("%s: %g is out of range [%g, %g]", flag, v, lo, hi);
    *out = v;
    return 0;
}

double ft_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
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
