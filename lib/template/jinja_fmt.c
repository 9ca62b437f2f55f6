// jinja_fmt.c — Python string formatting as jinja2 renders it: printf-style `fmt % args`
// (the `%` operator and the `format` filter), `str.format` as the sandbox's
// SandboxedFormatter (string.Formatter) runs it, and format(value, spec) with the
// format-spec mini-language. Floats are laid out from correctly rounded digits by Python's
// own rules (repr, 'g' with add-dot-0, '%'), so output and error texts match CPython.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/err.h"
#include "template/jinja_int.h"

#define FMT_MAX_WIDTH 1000000
#define FMT_MAX_PREC 1000

// Python type names as they appear in TypeError/ValueError texts
static const char *pyname(jv v) {
    if (v.t == JV_UNDEF) return "Undefined";
    return jv_type_name(v);
}

// ---- float digits -----------------------------------------------------------------------
// Digits of |x| without trailing zeros, and the decimal point position (value = 0.DIGITS *
// 10^decpt). mode 0: shortest round-trip; 2: nd significant digits; 3: nd digits after the point.
static void dtoa(double x, int mode, int nd, char *dig, int *decpt) {
    char tmp[FMT_MAX_PREC + 400];
    x = fabs(x);
    if (x == 0) { strcpy(dig, "0"); *decpt = 1; return; }
    int n = 0;
    if (mode == 3) {   // "III.FFF": drop leading zeros, decpt = integer digits left of them
        snprintf(tmp, sizeof tmp, "%.*f", nd, x);
        int intlen = 0, lz = 0, seen = 0;
        for (char *p = tmp; *p; p++) {
            if (*p == '.') { seen = 1; continue; }
            if (!seen) intlen++;
            if (!n && *p == '0') { lz++; continue; }
            dig[n++] = *p;
        }
        if (!n) { strcpy(dig, "0"); *decpt = 1; return; }
        *decpt = intlen - lz;
    } else {
        int prec = nd;
        if (mode == 0)
            for (prec = 1; prec <= 17; prec++) {
                snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
                if (strtod(tmp, NULL) == x) break;
            }
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
        char *e = strchr(tmp, 'e');
        for (char *p = tmp; p < e; p++) if (*p != '.') dig[n++] = *p;
        *decpt = atoi(e + 1) + 1;
    }
    while (n > 1 && dig[n - 1] == '0') n--;
    dig[n] = 0;
}

// CPython's format_float_short: type 'e' 'f' 'g' 'r' (upper-case E F G too), no sign.
static void float_layout(jbuf *b, double x, char type, int prec, int alt, int add_dot_0) {
    int upper = type == 'E' || type == 'F' || type == 'G';
    char t = upper ? (char)(type + 32) : type;
    if (isnan(x) || isinf(x)) { jb_puts(b, isnan(x) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf")); return; }
    char dig[FMT_MAX_PREC + 400];
    int decpt, mode = t == 'r' ? 0 : t == 'f' ? 3 : 2;
    if (t == 'g' && prec == 0) prec = 1;
    dtoa(x, mode, t == 'e' ? prec + 1 : prec, dig, &decpt);
    int nd = (int)strlen(dig), use_exp = 0, exp = 0;
    int vstart, vend = nd;
    if (t == 'e') { use_exp = 1; vend = prec + 1; }
    else if (t == 'f') vend = decpt + prec;
    else if (t == 'g') {
        if (decpt <= -4 || decpt > (add_dot_0 ? prec - 1 : prec)) use_exp = 1;
        if (alt) vend = prec;
    } else if (decpt <= -4 || decpt > 16) use_exp = 1;
    if (use_exp) { exp = decpt - 1; decpt = 1; }
    vstart = decpt <= 0 ? decpt - 1 : 0;
    if (!use_exp && add_dot_0) vend = vend > decpt ? vend : decpt + 1;
    else vend = vend > decpt ? vend : decpt;
    size_t mark = b->n;
    if (decpt <= 0) {
        for (int i = 0; i < decpt - vstart; i++) jb_putc(b, '0');
        jb_putc(b, '.');
        for (int i = 0; i < -decpt; i++) jb_putc(b, '0');
    }
    if (decpt > 0 && decpt <= nd) {
        jb_put(b, dig, (size_t)decpt);
        jb_putc(b, '.');
        jb_put(b, dig + decpt, (size_t)(nd - decpt));
    } else jb_put(b, dig, (size_t)nd);
    if (nd < decpt) {
        for (int i = 0; i < decpt - nd; i++) jb_putc(b, '0');
        jb_putc(b, '.');
        for (int i = 0; i < vend - decpt; i++) jb_putc(b, '0');
    } else for (int i = 0; i < vend - nd; i++) jb_putc(b, '0');
    if (b->n > mark && b->p[b->n - 1] == '.' && !alt) b->n--;
    if (use_exp) {
        char e[16];
        snprintf(e, sizeof e, "%c%c%02d", upper ? 'E' : 'e', exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        jb_puts(b, e);
    }
}

static int all_zero(const char *s, size_t n) {
    for (size_t i = 0; i < n && s[i] != 'e' && s[i] != 'E'; i++) if (s[i] >= '1' && s[i] <= '9') return 0;
    return 1;
}

static void int_digits(jbuf *b, int64_t v, int base, int upper) {
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char tmp[70]; int n = 0;
    const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do { tmp[n++] = d[u % (unsigned)base]; u /= (unsigned)base; } while (u);
    while (n) jb_putc(b, tmp[--n]);
}

// ---- the format-spec mini-language ------------------------------------------------------
typedef struct {
    char fill[5]; int nfill;
    char align, sign, group, type;
    int z, alt, fill_set;
    int64_t width, prec;
} fspec;

static void put_fill(jbuf *b, const fspec *f, int64_t n) { for (int64_t i = 0; i < n; i++) jb_put(b, f->fill, (size_t)f->nfill); }

static int spec_err(jctx *c, const jnode *at, const char *fmt, char x, char y) {
    char m[200];
    snprintf(m, sizeof m, fmt, x, y);
    return jinja_err(c, at, "%s", m);
}

static int read_num(const char *s, size_t n, size_t *i, int64_t *out) {
    if (*i >= n || s[*i] < '0' || s[*i] > '9') return 0;
    int64_t v = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') { if (v < 100000000) v = v * 10 + (s[*i] - '0'); (*i)++; }
    *out = v;
    return 1;
}

// Parse [[fill]align][sign][z][#][0][width][,|_][.precision][type] (CPython's order and errors).
static int parse_spec(jctx *c, const jnode *at, const char *s, size_t n, char def_align, char def_type, jv v, fspec *f) {
    memset(f, 0, sizeof *f);
    f->fill[0] = ' '; f->nfill = 1; f->align = def_align; f->width = -1; f->prec = -1;
    size_t i = 0, j = 0;
    if (n) { ju_decode(s, n, &j); }
    if (n && j < n && strchr("<>=^", s[j])) {
        memcpy(f->fill, s, j); f->nfill = (int)j; f->fill_set = 1; f->align = s[j]; i = j + 1;
    } else if (n && strchr("<>=^", s[0])) { f->align = s[0]; i = 1; }
    int align_set = i > 0;
    if (i < n && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) f->sign = s[i++];
    if (i < n && s[i] == 'z') { f->z = 1; i++; }
    if (i < n && s[i] == '#') { f->alt = 1; i++; }
    if (!f->fill_set && i < n && s[i] == '0') {
        f->fill[0] = '0'; f->nfill = 1;
        if (!align_set && def_align == '>') f->align = '=';
        i++;
    }
    int64_t w;
    if (read_num(s, n, &i, &w)) f->width = w;
    if (i < n && (s[i] == ',' || s[i] == '_')) {
        f->group = s[i++];
        if (i < n && (s[i] == ',' || s[i] == '_')) {
            if (s[i] == f->group) return spec_err(c, at, "Cannot specify '%c' with '%c'.", f->group, f->group);
            return jinja_err(c, at, "Cannot specify both ',' and '_'.");
        }
    }
    if (i < n && s[i] == '.') {
        i++;
        if (!read_num(s, n, &i, &w)) return jinja_err(c, at, "Format specifier missing precision");
        f->prec = w;
    }
    if (n - i > 1)
        return jinja_err(c, at, "Invalid format specifier '%.*s' for object of type '%s'", (int)n, s, pyname(v));
    f->type = i < n ? s[i] : def_type;
    if (f->width > FMT_MAX_WIDTH || f->prec > FMT_MAX_PREC) return jinja_err(c, at, "format width or precision too big");
    if (f->group) {
        if (strchr("defgEG%F", f->type) && f->type) {}
        else if (!f->type) {}
        else if (strchr("boxX", f->type) && f->group == '_') {}
        else if ((unsigned char)f->type > ' ' && (unsigned char)f->type < 128)
            return spec_err(c, at, "Cannot specify '%c' with '%c'.", f->group, f->type);
        else return jinja_err(c, at, "Cannot specify '%c' with '\\x%x'.", f->group, (unsigned char)f->type);
    }
    return 0;
}

// Digits with separators every gsize, zero-padded to min_width when min_width > 0
// (CPython's _PyUnicode_InsertThousandsGrouping).
static void group_digits(jbuf *b, const char *d, int64_t nd, char sep, int gsize, int64_t min_width) {
    if (min_width < 0) min_width = 0;
    if (!sep) {
        for (int64_t i = nd; i < min_width; i++) jb_putc(b, '0');
        jb_put(b, d, (size_t)nd);
        return;
    }
    size_t cap = (size_t)(nd + min_width) * 2 + 8, k = cap;
    char *tmp = malloc(cap);
    if (!tmp) { b->oom = 1; return; }
    int64_t remaining = nd;
    int first = 1;
    for (;;) {
        int64_t l = remaining > min_width ? remaining : min_width;
        if (l < 1) l = 1;
        if (l > gsize) l = gsize;
        int64_t zeros = l - remaining > 0 ? l - remaining : 0, chars = remaining < l ? remaining : l;
        if (chars < 0) chars = 0;
        if (!first) tmp[--k] = sep;
        first = 0;
        for (int64_t i = 0; i < chars; i++) tmp[--k] = d[remaining - 1 - i];
        for (int64_t i = 0; i < zeros; i++) tmp[--k] = '0';
        remaining -= chars;
        min_width -= l;
        if (remaining <= 0 && min_width <= 0) break;
        min_width -= 1;
    }
    jb_put(b, tmp + k, cap - k);
    free(tmp);
}

// sign + prefix + digits (grouped) + rest, padded to the width (CPython's fill_number).
static void number_out(jbuf *b, const fspec *f, const char *sign, const char *prefix, const char *num, size_t nnum,
                       int gsize, int ndigits) {   // ndigits < 0: the leading decimal digits
    size_t nd = ndigits >= 0 ? (size_t)ndigits : 0;
    while (ndigits < 0 && nd < nnum && num[nd] >= '0' && num[nd] <= '9') nd++;
    size_t rest_cp = ju_len(num + nd, nnum - nd);
    int64_t fixed = (int64_t)(strlen(sign) + strlen(prefix) + rest_cp);
    int64_t min_width = f->nfill == 1 && f->fill[0] == '0' && f->align == '=' ? f->width - fixed : 0;
    jbuf g = {0};
    if (nd) group_digits(&g, num, (int64_t)nd, f->group, gsize, min_width);
    int64_t total = fixed + (int64_t)g.n, pad = f->width > total ? f->width - total : 0;
    int64_t lp = 0, rp = 0, sp = 0;
    if (f->align == '<') rp = pad;
    else if (f->align == '^') { lp = pad / 2; rp = pad - lp; }
    else if (f->align == '=') sp = pad;
    else lp = pad;
    put_fill(b, f, lp);
    jb_puts(b, sign);
    jb_puts(b, prefix);
    put_fill(b, f, sp);
    if (g.p) jb_put(b, g.p, g.n);
    if (g.oom) b->oom = 1;
    free(g.p);
    jb_put(b, num + nd, nnum - nd);
    put_fill(b, f, rp);
}

static const char *sign_of(int neg, char flag) { return neg ? "-" : flag == '+' ? "+" : flag == ' ' ? " " : ""; }

static int spec_float(jctx *c, const jnode *at, double x, fspec *f, jbuf *b) {
    char type = f->type;
    int add_dot_0 = 0;
    int64_t prec = f->prec;
    if (!type) { add_dot_0 = 1; type = prec < 0 ? 'r' : 'g'; }
    if (type == 'n') type = 'g';
    if (prec < 0) prec = 6;
    jbuf num = {0};
    double y = type == '%' ? x * 100 : x;
    float_layout(&num, y, type == '%' ? 'f' : type, (int)prec, f->alt, add_dot_0);
    if (type == '%') jb_putc(&num, '%');
    int neg = signbit(y) && !isnan(y);
    if (neg && f->z && all_zero(num.p ? num.p : "", num.n)) neg = 0;
    number_out(b, f, sign_of(neg, f->sign), "", num.p ? num.p : "", num.n, 3, -1);
    if (num.oom) b->oom = 1;
    free(num.p);
    (void)c; (void)at;
    return 0;
}

static int unknown_code(jctx *c, const jnode *at, char t, jv v) {
    if ((unsigned char)t > ' ' && (unsigned char)t < 128)
        return jinja_err(c, at, "Unknown format code '%c' for object of type '%s'", t, pyname(v));
    return jinja_err(c, at, "Unknown format code '\\x%x' for object of type '%s'", (unsigned char)t, pyname(v));
}

// format(v, spec) into b.
int jinja_format_value(jctx *c, const jnode *at, jv v, const char *spec, size_t n, jbuf *b) {
    if (!n) { jv_str(b, v); return 0; }
    fspec f;
    if (v.t == JV_STR) {
        if (parse_spec(c, at, spec, n, '<', 's', v, &f)) return -1;
        if (f.type != 's') return unknown_code(c, at, f.type, v);
        if (f.sign) return jinja_err(c, at, "%s not allowed in string format specifier", f.sign == ' ' ? "Space" : "Sign");
        if (f.z) return jinja_err(c, at, "Negative zero coercion (z) not allowed in string format specifier");
        if (f.alt) return jinja_err(c, at, "Alternate form (#) not allowed in string format specifier");
        if (f.align == '=') return jinja_err(c, at, "'=' alignment not allowed in string format specifier");
        size_t len = ju_len(v.u.s.s, v.u.s.n), bytes = v.u.s.n;
        if (f.prec >= 0 && (size_t)f.prec < len) { bytes = ju_offset(v.u.s.s, v.u.s.n, (size_t)f.prec); len = (size_t)f.prec; }
        int64_t pad = f.width > (int64_t)len ? f.width - (int64_t)len : 0, lp = 0;
        if (f.align == '>') lp = pad; else if (f.align == '^') lp = pad / 2;
        put_fill(b, &f, lp);
        jb_put(b, v.u.s.s, bytes);
        put_fill(b, &f, pad - lp);
        return 0;
    }
    if (v.t == JV_INT || v.t == JV_BOOL) {
        if (parse_spec(c, at, spec, n, '>', 'd', v, &f)) return -1;
        if (f.type && strchr("eEfFgG%", f.type)) return spec_float(c, at, (double)v.u.i, &f, b);
        if (!f.type || !strchr("bcdoxXn", f.type)) return unknown_code(c, at, f.type, v);
        if (f.prec >= 0) return jinja_err(c, at, "Precision not allowed in integer format specifier");
        if (f.z) return jinja_err(c, at, "Negative zero coercion (z) not allowed in integer format specifier");
        jbuf num = {0};
        const char *prefix = "";
        int gsize = 3;
        if (f.type == 'c') {
            if (f.sign) return jinja_err(c, at, "Sign not allowed with integer format specifier 'c'");
            if (f.alt) return jinja_err(c, at, "Alternate form (#) not allowed with integer format specifier 'c'");
            if (v.u.i < 0 || v.u.i > 0x10ffff) return jinja_err(c, at, "%%c arg not in range(0x110000)");
            utf8proc_uint8_t u[4];
            utf8proc_ssize_t k = utf8proc_encode_char((utf8proc_int32_t)v.u.i, u);
            jb_put(&num, (const char *)u, (size_t)k);   // the character never groups or zero-fills
        } else {
            int base = f.type == 'b' ? 2 : f.type == 'o' ? 8 : (f.type == 'x' || f.type == 'X') ? 16 : 10;
            if (base != 10) gsize = 4;
            if (f.alt) prefix = base == 2 ? "0b" : base == 8 ? "0o" : f.type == 'X' ? "0X" : base == 16 ? "0x" : "";
            int_digits(&num, v.u.i, base, f.type == 'X');
        }
        number_out(b, &f, f.type == 'c' ? "" : sign_of(v.u.i < 0, f.sign), prefix, num.p ? num.p : "", num.n, gsize, f.type == 'c' ? 0 : (int)num.n);
        if (num.oom) b->oom = 1;
        free(num.p);
        return 0;
    }
    if (v.t == JV_FLOAT) {
        if (parse_spec(c, at, spec, n, '>', 0, v, &f)) return -1;
        if (f.type && !strchr("eEfFgGn%", f.type)) return unknown_code(c, at, f.type, v);
        return spec_float(c, at, v.u.f, &f, b);
    }
    return jinja_err(c, at, "unsupported format string passed to %s.__format__", pyname(v));
}

// ---- printf-style: fmt % args -----------------------------------------------------------
// CPython's state: a tuple walks idx < len; a single value (len -1) is taken once (idx -2 -> -1)
typedef struct { jv args; int64_t len, idx; } pctx;

static int next_arg(jctx *c, const jnode *at, pctx *p, jv *out) {
    if (p->len < 0) {
        if (p->idx == -2) { p->idx = -1; *out = p->args; return 0; }
    } else if (p->idx < p->len) { *out = p->args.u.l->v[p->idx++]; return 0; }
    return jinja_err(c, at, "not enough arguments for format string");
}

static void pct_pad(jbuf *b, const char *s, size_t n, size_t cps, int64_t width, int left) {
    int64_t pad = width > (int64_t)cps ? width - (int64_t)cps : 0;
    if (!left) for (int64_t i = 0; i < pad; i++) jb_putc(b, ' ');
    jb_put(b, s, n);
    if (left) for (int64_t i = 0; i < pad; i++) jb_putc(b, ' ');
}

// Python's PyMapping_Check: dicts, and lists too (they have __getitem__); not tuples
static int is_mapping(jv v) { return (v.t == JV_DICT && !v.u.d->ns) || (v.t == JV_LIST && !v.u.l->tuple && !v.u.l->lazy); }

int jinja_percent(jctx *c, const jnode *at, jv fmt, jv args, jv *out) {
    pctx p = {args, -1, -2};
    if (args.t == JV_LIST && args.u.l->tuple) { p.len = (int64_t)args.u.l->n; p.idx = 0; }
    int has_dict = is_mapping(args);
    const char *s = fmt.u.s.s;
    size_t n = fmt.u.s.n;
    jbuf b = {0};
#define FAIL(...) do { free(b.p); return jinja_err(c, at, __VA_ARGS__); } while (0)
#define FAILED() do { free(b.p); return -1; } while (0)
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') { size_t j = i; while (j < n && s[j] != '%') j++; jb_put(&b, s + i, j - i); i = j - 1; continue; }
        i++;
        if (i < n && s[i] == '%') { jb_putc(&b, '%'); continue; }
        if (i < n && s[i] == '(') {
            if (!has_dict) FAIL("format requires a mapping");
            size_t k = ++i; int depth = 1;
            while (i < n && depth) { if (s[i] == '(') depth++; else if (s[i] == ')') depth--; if (depth) i++; }
            if (depth) FAIL("incomplete format key");
            jv key = jv_strn(s + k, i - k), *val = NULL;
            i++;
            if (args.t != JV_DICT || args.u.d->ns) FAIL("list indices must be integers or slices, not str");
            val = jd_get(args.u.d, key);
            if (!val) FAIL("'%.*s'", (int)key.u.s.n, key.u.s.s);
            p.args = *val; p.len = -1; p.idx = -2;
        }
        int left = 0, plus = 0, space = 0, alt = 0, zero = 0;
        for (; i < n; i++) {
            if (s[i] == '-') left = 1; else if (s[i] == '+') plus = 1; else if (s[i] == ' ') space = 1;
            else if (s[i] == '#') alt = 1; else if (s[i] == '0') zero = 1; else break;
        }
        int64_t width = -1, prec = -1;
        jv a;
        if (i < n && s[i] == '*') {
            if (next_arg(c, at, &p, &a)) FAILED();
            if (a.t != JV_INT && a.t != JV_BOOL) FAIL("* wants int");
            width = a.u.i;
            if (width < 0) { left = 1; width = -width; }
            i++;
        } else read_num(s, n, &i, &width);
        if (i < n && s[i] == '.') {
            i++;
            prec = 0;
            if (i < n && s[i] == '*') {
                if (next_arg(c, at, &p, &a)) FAILED();
                if (a.t != JV_INT && a.t != JV_BOOL) FAIL("* wants int");
                prec = a.u.i < 0 ? 0 : a.u.i;
                i++;
            } else read_num(s, n, &i, &prec);
        }
        if (width > FMT_MAX_WIDTH || prec > FMT_MAX_PREC) FAIL("format width or precision too big");
        while (i < n && (s[i] == 'h' || s[i] == 'l' || s[i] == 'L')) i++;
        if (i >= n) FAIL("incomplete format");
        char t = s[i];
        if (next_arg(c, at, &p, &a)) FAILED();
        jbuf v = {0};
        const char *sign = "", *prefix = "";
        switch (t) {
        case 's': case 'r': case 'a': {
            if (t == 's') jv_str(&v, a);
            else jinja_repr_ascii(&v, a, t == 'a');
            size_t len = ju_len(v.p ? v.p : "", v.n), bytes = v.n;
            if (prec >= 0 && (size_t)prec < len) { bytes = ju_offset(v.p, v.n, (size_t)prec); len = (size_t)prec; }
            pct_pad(&b, v.p ? v.p : "", bytes, len, width, left);
            free(v.p);
            continue;
        }
        case 'c': {
            int64_t cp;
            if (a.t == JV_INT || a.t == JV_BOOL) {
                cp = a.u.i;
                if (cp < 0 || cp > 0x10ffff) FAIL("%%c arg not in range(0x110000)");
            } else if (a.t == JV_STR && ju_len(a.u.s.s, a.u.s.n) == 1) {
                size_t k = 0; cp = ju_decode(a.u.s.s, a.u.s.n, &k);
            } else FAIL("%%c requires int or char");
            utf8proc_uint8_t u[4];
            utf8proc_ssize_t k = utf8proc_encode_char((utf8proc_int32_t)cp, u);
            pct_pad(&b, (const char *)u, (size_t)k, 1, width, left);
            continue;
        }
        case 'd': case 'i': case 'u': case 'o': case 'x': case 'X': {
            int64_t iv;
            if (a.t == JV_INT || a.t == JV_BOOL) iv = a.u.i;
            else if (a.t == JV_FLOAT && (t == 'd' || t == 'i' || t == 'u')) {
                if (isinf(a.u.f)) FAIL("cannot convert float infinity to integer");
                if (isnan(a.u.f)) FAIL("cannot convert float NaN to integer");
                if (!(a.u.f > -9.2e18 && a.u.f < 9.2e18)) FAIL("integer too large for ft's 64-bit integers");
                iv = (int64_t)a.u.f;
            } else if (t == 'd' || t == 'i' || t == 'u') FAIL("%%%c format: a real number is required, not %s", t, pyname(a));
            else FAIL("%%%c format: an integer is required, not %s", t, pyname(a));
            int base = t == 'o' ? 8 : (t == 'x' || t == 'X') ? 16 : 10;
            jbuf d = {0};
            int_digits(&d, iv, base, t == 'X');
            for (int64_t k = (int64_t)d.n; k < prec; k++) jb_putc(&v, '0');
            if (d.p) jb_put(&v, d.p, d.n);
            free(d.p);
            sign = iv < 0 ? "-" : plus ? "+" : space ? " " : "";
            if (alt && base != 10) prefix = t == 'o' ? "0o" : t == 'x' ? "0x" : "0X";
            break;
        }
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': {
            double x;
            if (a.t == JV_FLOAT) x = a.u.f;
            else if (a.t == JV_INT || a.t == JV_BOOL) x = (double)a.u.i;
            else FAIL("must be real number, not %s", pyname(a));
            float_layout(&v, x, t, prec < 0 ? 6 : (int)prec, alt, 0);
            sign = signbit(x) && !isnan(x) ? "-" : plus ? "+" : space ? " " : "";
            break;
        }
        default:
            if ((unsigned char)t < 128)
                FAIL("unsupported format character '%c' (0x%x) at index %zu", t, (unsigned char)t, ju_len(s, i));
            {
                size_t k = i; int cp = ju_decode(s, n, &k);
                char tmp[8] = {0}; memcpy(tmp, s + i, k - i);
                FAIL("unsupported format character '%s' (0x%x) at index %zu", tmp, cp, ju_len(s, i));
            }
        }
        int64_t body = (int64_t)(strlen(sign) + strlen(prefix) + v.n), pad = width > body ? width - body : 0;
        if (left) { jb_puts(&b, sign); jb_puts(&b, prefix); if (v.p) jb_put(&b, v.p, v.n); for (int64_t k = 0; k < pad; k++) jb_putc(&b, ' '); }
        else if (zero) { jb_puts(&b, sign); jb_puts(&b, prefix); for (int64_t k = 0; k < pad; k++) jb_putc(&b, '0'); if (v.p) jb_put(&b, v.p, v.n); }
        else { for (int64_t k = 0; k < pad; k++) jb_putc(&b, ' '); jb_puts(&b, sign); jb_puts(&b, prefix); if (v.p) jb_put(&b, v.p, v.n); }
        if (v.oom) b.oom = 1;
        free(v.p);
    }
    if (p.len >= 0 ? p.idx < p.len && !has_dict : (p.idx == -2 && !has_dict))
        FAIL("not all arguments converted during string formatting");
    if (b.oom) { free(b.p); return ft_err("out of memory"); }
    *out = jv_str_copy(c->a, b.p ? b.p : "", b.n);
    free(b.p);
    return 0;
#undef FAIL
#undef FAILED
}

// ---- str.format through string.Formatter ------------------------------------------------
typedef struct { jv *args; size_t nargs; const char **kwn; jv *kwv; size_t nkw; int64_t auto_i; } fctx;   // auto_i: -1 manual

static int vformat(jctx *c, const jnode *at, const char *s, size_t n, fctx *F, int depth, jbuf *b);

// One replacement field: name[.attr|[key]]*[!conv][:spec], text between the braces.
static int do_field(jctx *c, const jnode *at, const char *f, size_t n, fctx *F, int depth, jbuf *b) {
    size_t i = 0;
    while (i < n && f[i] != '.' && f[i] != '[' && f[i] != '!' && f[i] != ':') i++;
    size_t nend = i;
    // attribute/index chain
    size_t chain = i;
    while (i < n && (f[i] == '.' || f[i] == '[')) {
        if (f[i] == '[') { while (i < n && f[i] != ']') i++; if (i >= n) return jinja_err(c, at, "Missing ']' in format string"); i++; }
        else { i++; while (i < n && f[i] != '.' && f[i] != '[' && f[i] != '!' && f[i] != ':') i++; }
    }
    size_t chain_end = i;
    char conv = 0;
    if (i < n && f[i] == '!') {
        if (i + 1 >= n) return jinja_err(c, at, "end of string while looking for conversion specifier");
        conv = f[i + 1];
        i += 2;
        if (i < n && f[i] != ':') return jinja_err(c, at, "expected ':' after conversion specifier");
    }
    const char *spec = i < n ? f + i + 1 : "";
    size_t nspec = i < n ? n - i - 1 : 0;
    // the argument
    jv v;
    int digits = nend > 0;
    for (size_t k = 0; k < nend; k++) if (f[k] < '0' || f[k] > '9') digits = 0;
    if (nend == 0 && chain == chain_end) {
        if (F->auto_i < 0) return jinja_err(c, at, "cannot switch from manual field specification to automatic field numbering");
        if ((size_t)F->auto_i >= F->nargs) return jinja_err(c, at, "tuple index out of range");
        v = F->args[F->auto_i++];
    } else if (digits) {
        if (chain == chain_end) {   // Formatter checks only a plain "N" field (str.isdigit)
            if (F->auto_i > 0) return jinja_err(c, at, "cannot switch from manual field specification to automatic field numbering");
            F->auto_i = -1;
        }
        size_t k = (size_t)atoll(f);
        if (nend > 18 || k >= F->nargs) return jinja_err(c, at, "tuple index out of range");
        v = F->args[k];
    } else {
        int found = 0;
        for (size_t k = 0; k < F->nkw; k++)
            if (strlen(F->kwn[k]) == nend && !memcmp(F->kwn[k], f, nend)) { v = F->kwv[k]; found = 1; }
        if (!found) return jinja_err(c, at, "'%.*s'", (int)nend, f);
    }
    for (i = chain; i < chain_end;) {
        jv key;
        if (f[i] == '.') {
            size_t k = ++i;
            while (i < chain_end && f[i] != '.' && f[i] != '[') i++;
            if (i == k) return jinja_err(c, at, "Empty attribute in format string");
            char *name = ja_strndup(c->a, f + k, i - k);
            if (!name) return -1;
            v = jinja_getattr(c, v, name);
            continue;
        }
        size_t k = ++i;
        while (f[i] != ']') i++;
        if (i == k) return jinja_err(c, at, "Empty attribute in format string");
        int isnum = 1;
        for (size_t q = k; q < i; q++) if (f[q] < '0' || f[q] > '9') isnum = 0;
        key = isnum && i - k < 18 ? jv_int(atoll(f + k)) : jv_strn(f + k, i - k);
        i++;
        if (jinja_getitem(c, at, v, key, &v)) return -1;
    }
    jbuf tmp = {0};
    if (conv == 's' || conv == 'r' || conv == 'a') {
        if (conv == 's') jv_str(&tmp, v); else jinja_repr_ascii(&tmp, v, conv == 'a');
        v = jv_str_copy(c->a, tmp.p ? tmp.p : "", tmp.n);
        free(tmp.p);
        tmp = (jbuf){0};
    } else if (conv) return jinja_err(c, at, "Unknown conversion specifier %c", conv);
    // the spec is formatted in turn (it may hold nested fields), one level deeper
    if (depth - 1 < 0) return jinja_err(c, at, "Max string recursion exceeded");
    if (memchr(spec, '{', nspec)) {
        if (vformat(c, at, spec, nspec, F, depth - 1, &tmp)) { free(tmp.p); return -1; }
        int rc = jinja_format_value(c, at, v, tmp.p ? tmp.p : "", tmp.n, b);
        free(tmp.p);
        return rc;
    }
    return jinja_format_value(c, at, v, spec, nspec, b);
}

static int vformat(jctx *c, const jnode *at, const char *s, size_t n, fctx *F, int depth, jbuf *b) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '}') {
            if (i + 1 < n && s[i + 1] == '}') { jb_putc(b, '}'); i++; continue; }
            return jinja_err(c, at, "Single '}' encountered in format string");
        }
        if (s[i] != '{') { jb_putc(b, s[i]); continue; }
        if (i + 1 >= n) return jinja_err(c, at, "Single '{' encountered in format string");
        if (s[i + 1] == '{') { jb_putc(b, '{'); i++; continue; }
        // the field: up to the matching '}' ('[...]' in the name hides braces)
        size_t j = i + 1;
        int count = 1, in_name = 1;
        while (j < n) {
            char ch = s[j];
            if (in_name && ch == '[') { while (j < n && s[j] != ']') j++; if (j >= n) break; j++; continue; }
            if (ch == ':' || ch == '!') in_name = 0;
            if (ch == '{') count++;
            else if (ch == '}' && --count == 0) break;
            j++;
        }
        if (j >= n) return jinja_err(c, at, count > 1 || !in_name ? "unmatched '{' in format spec" : "expected '}' before end of string");
        if (do_field(c, at, s + i + 1, j - i - 1, F, depth, b)) return -1;
        i = j;
    }
    return 0;
}

int jinja_str_format(jctx *c, const jnode *at, jv fmt, jv *args, size_t nargs, const char **kwn, jv *kwv, size_t nkw,
                     jv *out) {
    fctx F = {args, nargs, kwn, kwv, nkw, 0};
    jbuf b = {0};
    if (vformat(c, at, fmt.u.s.s, fmt.u.s.n, &F, 2, &b)) { free(b.p); return -1; }
    if (b.oom) { free(b.p); return ft_err("out of memory"); }
    *out = jv_str_copy(c->a, b.p ? b.p : "", b.n);
    free(b.p);
    return 0;
}
