// metrics_rouge.c — ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum F-measures as Google's
// rouge-score computes them by default: its tokenizer (Python lower(), every run of
// non [a-z0-9] separates, optional Porter stem of tokens longer than 3), n-gram overlap,
// LCS, and the summary-level union-LCS over newline-separated sentences.
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "eval/metrics.h"
#include "eval/metrics_ngram.h"

const char *const ft_rouge_names[FT_ROUGE_N] = {"rouge1", "rouge2", "rougeL", "rougeLsum"};

struct ft_rouge {
    int stem;
    ft_vocab *vocab;
};

ft_rouge *ft_rouge_new(int stem) {
    ft_rouge *r = ft_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->stem = stem;
    if (!(r->vocab = ft_vocab_new())) { free(r); return NULL; }
    return r;
}

void ft_rouge_free(ft_rouge *r) {
    if (!r) return;
    ft_vocab_free(r->vocab);
    free(r);
}

int ft_rouge_tokenize(ft_rouge *r, const char *s, size_t n, int32_t **ids, size_t *nids) {
    int32_t *out = ft_malloc((n / 2 + 1) * sizeof *out);
    char *tok = ft_malloc(n + 3);
    if (!out || !tok) { free(out); free(tok); return -1; }
    size_t k = 0, tl = 0;
    for (size_t i = 0; i <= n;) {
        unsigned char c = i < n ? (unsigned char)s[i] : 0;
        char a = 0;
        size_t adv = 1;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) a = (char)c;
        else if (c >= 'A' && c <= 'Z') a = (char)(c + 32);
        else if (c == 0xC4 && i + 1 < n && (unsigned char)s[i + 1] == 0xB0) { a = 'i'; adv = 2; }   // U+0130 -> i + U+0307
        else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x84 && (unsigned char)s[i + 2] == 0xAA) {
            a = 'k';   // KELVIN SIGN lowercases to 'k'
            adv = 3;
        }
        if (i < n && a) {
            tok[tl++] = a;
            // U+0130's lowercase is "i" followed by a combining dot, which ends the token
            if (adv == 2) goto flush;
            i += adv;
            continue;
        }
    flush:
        if (tl > 0) {
            if (r->stem && tl > 3) tl = ft_porter_stem(tok, tl);
            int32_t id = ft_vocab_id(r->vocab, tok, tl);
            if (id < 0) { free(out); free(tok); return -1; }
            out[k++] = id;
            tl = 0;
        }
        i += adv;
    }
    free(tok);
    *ids = out;
    *nids = k;
    return 0;
}

static double fmeasure(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

static double rouge_n(const int32_t *t, size_t tn, const int32_t *p, size_t pn, int n) {
    ft_ngrams tg, pg;
    if (ft_ngrams_build(&tg, t, tn, n) < 0) return -1;
    if (ft_ngrams_build(&pg, p, pn, n) < 0) { ft_ngrams_free(&tg); return -1; }
    double inter = (double)ft_ngrams_overlap(&tg, &pg);
    double prec = inter / (double)(pg.total > 1 ? pg.total : 1);
    double rec = inter / (double)(tg.total > 1 ? tg.total : 1);
    ft_ngrams_free(&tg);
    ft_ngrams_free(&pg);
    return fmeasure(prec, rec);
}

// Full LCS table ((rn+1) x (cn+1), row-major) of ref vs cand.
static uint32_t *lcs_table(const int32_t *ref, size_t rn, const int32_t *can, size_t cn) {
    size_t w = cn + 1;
    uint32_t *t = ft_calloc((rn + 1) * w, sizeof *t);
    if (!t) return NULL;
    for (size_t i = 1; i <= rn; i++)
        for (size_t j = 1; j <= cn; j++) {
            if (ref[i - 1] == can[j - 1]) t[i * w + j] = t[(i - 1) * w + j - 1] + 1;
            else {
                uint32_t a = t[(i - 1) * w + j], b = t[i * w + j - 1];
                t[i * w + j] = a > b ? a : b;
            }
        }
    return t;
}

// LCS length with two rows: O(tn * pn) time, O(pn) memory (long documents stay cheap).
static double rouge_l(const int32_t *t, size_t tn, const int32_t *p, size_t pn) {
    if (tn == 0 || pn == 0) return 0.0;
    uint32_t *prev = ft_calloc(2 * (pn + 1), sizeof *prev);
    if (!prev) return -1;
    uint32_t *cur = prev + pn + 1, *base = prev;
    for (size_t i = 1; i <= tn; i++) {
        cur[0] = 0;
        for (size_t j = 1; j <= pn; j++)
            cur[j] = t[i - 1] == p[j - 1] ? prev[j - 1] + 1 : (prev[j] > cur[j - 1] ? prev[j] : cur[j - 1]);
        uint32_t *x = prev;
        prev = cur;
        cur = x;
    }
    double lcs = prev[pn];
    free(base);
    return fmeasure(lcs / (double)pn, lcs / (double)tn);
}

typedef struct {
    int32_t *ids;
    size_t n;
} sent;

// Sentences split on '\n', empty strings dropped, each tokenized.
static int split_sents(ft_rouge *r, ft_str s, sent **out, size_t *ns) {
    size_t cap = 1;
    for (size_t i = 0; i < s.n; i++) cap += s.s[i] == '\n';
    sent *v = ft_calloc(cap, sizeof *v);
    if (!v) return -1;
    size_t k = 0;
    for (size_t i = 0; i <= s.n;) {
        size_t j = i;
        while (j < s.n && s.s[j] != '\n') j++;
        if (j > i && ft_rouge_tokenize(r, s.s + i, j - i, &v[k].ids, &v[k].n) == 0) k++;
        else if (j > i) {
            for (size_t q = 0; q < k; q++) free(v[q].ids);
            free(v);
            return -1;
        }
        i = j + 1;
    }
    *out = v;
    *ns = k;
    return 0;
}

static void free_sents(sent *v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i].ids);
    free(v);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static double rouge_lsum(ft_rouge *r, ft_str target, ft_str pred) {
    sent *rs = NULL, *cs = NULL;
    size_t nr = 0, nc = 0;
    double f = -1;
    int32_t *uniq = NULL;
    uint32_t *cnt_r = NULL, *cnt_c = NULL;
    uint8_t *mark = NULL;
    if (split_sents(r, target, &rs, &nr) < 0 || split_sents(r, pred, &cs, &nc) < 0) goto done;
    size_t m = 0, n = 0;
    for (size_t i = 0; i < nr; i++) m += rs[i].n;
    for (size_t i = 0; i < nc; i++) n += cs[i].n;
    if (nr == 0 || nc == 0 || m == 0 || n == 0) { f = 0.0; goto done; }
    // local counters over the distinct tokens of both sides
    uniq = ft_malloc((m + n) * sizeof *uniq);
    if (!uniq) goto done;
    size_t u = 0;
    for (size_t i = 0; i < nr; i++) memcpy(uniq + u, rs[i].ids, rs[i].n * sizeof *uniq), u += rs[i].n;
    for (size_t i = 0; i < nc; i++) memcpy(uniq + u, cs[i].ids, cs[i].n * sizeof *uniq), u += cs[i].n;
    qsort(uniq, u, sizeof *uniq, cmp_i32);
    size_t nu = 0;
    for (size_t i = 0; i < u; i++)
        if (nu == 0 || uniq[nu - 1] != uniq[i]) uniq[nu++] = uniq[i];
    cnt_r = ft_calloc(nu, sizeof *cnt_r);
    cnt_c = ft_calloc(nu, sizeof *cnt_c);
    if (!cnt_r || !cnt_c) goto done;
#define LOCAL(id) ((size_t)((int32_t *)bsearch(&(id), uniq, nu, sizeof *uniq, cmp_i32) - uniq))
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < rs[i].n; j++) cnt_r[LOCAL(rs[i].ids[j])]++;
    for (size_t i = 0; i < nc; i++)
        for (size_t j = 0; j < cs[i].n; j++) cnt_c[LOCAL(cs[i].ids[j])]++;
    double hits = 0;
    for (size_t i = 0; i < nr; i++) {
        const int32_t *ref = rs[i].ids;
        size_t rn = rs[i].n;
        free(mark);
        mark = ft_calloc(rn + 1, 1);
        if (!mark) goto done;
        for (size_t c = 0; c < nc; c++) {   // union of one LCS (as backtracked) per candidate
            const int32_t *can = cs[c].ids;
            size_t cn = cs[c].n, w = cn + 1;
            uint32_t *t = lcs_table(ref, rn, can, cn);
            if (!t) goto done;
            size_t a = rn, b = cn;
            while (a > 0 && b > 0) {
                if (ref[a - 1] == can[b - 1]) { mark[a - 1] = 1; a--; b--; }
                else if (t[a * w + b - 1] > t[(a - 1) * w + b]) b--;
                else a--;
            }
            free(t);
        }
        for (size_t j = 0; j < rn; j++) {
            if (!mark[j]) continue;
            size_t l = LOCAL(ref[j]);
            if (cnt_c[l] > 0 && cnt_r[l] > 0) { hits++; cnt_c[l]--; cnt_r[l]--; }
        }
    }
#undef LOCAL
    f = fmeasure(hits / (double)n, hits / (double)m);
done:
    free_sents(rs, nr); free_sents(cs, nc);
    free(uniq); free(cnt_r); free(cnt_c); free(mark);
    return f;
}

int ft_rouge_score(ft_rouge *r, ft_str hyp, const ft_str *refs, int nrefs, double f[FT_ROUGE_N]) {
    if (nrefs < 1) return ft_err("ROUGE needs at least one reference");
    int32_t *p = NULL, *t = NULL;
    size_t pn, tn;
    if (ft_rouge_tokenize(r, hyp.s, hyp.n, &p, &pn) < 0) return -1;
    for (int k = 0; k < FT_ROUGE_N; k++) f[k] = -1;
    for (int k = 0; k < nrefs; k++) {
        if (ft_rouge_tokenize(r, refs[k].s, refs[k].n, &t, &tn) < 0) { free(p); return -1; }
        double v[FT_ROUGE_N] = {rouge_n(t, tn, p, pn, 1), rouge_n(t, tn, p, pn, 2), rouge_l(t, tn, p, pn),
                                rouge_lsum(r, refs[k], hyp)};
        free(t);
        for (int q = 0; q < FT_ROUGE_N; q++) {
            if (v[q] < 0) { free(p); return ft_err("out of memory in ROUGE"); }
            if (v[q] > f[q]) f[q] = v[q];
        }
    }
    free(p);
    return 0;
}
