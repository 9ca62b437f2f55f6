// log.c — the library's message and progress hooks (see log.h), and the monotonic clock.
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static ft_log_hooks hooks;

void ft_log_set(const ft_log_hooks *h) {
    ft_log_hooks none = {0};
    hooks = h ? *h : none;
}

void ft_log_info(int level, const char *fmt, ...) {
    if (!hooks.info) return;
    char buf[1024], *msg = buf;
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof buf && (msg = malloc((size_t)n + 1)))   // a long one (paths): whole
        vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    hooks.info(hooks.ctx, level, msg ? msg : buf);
    if (msg != buf) free(msg);
}

void ft_log_progress(int event, const char *label, uint64_t done, uint64_t total, const char *extra) {
    if (hooks.progress) hooks.progress(hooks.ctx, event, label, done, total, extra);
}

double ft_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
