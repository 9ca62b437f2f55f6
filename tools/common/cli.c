// cli.c — shared tool helpers (see cli.h), linked into every tool (not into libft).
#include "cli.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
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
    p->t0 = ft_now();
    p->last = 0;   // the first update is drawn at once, later ones at most every 0.1 s
    p->total = total;
    p->label = label;
}

static void fmt_secs(char *b, size_t n, double s) {
    if (s < 60) snprintf(b, n, "%.0fs", s);
    else if (s < 3600) snprintf(b, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(b, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

void ft_progress_update(ft_progress *p, uint64_t done, const char *extra) {
    if (!p->enabled) return;
    double t = ft_now();
    if (t - p->last < 0.1 && done != p->total) return;
    p->last = t;
    double el = t - p->t0, rate = el > 0 ? (double)done / el : 0;
    char rs[32], ts[32];
    if (rate >= 100) snprintf(rs, sizeof rs, "%.0f/s", rate);
    else snprintf(rs, sizeof rs, "%.2f/s", rate);
    if (p->total) {
        double f = (double)done / (double)p->total;
        if (f > 1) f = 1;
        int w = 24, k = (int)(f * w);
        char bar[32];
        for (int i = 0; i < w; i++) bar[i] = i < k ? '#' : '.';
        bar[w] = 0;
        fmt_secs(ts, sizeof ts, f > 0 ? el * (1 - f) / f : 0);
        fprintf(stderr, "\r\033[K%s [%s] %llu/%llu %s %s ETA %s", p->label, bar, (unsigned long long)done,
                (unsigned long long)p->total, rs, extra ? extra : "", ts);
    } else {
        fmt_secs(ts, sizeof ts, el);
        fprintf(stderr, "\r\033[K%s %llu %s %s %s", p->label, (unsigned long long)done, extra ? extra : "", rs, ts);
    }
}

void ft_progress_end(ft_progress *p) {
    if (p->enabled) fprintf(stderr, "\r\033[K");
}

uint64_t ft_progress_count_lines(const char *path) {
    if (!(ft_verbosity >= 1 && isatty(2)) || !path || !strcmp(path, "-")) return 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    struct stat st;
    uint64_t n = 0;
    char buf[1 << 16];
    ssize_t k, total = 0;
    int last = '\n';
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        while ((k = read(fd, buf, sizeof buf)) > 0) {
            if (total == 0 && k >= 4 && !memcmp(buf, "\x28\xb5\x2f\xfd", 4)) { n = 0; last = '\n'; break; }   // zstd: unknown
            for (ssize_t i = 0; i < k; i++) n += buf[i] == '\n';
            last = buf[k - 1];
            total += k;
        }
    }
    close(fd);
    return n + (last != '\n');
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
