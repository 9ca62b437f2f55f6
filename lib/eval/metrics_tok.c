// metrics_tok.c — sacrebleu's BLEU tokenizers reproduced on UTF-8 bytes: 13a (mteval-v13a),
// intl (mteval-v14 international, Unicode P/S/N classes), char and none. Each regex pass is
// emulated as Python's re.sub does it: left to right, non-overlapping matches.
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/err.h"
#include "eval/metrics.h"

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_grow(sbuf *b, size_t more) {
    if (b->oom || b->n + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + more + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return; }
    b->p = p;
    b->cap = cap;
}
// Buffers are not NUL-terminated while they are built (lengths are kept); the caller of
// ft_bleu_tokenize gets a terminated string.
static void sb_put(sbuf *b, const char *s, size_t n) {
    sb_grow(b, n);
    if (b->oom) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static inline void sb_c(sbuf *b, char c) {
    if (b->n + 1 < b->cap) b->p[b->n++] = c;
    else sb_put(b, &c, 1);
}

// Decode one code point at s[i..n); returns its byte length (>= 1).
static size_t cp_at(const char *s, size_t n, size_t i, uint32_t *c) {
    utf8proc_int32_t v;
    utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &v);
    if (m <= 0) { *c = 0xFFFD; return 1; }
    *c = (uint32_t)v;
    return (size_t)m;
}

// Python's ' '.join(s.split()) appended to out.
static void split_join(sbuf *out, const char *s, size_t n) {
    int pending = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t m = cp_at(s, n, i, &c);
        if (ft_py_isspace(c)) { pending = out->n > 0; i += m; continue; }
        if (pending) { sb_c(out, ' '); pending = 0; }
        sb_put(out, s + i, m);
        i += m;
    }
}

// Length of s without trailing Python whitespace (str.rstrip()).
static size_t rstrip_len(const char *s, size_t n) {
    while (n > 0) {
        size_t st = n - 1;
        while (st > 0 && ((unsigned char)s[st] & 0xC0) == 0x80 && n - st < 4) st--;
        uint32_t c;
        size_t m = cp_at(s, n, st, &c);
        if (st + m != n || !ft_py_isspace(c)) break;
        n = st;
    }
    return n;
}

// Replace every occurrence of `from` by `to` (str.replace).
static void replace_all(sbuf *dst, const char *s, size_t n, const char *from, const char *to) {
    size_t fl = strlen(from), tl = strlen(to);
    for (size_t i = 0; i < n;) {
        if (s[i] == from[0] && i + fl <= n && memcmp(s + i, from, fl) == 0) { sb_put(dst, to, tl); i += fl; }
        else sb_c(dst, s[i++]);
    }
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_13a_sym(unsigned char c) {   // [\{-\~\[-\` -\&\(-\+\:-\@\/]
    return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
           (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == '/';
}

static int tok_13a(sbuf *out, const char *s, size_t n) {
    sbuf a = {0}, b = {0};
    replace_all(&a, s, n, "<skipped>", "");
    replace_all(&b, a.p ? a.p : "", a.n, "-\n", "");
    a.n = 0;
    replace_all(&a, b.p ? b.p : "", b.n, "\n", " ");
    if (a.n && memchr(a.p, '&', a.n)) {
        static const char *ents[4][2] = {{"&quot;", "\""}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
        for (int e = 0; e < 4; e++) {
            b.n = 0;
            replace_all(&b, a.p, a.n, ents[e][0], ents[e][1]);
            a.n = 0;
            sb_put(&a, b.p ? b.p : "", b.n);
        }
    }
    // f' {line} ' then the four regex passes (byte-wise scanning is equivalent: every class
    // is ASCII and the negated classes accept any non-ASCII byte)
    b.n = 0;
    sb_c(&b, ' ');
    sb_put(&b, a.p ? a.p : "", a.n);
    sb_c(&b, ' ');
    a.n = 0;
    sb_grow(&a, 3 * b.n + 8);
    sb_grow(&b, 3 * b.n + 8);   // each later pass at most doubles what rule 1 produced
    for (size_t i = 0; i < b.n; i++) {
        unsigned char c = (unsigned char)b.p[i];
        if (is_13a_sym(c)) { sb_c(&a, ' '); sb_c(&a, (char)c); sb_c(&a, ' '); }
        else sb_c(&a, (char)c);
    }
    b.n = 0;   // ([^0-9])([\.,]) -> '\1 \2 '
    sb_grow(&b, 2 * a.n + 8);
    for (size_t i = 0; i < a.n;) {
        unsigned char c = (unsigned char)a.p[i];
        if (i + 1 < a.n && !is_digit(c) && (a.p[i + 1] == '.' || a.p[i + 1] == ',')) {
            sb_c(&b, (char)c); sb_c(&b, ' '); sb_c(&b, a.p[i + 1]); sb_c(&b, ' ');
            i += 2;
        } else sb_c(&b, a.p[i++]);
    }
    a.n = 0;   // ([\.,])([^0-9]) -> ' \1 \2'
    sb_grow(&a, 2 * b.n + 8);
    for (size_t i = 0; i < b.n;) {
        char c = b.p[i];
        if (i + 1 < b.n && (c == '.' || c == ',') && !is_digit((unsigned char)b.p[i + 1])) {
            sb_c(&a, ' '); sb_c(&a, c); sb_c(&a, ' '); sb_c(&a, b.p[i + 1]);
            i += 2;
        } else sb_c(&a, b.p[i++]);
    }
    b.n = 0;   // ([0-9])(-) -> '\1 \2 '
    sb_grow(&b, 2 * a.n + 8);
    for (size_t i = 0; i < a.n;) {
        if (i + 1 < a.n && is_digit((unsigned char)a.p[i]) && a.p[i + 1] == '-') {
            sb_c(&b, a.p[i]); sb_c(&b, ' '); sb_c(&b, '-'); sb_c(&b, ' ');
            i += 2;
        } else sb_c(&b, a.p[i++]);
    }
    int oom = a.oom || b.oom;
    if (!oom) split_join(out, b.p ? b.p : "", b.n);
    free(a.p);
    free(b.p);
    return oom ? ft_err("out of memory tokenizing") : 0;
}

static int cat_N(uint32_t c) {
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}
static int cat_P(uint32_t c) {
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}
static int cat_S(uint32_t c) {
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k >= UTF8PROC_CATEGORY_SM && k <= UTF8PROC_CATEGORY_SO;
}

static void put_cp(sbuf *b, uint32_t c) {
    char u[4];
    size_t m = (size_t)utf8proc_encode_char((utf8proc_int32_t)c, (utf8proc_uint8_t *)u);
    sb_put(b, u, m);
}

static int tok_intl(sbuf *out, const char *s, size_t n) {
    uint32_t *cp;
    size_t m;
    if (ft_utf8_decode(s, n, &cp, &m) < 0) return -1;
    // pass 1: (\P{N})(\p{P}) -> '\1 \2 '; pass 2: (\p{P})(\P{N}) -> ' \1 \2'; pass 3: (\p{S}) -> ' \1 '
    uint32_t *t = malloc((4 * m + 1) * sizeof *t), *u = malloc((4 * m + 1) * sizeof *u);
    if (!t || !u) { free(cp); free(t); free(u); return ft_err("out of memory tokenizing"); }
    size_t k = 0;
    for (size_t i = 0; i < m;) {
        if (i + 1 < m && !cat_N(cp[i]) && cat_P(cp[i + 1])) {
            t[k++] = cp[i]; t[k++] = ' '; t[k++] = cp[i + 1]; t[k++] = ' ';
            i += 2;
        } else t[k++] = cp[i++];
    }
    size_t l = 0;
    for (size_t i = 0; i < k;) {
        if (i + 1 < k && cat_P(t[i]) && !cat_N(t[i + 1])) {
            u[l++] = ' '; u[l++] = t[i]; u[l++] = ' '; u[l++] = t[i + 1];
            i += 2;
        } else u[l++] = t[i++];
    }
    free(cp);
    sbuf b = {0};
    for (size_t i = 0; i < l; i++) {
        if (cat_S(u[i])) { sb_c(&b, ' '); put_cp(&b, u[i]); sb_c(&b, ' '); }
        else put_cp(&b, u[i]);
    }
    free(t);
    free(u);
    int oom = b.oom;
    if (!oom) split_join(out, b.p ? b.p : "", b.n);
    free(b.p);
    return oom ? ft_err("out of memory tokenizing") : 0;
}

static int tok_char(sbuf *out, const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t m = cp_at(s, n, i, &c);
        if (!ft_py_isspace(c)) {
            if (out->n) sb_c(out, ' ');
            sb_put(out, s + i, m);
        }
        i += m;
    }
    return 0;
}

int ft_bleu_tok_parse(const char *name) {
    static const char *names[] = {"13a", "intl", "char", "none"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, names[i])) return i;
    return -1;
}

const char *ft_bleu_tok_name(int tok) {
    static const char *names[] = {"13a", "intl", "char", "none"};
    return tok >= 0 && tok < 4 ? names[tok] : "?";
}

char *ft_bleu_tokenize(int tok, const char *s, size_t n, size_t *outlen) {
    n = rstrip_len(s, n);
    sbuf out = {0};
    int rc;
    switch (tok) {
    case FT_BLEU_TOK_13A: rc = tok_13a(&out, s, n); break;
    case FT_BLEU_TOK_INTL: rc = tok_intl(&out, s, n); break;
    case FT_BLEU_TOK_CHAR: rc = tok_char(&out, s, n); break;
    case FT_BLEU_TOK_NONE: split_join(&out, s, n); rc = 0; break;
    default: rc = ft_err("unknown BLEU tokenizer %d", tok);
    }
    sb_grow(&out, 1);
    if (rc < 0 || out.oom) {
        free(out.p);
        if (rc == 0) ft_err("out of memory tokenizing");
        return NULL;
    }
    out.p[out.n] = 0;
    if (outlen) *outlen = out.n;
    return out.p;
}
