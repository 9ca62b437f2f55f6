// parse.c — strict option-value parsing (see parse.h).
#include "core/parse.h"
#include "core/err.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

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
