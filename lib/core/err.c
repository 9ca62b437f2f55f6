// err.c — thread-local error message buffer and checked allocation (see err.h).
#include "core/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char ft_msg[2048];

int ft_err(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ft_msg, sizeof ft_msg, fmt, ap);
    va_end(ap);
    return FT_ERR;
}

int ft_err_ctx(const char *fmt, ...) {
    char prefix[1024], old[sizeof ft_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, ft_msg, sizeof old);
    snprintf(ft_msg, sizeof ft_msg, "%s: %s", prefix, old[0] ? old : "error");
    return FT_ERR;
}

const char *ft_errmsg(void) { return ft_msg; }
void ft_err_clear(void) { ft_msg[0] = 0; }

void *ft_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) ft_err("out of memory allocating %zu bytes", n);
    return p;
}

void *ft_calloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) ft_err("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *ft_realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) ft_err("out of memory allocating %zu bytes", n);
    return q;
}

char *ft_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = ft_malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

int ft_mul_ok(size_t a, size_t b, size_t *out) {
    if (a && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}
