// metrics_text.c — text plumbing shared by the metrics: token interning, UTF-8 decoding,
// Python's notion of whitespace, and SQuAD answer normalization with EM / token F1.
#include "eval/metrics.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/err.h"

// ---- vocab: open-addressing hash of byte strings -> dense ids ---------------------------
struct ft_vocab {
    uint32_t *slots;   // id + 1, 0 = empty
    size_t cap;        // power of two
    size_t n;
    char **tok;        // (n) copies
    size_t *len;       // (n)
    uint64_t *hash;    // (n)
    size_t tcap;
};

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    h ^= h >> 29;
    return h * 0xbf58476d1ce4e5b9ull;
}

ft_vocab *ft_vocab_new(void) {
    ft_vocab *v = ft_calloc(1, sizeof *v);
    if (!v) return NULL;
    v->cap = 1024;
    v->slots = ft_calloc(v->cap, sizeof *v->slots);
    if (!v->slots) { free(v); return NULL; }
    return v;
}

void ft_vocab_free(ft_vocab *v) {
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) free(v->tok[i]);
    free(v->tok); free(v->len); free(v->hash); free(v->slots); free(v);
}

static int vocab_grow(ft_vocab *v) {
    size_t cap = v->cap * 2;
    uint32_t *slots = ft_calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < v->n; i++) {
        size_t j = v->hash[i] & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(v->slots);
    v->slots = slots;
    v->cap = cap;
    return 0;
}

int32_t ft_vocab_id(ft_vocab *v, const char *s, size_t n) {
    uint64_t h = hash_bytes(s, n);
    size_t j = h & (v->cap - 1);
    while (v->slots[j]) {
        uint32_t id = v->slots[j] - 1;
        if (v->hash[id] == h && v->len[id] == n && memcmp(v->tok[id], s, n) == 0) return (int32_t)id;
        j = (j + 1) & (v->cap - 1);
    }
    if (v->n >= INT32_MAX - 1) return ft_err("too many distinct tokens");
    if (v->n == v->tcap) {
        size_t tc = v->tcap ? v->tcap * 2 : 256;
        char **t = ft_realloc(v->tok, tc * sizeof *t);
        if (!t) return -1;
        v->tok = t;
        size_t *l = ft_realloc(v->len, tc * sizeof *l);
        if (!l) return -1;
        v->len = l;
        uint64_t *hh = ft_realloc(v->hash, tc * sizeof *hh);
        if (!hh) return -1;
        v->hash = hh;
        v->tcap = tc;
    }
    char *copy = ft_malloc(n + 1);
    if (!copy) return -1;
    memcpy(copy, s, n);
    copy[n] = 0;
    size_t id = v->n++;
    v->tok[id] = copy; v->len[id] = n; v->hash[id] = h;
    v->slots[j] = (uint32_t)id + 1;
    if (v->n * 2 > v->cap && vocab_grow(v) < 0) return -1;
    return (int32_t)id;
}

// ---- Unicode helpers ------------------------------------------------------------------
int ft_py_isspace(uint32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
    return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
           c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

int ft_utf8_decode(const char *s, size_t n, uint32_t **cps, size_t *ncp) {
    uint32_t *out = ft_malloc((n + 1) * sizeof *out);
    if (!out) return -1;
    size_t k = 0, i = 0;
    while (i < n) {
        utf8proc_int32_t c;
        utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
        if (m <= 0) { c = 0xFFFD; m = 1; }
        out[k++] = (uint32_t)c;
        i += (size_t)m;
    }
    *cps = out;
    *ncp = k;
    return 0;
}

// Append code point c as UTF-8 to buf (room for 4 bytes assumed).
static size_t put_utf8(char *buf, uint32_t c) {
    return (size_t)utf8proc_encode_char((utf8proc_int32_t)c, (utf8proc_uint8_t *)buf);
}

// ---- SQuAD normalization ----------------------------------------------------------------
static int py_word_char(uint32_t c) {   // Python re's \w for str patterns
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
           (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

static int ascii_punct(uint32_t c) {   // Python's string.punctuation
    return c < 0x80 && c > 0x20 && c != 0x7f && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

char *ft_squad_normalize(const char *s, size_t n, size_t *outlen) {
    uint32_t *cp;
    size_t m;
    if (ft_utf8_decode(s, n, &cp, &m) < 0) return NULL;
    // lower (U+0130 lowercases to "i" + U+0307 in Python), drop punctuation
    uint32_t *t = ft_malloc((2 * m + 1) * sizeof *t);
    if (!t) { free(cp); return NULL; }
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t c = cp[i];
        if (c == 0x130) { t[k++] = 'i'; t[k++] = 0x307; continue; }
        c = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
        if (ascii_punct(c)) continue;
        t[k++] = c;
    }
    free(cp);
    // articles: whole runs of word characters equal to a / an / the become one space
    size_t w = 0;
    for (size_t i = 0; i < k;) {
        if (!py_word_char(t[i])) { t[w++] = t[i++]; continue; }
        size_t j = i;
        while (j < k && py_word_char(t[j])) j++;
        size_t L = j - i;
        int art = (L == 1 && t[i] == 'a') || (L == 2 && t[i] == 'a' && t[i + 1] == 'n') ||
                  (L == 3 && t[i] == 't' && t[i + 1] == 'h' && t[i + 2] == 'e');
        if (art) t[w++] = ' ';
        else { memmove(t + w, t + i, L * sizeof *t); w += L; }
        i = j;
    }
    // collapse whitespace, encode
    char *out = ft_malloc(4 * w + 1);
    if (!out) { free(t); return NULL; }
    size_t o = 0;
    int pending = 0;
    for (size_t i = 0; i < w; i++) {
        if (ft_py_isspace(t[i])) { pending = o > 0; continue; }
        if (pending) { out[o++] = ' '; pending = 0; }
        o += put_utf8(out + o, t[i]);
    }
    out[o] = 0;
    free(t);
    if (outlen) *outlen = o;
    return out;
}

// Split a normalized string (single spaces) into token ids.
static int split_ids(ft_vocab *v, const char *s, size_t n, int32_t **ids, size_t *nids) {
    int32_t *out = ft_malloc((n / 2 + 1) * sizeof *out);
    if (!out) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != ' ') j++;
        if (j > i) {
            int32_t id = ft_vocab_id(v, s + i, j - i);
            if (id < 0) { free(out); return -1; }
            out[k++] = id;
        }
        i = j + 1;
    }
    *ids = out;
    *nids = k;
    return 0;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

// Size of the multiset intersection of two id arrays (sorted in place).
static size_t multiset_common(int32_t *a, size_t na, int32_t *b, size_t nb) {
    qsort(a, na, sizeof *a, cmp_i32);
    qsort(b, nb, sizeof *b, cmp_i32);
    size_t i = 0, j = 0, c = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) { c++; i++; j++; }
        else if (a[i] < b[j]) i++;
        else j++;
    }
    return c;
}

int ft_squad_scores(ft_str pred, const ft_str *refs, int nrefs, double *em, double *f1) {
    size_t pn;
    char *p = ft_squad_normalize(pred.s, pred.n, &pn);
    if (!p) return -1;
    ft_vocab *v = ft_vocab_new();
    int32_t *pid = NULL;
    size_t np = 0;
    int rc = -1;
    if (!v || split_ids(v, p, pn, &pid, &np) < 0) goto done;
    double best_em = 0, best_f1 = 0;
    for (int r = 0; r < nrefs; r++) {
        size_t rn;
        char *g = ft_squad_normalize(refs[r].s, refs[r].n, &rn);
        if (!g) goto done;
        if (rn == pn && memcmp(g, p, pn) == 0) best_em = 100;
        int32_t *gid = NULL, *pc = NULL;
        size_t ng = 0;
        if (split_ids(v, g, rn, &gid, &ng) < 0 || !(pc = ft_malloc((np + 1) * sizeof *pc))) {
            free(g); free(gid);
            goto done;
        }
        double f = 0;
        if (np == 0 || ng == 0) {
            f = (np == ng) ? 100 : 0;
        } else {
            memcpy(pc, pid, np * sizeof *pc);
            size_t same = multiset_common(pc, np, gid, ng);
            if (same > 0) {
                double pr = (double)same / (double)np, rc_ = (double)same / (double)ng;
                f = 100.0 * (2 * pr * rc_) / (pr + rc_);
            }
        }
        if (f > best_f1) best_f1 = f;
        free(g); free(gid); free(pc);
    }
    *em = best_em;
    *f1 = best_f1;
    rc = 0;
done:
    free(p); free(pid); ft_vocab_free(v);
    return rc;
}
