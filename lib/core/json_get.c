// json_get.c — typed, checked getters for JSON config keys (see json_get.h).
#include "core/json_get.h"
#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *ft_json_describe(const json_t *v, char *buf, size_t cap) {
    if (!v) snprintf(buf, cap, "nothing");
    else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = strlen(s);
        snprintf(buf, cap, "a string (\"%.*s%s\")", n > 40 ? 40 : (int)n, s, n > 40 ? "..." : "");
    } else if (json_is_integer(v)) snprintf(buf, cap, "an integer (%lld)", (long long)json_integer_value(v));
    else if (json_is_real(v)) snprintf(buf, cap, "a number (%.17g)", json_real_value(v));
    else if (json_is_true(v)) snprintf(buf, cap, "true");
    else if (json_is_false(v)) snprintf(buf, cap, "false");
    else if (json_is_null(v)) snprintf(buf, cap, "null");
    else if (json_is_array(v)) {
        size_t n = json_array_size(v);
        if (n) snprintf(buf, cap, "an array of %zu", n);
        else snprintf(buf, cap, "an empty array");
    }
    else snprintf(buf, cap, "an object");
    return buf;
}

int ft_json_type_err(const char *file, const char *key, const char *want, const json_t *got) {
    char d[96];
    return ft_err("%s: key \"%s\": expected %s, got %s", file, key, want, ft_json_describe(got, d, sizeof d));
}

// The value of key, NULL when absent or null.
static const json_t *present(const json_t *obj, const char *key) {
    const json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) ? v : NULL;
}

int ft_json_integral(const json_t *v, long long *out) {
    if (json_is_integer(v)) {
        *out = (long long)json_integer_value(v);
        return 1;
    }
    if (!json_is_real(v)) return 0;
    double x = json_real_value(v);
    if (!(x == floor(x)) || fabs(x) > 9.0e18) return 0;
    *out = (long long)x;
    return 1;
}

int ft_json_get_int(const json_t *obj, const char *key, const char *file, int lo, int hi, int dflt, int *out) {
    *out = dflt;
    const json_t *v = present(obj, key);
    if (!v) return 0;
    long long x;
    if (!ft_json_integral(v, &x)) return ft_json_type_err(file, key, "an integer", v);
    if (x < lo || x > hi) return ft_err("%s: key \"%s\": %lld is out of range (%d..%d)", file, key, x, lo, hi);
    *out = (int)x;
    return 1;
}

int ft_json_get_num(const json_t *obj, const char *key, const char *file, double dflt, double *out) {
    *out = dflt;
    const json_t *v = present(obj, key);
    if (!v) return 0;
    if (!json_is_number(v)) return ft_json_type_err(file, key, "a number", v);
    *out = json_number_value(v);
    return 1;
}

int ft_json_get_bool(const json_t *obj, const char *key, const char *file, int dflt, int *out) {
    *out = dflt;
    const json_t *v = present(obj, key);
    if (!v) return 0;
    if (!json_is_boolean(v)) return ft_json_type_err(file, key, "true or false", v);
    *out = json_is_true(v);
    return 1;
}

int ft_json_get_str(const json_t *obj, const char *key, const char *file, const char *dflt, const char **out) {
    *out = dflt;
    const json_t *v = present(obj, key);
    if (!v) return 0;
    if (!json_is_string(v)) return ft_json_type_err(file, key, "a string", v);
    *out = json_string_value(v);
    return 1;
}

int ft_json_get_obj(const json_t *obj, const char *key, const char *file, json_t **out) {
    *out = NULL;
    const json_t *v = present(obj, key);
    if (!v) return 0;
    if (!json_is_object(v)) return ft_json_type_err(file, key, "an object", v);
    *out = (json_t *)v;
    return 1;
}
