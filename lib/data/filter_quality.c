// filter_quality.c — Gopher-style quality rules for domain text (Rae et al. 2021, "Scaling
// Language Models", appendix A), with the repetition measures defined as datatrove's
// GopherRepetitionFilter/GopherQualityFilter define them. Words are whitespace-separated;
// characters are Unicode code points; lines split on '\n'; paragraphs on two or more '\n'.
#include "data/filter.h"
#include "core/err.h"
#include "core/hash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

const ft_quality_rule ft_quality_rules[FT_Q_N] = {
    [FT_Q_WORDS_MIN] = {"min-words", 50, 1, "number of words"},
    [FT_Q_WORDS_MAX] = {"max-words", 100000, 0, "number of words"},
    [FT_Q_MEAN_WORD_MIN] = {"min-mean-word", 3, 1, "mean word length in characters"},
    [FT_Q_MEAN_WORD_MAX] = {"max-mean-word", 10, 0, "mean word length in characters"},
    [FT_Q_SYMBOL_RATIO] = {"max-symbol-ratio", 0.1, 0, "'#' or ellipsis ('...', U+2026) occurrences per word"},
    [FT_Q_BULLET_LINES] = {"max-bullet-lines", 0.9, 0, "fraction of lines starting with a bullet"},
    [FT_Q_ELLIPSIS_LINES] = {"max-ellipsis-lines", 0.3, 0, "fraction of lines ending with an ellipsis"},
    [FT_Q_ALPHA_WORDS] = {"min-alpha-words", 0.8, 1, "fraction of words with a letter"},
    [FT_Q_STOPWORDS] = {"min-stopwords", 2, 1, "occurrences of the, be, to, of, and, that, have, with"},
    [FT_Q_DUP_LINES] = {"max-dup-lines", 0.3, 0, "fraction of non-empty lines repeating an earlier line"},
    [FT_Q_DUP_PARAS] = {"max-dup-paras", 0.3, 0, "fraction of paragraphs repeating an earlier one"},
    [FT_Q_DUP_LINE_CHARS] = {"max-dup-line-chars", 0.2, 0, "characters in repeated lines / all characters"},
    [FT_Q_DUP_PARA_CHARS] = {"max-dup-para-chars", 0.2, 0, "characters in repeated paragraphs / all characters"},
    [FT_Q_TOP2] = {"max-top-2gram", 0.20, 0, "characters of the most frequent word 2-gram / all"},
    [FT_Q_TOP3] = {"max-top-3gram", 0.18, 0, "characters of the most frequent word 3-gram / all"},
    [FT_Q_TOP4] = {"max-top-4gram", 0.16, 0, "characters of the most frequent word 4-gram / all"},
    [FT_Q_DUP5] = {"max-dup-5gram", 0.15, 0, "characters in repeated word 5-grams / all"},
    [FT_Q_DUP6] = {"max-dup-6gram", 0.14, 0, "characters in repeated word 6-grams / all"},
    [FT_Q_DUP7] = {"max-dup-7gram", 0.13, 0, "characters in repeated word 7-grams / all"},
    [FT_Q_DUP8] = {"max-dup-8gram", 0.12, 0, "characters in repeated word 8-grams / all"},
    [FT_Q_DUP9] = {"max-dup-9gram", 0.11, 0, "characters in repeated word 9-grams / all"},
    [FT_Q_DUP10] = {"max-dup-10gram", 0.10, 0, "characters in repeated word 10-grams / all"},
};

void ft_quality_defaults(ft_quality *q) {
    for (int i = 0; i < FT_Q_N; i++) q->thr[i] = ft_quality_rules[i].def;
}

int ft_quality_find(const char *name) {
    for (int i = 0; i < FT_Q_N; i++)
        if (strcmp(ft_quality_rules[i].name, name) == 0) return i;
    return -1;
}

static size_t nchars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static int has_prefix(const char *s, size_t n, const char *p) {
    size_t k = strlen(p);
    return n >= k && memcmp(s, p, k) == 0;
}

static int has_suffix(const char *s, size_t n, const char *p) {
    size_t k = strlen(p);
    return n >= k && memcmp(s + n - k, p, k) == 0;
}

static size_t count_sub(const char *s, size_t n, const char *p) {
    size_t k = strlen(p), c = 0;
    for (size_t i = 0; i + k <= n;) {
        if (memcmp(s + i, p, k) == 0) { c++; i += k; }
        else i++;
    }
    return c;
}

typedef struct {
    const char *s;
    size_t len, chars;
    uint64_t h;   // hash of the ASCII-lower-cased word
} word;

static int word_has_letter(const word *w) {
    utf8proc_ssize_t i = 0;
    while ((size_t)i < w->len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)w->s + i, (utf8proc_ssize_t)w->len - i, &cp);
        if (k <= 0) return 0;
        utf8proc_category_t c = utf8proc_category(cp);
        if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) return 1;
        i += k;
    }
    return 0;
}

static int is_stopword(const word *w) {
    static const char *stop[] = {"the", "be", "to", "of", "and", "that", "have", "with"};
    // strip ASCII punctuation at both ends, compare case-insensitively
    size_t a = 0, b = w->len;
    while (a < b && !((w->s[a] | 0x20) >= 'a' && (w->s[a] | 0x20) <= 'z')) a++;
    while (b > a && !((w->s[b - 1] | 0x20) >= 'a' && (w->s[b - 1] | 0x20) <= 'z')) b--;
    for (size_t i = 0; i < sizeof stop / sizeof *stop; i++)
        if (strlen(stop[i]) == b - a && strncasecmp(w->s + a, stop[i], b - a) == 0) return 1;
    return 0;
}

// Repeated pieces (lines or paragraphs): fraction of pieces equal to an earlier one, and
// characters in those repeats. paras: split on runs of >= 2 newlines, else on each newline;
// blank pieces are not counted.
static void dup_pieces(const char *s, size_t n, int paras, double *frac, size_t *dup_chars) {
    ft_hmap64 seen = {0};
    seen.set_only = 1;
    size_t pieces = 0, dups = 0, i = 0;
    *dup_chars = 0;
    if (paras) {   // strip the text like Python's str.strip()
        while (i < n && is_ws((unsigned char)s[i])) i++;
        while (n > i && is_ws((unsigned char)s[n - 1])) n--;
    }
    while (i < n) {
        size_t j = i;
        if (paras) {
            while (j < n && !(s[j] == '\n' && j + 1 < n && s[j + 1] == '\n')) j++;
        } else {
            while (j < n && s[j] != '\n') j++;
        }
        size_t len = j - i;
        if (!paras && len && s[i + len - 1] == '\r') len--;
        int empty = 1;
        for (size_t k = i; k < i + len && empty; k++) empty = is_ws((unsigned char)s[k]);
        if (!empty) {
            pieces++;
            int r = ft_hmap64_put(&seen, ft_hash64(s + i, len, 0x11e5), 0);
            if (r == 0) { dups++; *dup_chars += nchars(s + i, len); }
        }
        i = j;
        while (i < n && s[i] == '\n') i++;   // empty lines are not pieces
    }
    ft_hmap64_free(&seen);
    *frac = pieces ? (double)dups / (double)pieces : 0;
}

void ft_quality_measure(const char *s, size_t n, double *v) {
    for (int i = 0; i < FT_Q_N; i++) v[i] = 0;
    size_t total_chars = nchars(s, n);
    // words
    size_t nw = 0, cap = 0;
    word *w = NULL;
    for (size_t i = 0; i < n;) {
        while (i < n && is_ws((unsigned char)s[i])) i++;
        if (i >= n) break;
        size_t j = i;
        while (j < n && !is_ws((unsigned char)s[j])) j++;
        if (nw == cap) {
            cap = cap ? cap * 2 : 256;
            word *t = realloc(w, cap * sizeof *t);
            if (!t) { free(w); for (int k = 0; k < FT_Q_N; k++) v[k] = NAN; return; }
            w = t;
        }
        char low[64];
        size_t len = j - i;
        uint64_t h = 0x77;
        for (size_t k = 0; k < len; k += sizeof low) {
            size_t m = len - k < sizeof low ? len - k : sizeof low;
            for (size_t q = 0; q < m; q++) {
                char c = s[i + k + q];
                low[q] = (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
            }
            h = ft_hash64(low, m, h);
        }
        w[nw++] = (word){s + i, len, nchars(s + i, len), h};
        i = j;
    }
    v[FT_Q_WORDS_MIN] = v[FT_Q_WORDS_MAX] = (double)nw;
    size_t wchars = 0, alpha = 0, stops = 0;
    for (size_t i = 0; i < nw; i++) {
        wchars += w[i].chars;
        alpha += word_has_letter(&w[i]);
        stops += is_stopword(&w[i]);
    }
    v[FT_Q_MEAN_WORD_MIN] = v[FT_Q_MEAN_WORD_MAX] = nw ? (double)wchars / (double)nw : 0;
    v[FT_Q_ALPHA_WORDS] = nw ? (double)alpha / (double)nw : 0;
    v[FT_Q_STOPWORDS] = (double)stops;
    double hashes = (double)count_sub(s, n, "#");
    double ells = (double)(count_sub(s, n, "...") + count_sub(s, n, "\xE2\x80\xA6"));
    v[FT_Q_SYMBOL_RATIO] = nw ? fmax(hashes, ells) / (double)nw : (hashes + ells > 0 ? INFINITY : 0);
    // lines: bullets and ellipses (every line counts, as str.splitlines() gives them)
    size_t lines = 0, bullets = 0, ell_lines = 0;
    static const char *bullet[] = {"\xE2\x80\xA2", "\xE2\x97\x8F", "\xE2\x97\x8B", "\xE2\x96\xAA", "\xE2\x80\xA3",
                                   "\xE2\x97\xA6", "\xE2\x81\x83", "-", "*"};
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '\n') j++;
        size_t a = i, b = j;
        while (a < b && is_ws((unsigned char)s[a])) a++;
        while (b > a && is_ws((unsigned char)s[b - 1])) b--;
        lines++;
        for (size_t k = 0; k < sizeof bullet / sizeof *bullet; k++)
            if (has_prefix(s + a, b - a, bullet[k])) { bullets++; break; }
        if (has_suffix(s + a, b - a, "...") || has_suffix(s + a, b - a, "\xE2\x80\xA6")) ell_lines++;
        i = j + 1;
    }
    v[FT_Q_BULLET_LINES] = lines ? (double)bullets / (double)lines : 0;
    v[FT_Q_ELLIPSIS_LINES] = lines ? (double)ell_lines / (double)lines : 0;
    // repetition
    size_t dc;
    double tc = total_chars ? (double)total_chars : 1;
    dup_pieces(s, n, 0, &v[FT_Q_DUP_LINES], &dc);
    v[FT_Q_DUP_LINE_CHARS] = (double)dc / tc;
    dup_pieces(s, n, 1, &v[FT_Q_DUP_PARAS], &dc);
    v[FT_Q_DUP_PARA_CHARS] = (double)dc / tc;
    for (int g = 2; g <= 10; g++) {
        if ((size_t)g > nw) continue;
        ft_hmap64 m = {0};
        size_t best = 0, best_i = 0;
        uint64_t hs[10];
        if (g <= 4) {   // most frequent n-gram: its characters (joined by spaces) times its count
            for (size_t i = 0; i + g <= nw; i++) {
                for (int k = 0; k < g; k++) hs[k] = w[i + k].h;
                uint64_t key = ft_hash64(hs, (size_t)g * 8, 0x7090);
                if (ft_hmap64_put(&m, key, 1) == 0) {
                    uint32_t *c = ft_hmap64_slot(&m, key);
                    (*c)++;
                    if (*c > best) { best = *c; best_i = i; }
                } else if (best == 0) {
                    best = 1;
                    best_i = i;
                }
            }
            size_t len = (size_t)g - 1;
            for (int k = 0; k < g; k++) len += w[best_i + k].chars;
            v[FT_Q_TOP2 + g - 2] = (double)(best * len) / tc;
        } else {        // repeated n-grams, walked without overlap as datatrove does
            m.set_only = 1;
            size_t rep = 0;
            for (size_t i = 0; i + g <= nw;) {
                for (int k = 0; k < g; k++) hs[k] = w[i + k].h;
                if (ft_hmap64_put(&m, ft_hash64(hs, (size_t)g * 8, 0x7090), 0) == 0) {
                    for (int k = 0; k < g; k++) rep += w[i + k].chars;
                    i += g;
                } else {
                    i++;
                }
            }
            v[FT_Q_DUP5 + g - 5] = (double)rep / tc;
        }
        ft_hmap64_free(&m);
    }
    free(w);
}

int ft_quality_check(const ft_quality *q, const char *s, size_t n) {
    double v[FT_Q_N];
    ft_quality_measure(s, n, v);
    for (int i = 0; i < FT_Q_N; i++) {
        if (isnan(q->thr[i])) continue;
        if (isnan(v[i])) return i;
        if (ft_quality_rules[i].is_min ? v[i] < q->thr[i] : v[i] > q->thr[i]) return i;
    }
    return -1;
}
