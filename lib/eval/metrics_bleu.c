// metrics_bleu.c — corpus BLEU and chrF as sacrebleu 2.x computes them by default:
// per-segment sufficient statistics (summed over the corpus, or over a bootstrap resample)
// and the score from summed statistics, with sacrebleu's signature strings.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "eval/metrics.h"
#include "eval/metrics_ngram.h"

struct ft_bleu {
    int tok;
    ft_vocab *vocab;
};

ft_bleu *ft_bleu_new(int tok) {
    if (tok < 0 || tok > FT_BLEU_TOK_NONE) { ft_err("unknown BLEU tokenizer %d", tok); return NULL; }
    ft_bleu *b = ft_calloc(1, sizeof *b);
    if (!b) return NULL;
    b->tok = tok;
    if (!(b->vocab = ft_vocab_new())) { free(b); return NULL; }
    return b;
}

void ft_bleu_free(ft_bleu *b) {
    if (!b) return;
    ft_vocab_free(b->vocab);
    free(b);
}

// Tokenize and intern: ids of the whitespace-separated tokens.
static int bleu_ids(ft_bleu *b, ft_str s, int32_t **ids, size_t *nids) {
    size_t n;
    char *t = ft_bleu_tokenize(b->tok, s.s, s.n, &n);
    if (!t) return -1;
    int32_t *out = ft_malloc((n / 2 + 1) * sizeof *out);
    if (!out) { free(t); return -1; }
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && t[j] != ' ') j++;
        if (j > i) {
            int32_t id = ft_vocab_id(b->vocab, t + i, j - i);
            if (id < 0) { free(t); free(out); return -1; }
            out[k++] = id;
        }
        i = j + 1;
    }
    free(t);
    *ids = out;
    *nids = k;
    return 0;
}

int ft_bleu_segment(ft_bleu *b, ft_str hyp, const ft_str *refs, int nrefs, double stats[FT_BLEU_NSTATS]) {
    if (nrefs < 1) return ft_err("BLEU needs at least one reference");
    int rc = -1;
    int32_t *h = NULL;
    size_t hl = 0;
    int32_t **r = ft_calloc((size_t)nrefs, sizeof *r);
    size_t *rl = ft_calloc((size_t)nrefs, sizeof *rl);
    ft_ngrams *rg = ft_calloc((size_t)nrefs * FT_BLEU_ORDER, sizeof *rg);
    ft_ngrams hg = {0};
    if (!r || !rl || !rg || bleu_ids(b, hyp, &h, &hl) < 0) goto done;
    for (int k = 0; k < nrefs; k++) {
        if (bleu_ids(b, refs[k], &r[k], &rl[k]) < 0) goto done;
        for (int n = 1; n <= FT_BLEU_ORDER; n++)
            if (ft_ngrams_build(&rg[k * FT_BLEU_ORDER + n - 1], r[k], rl[k], n) < 0) goto done;
    }
    // closest reference length, ties -> the shorter
    long best = -1, bestd = -1;
    for (int k = 0; k < nrefs; k++) {
        long d = labs((long)hl - (long)rl[k]);
        if (bestd < 0 || d < bestd || (d == bestd && (long)rl[k] < best)) { bestd = d; best = (long)rl[k]; }
    }
    stats[0] = (double)hl;
    stats[1] = (double)best;
    for (int n = 1; n <= FT_BLEU_ORDER; n++) {
        if (ft_ngrams_build(&hg, h, hl, n) < 0) goto done;
        size_t correct = 0;
        for (size_t u = 0; u < hg.nu; u++) {
            const int32_t *key = h + hg.pos[u];
            uint32_t m = 0;
            for (int k = 0; k < nrefs; k++) {
                uint32_t c = ft_ngrams_count(&rg[k * FT_BLEU_ORDER + n - 1], key);
                if (c > m) m = c;
            }
            correct += hg.cnt[u] < m ? hg.cnt[u] : m;
        }
        stats[2 + n - 1] = (double)correct;
        stats[2 + FT_BLEU_ORDER + n - 1] = (double)hg.total;
        ft_ngrams_free(&hg);
    }
    rc = 0;
done:
    if (rg)
        for (int i = 0; i < nrefs * FT_BLEU_ORDER; i++) ft_ngrams_free(&rg[i]);
    if (r)
        for (int k = 0; k < nrefs; k++) free(r[k]);
    free(r); free(rl); free(rg); free(h);
    return rc;
}

static double my_log(double x) { return x == 0.0 ? -9999999999.0 : log(x); }

double ft_bleu_from_stats(const double st[FT_BLEU_NSTATS], int effective_order, ft_bleu_result *out) {
    ft_bleu_result r;
    memset(&r, 0, sizeof r);
    r.hyp_len = st[0];
    r.ref_len = st[1];
    for (int n = 0; n < FT_BLEU_ORDER; n++) {
        r.counts[n] = st[2 + n];
        r.totals[n] = st[2 + FT_BLEU_ORDER + n];
    }
    r.ratio = r.ref_len ? r.hyp_len / r.ref_len : 0;
    r.bp = 1.0;
    if (r.hyp_len < r.ref_len) r.bp = r.hyp_len > 0 ? exp(1 - r.ref_len / r.hyp_len) : 0.0;
    int any = 0;
    for (int n = 0; n < FT_BLEU_ORDER; n++) any |= r.counts[n] != 0;
    if (any) {
        double smooth = 1.0;
        int eff = FT_BLEU_ORDER;
        for (int n = 1; n <= FT_BLEU_ORDER; n++) {
            if (r.totals[n - 1] == 0) break;
            if (effective_order) eff = n;
            if (r.counts[n - 1] == 0) {
                smooth *= 2;
                r.precisions[n - 1] = 100. / (smooth * r.totals[n - 1]);
            } else {
                r.precisions[n - 1] = 100. * r.counts[n - 1] / r.totals[n - 1];
            }
        }
        double s = 0;
        for (int n = 0; n < eff; n++) s += my_log(r.precisions[n]);
        r.score = r.bp * exp(s / eff);
    }
    if (out) *out = r;
    return r.score;
}

static void nrefs_str(char *b, size_t cap, int nrefs) {
    if (nrefs < 0) snprintf(b, cap, "var");
    else snprintf(b, cap, "%d", nrefs);
}

void ft_bleu_signature(char *buf, size_t cap, int nrefs, int tok) {
    char nr[16];
    nrefs_str(nr, sizeof nr, nrefs);
    snprintf(buf, cap, "nrefs:%s|case:mixed|eff:no|tok:%s|smooth:exp|version:%s", nr, ft_bleu_tok_name(tok),
             FT_SACREBLEU_VERSION);
}

void ft_chrf_signature(char *buf, size_t cap, int nrefs) {
    char nr[16];
    nrefs_str(nr, sizeof nr, nrefs);
    snprintf(buf, cap, "nrefs:%s|case:mixed|eff:yes|nc:%d|nw:0|space:no|version:%s", nr, FT_CHRF_ORDER,
             FT_SACREBLEU_VERSION);
}

// ---- chrF ---------------------------------------------------------------------------------
double ft_chrf_from_stats(const double st[FT_CHRF_NSTATS]) {
    const double eps = 1e-16, factor = 4.0;   // beta 2
    double avg_p = 0, avg_r = 0;
    int eff = 0;
    for (int i = 0; i < FT_CHRF_ORDER; i++) {
        double nh = st[3 * i], nr = st[3 * i + 1], nm = st[3 * i + 2];
        double p = nh > 0 ? nm / nh : eps, r = nr > 0 ? nm / nr : eps;
        if (nh > 0 && nr > 0) { avg_p += p; avg_r += r; eff++; }
    }
    if (eff == 0) avg_p = avg_r = 0;
    else { avg_p /= eff; avg_r /= eff; }
    if (avg_p + avg_r) return 100 * ((1 + factor) * avg_p * avg_r / (factor * avg_p + avg_r));
    return 0.0;
}

// Code points of s with Python whitespace removed, as ids.
static int chrf_chars(ft_str s, int32_t **out, size_t *n) {
    uint32_t *cp;
    size_t m;
    if (ft_utf8_decode(s.s, s.n, &cp, &m) < 0) return -1;
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (!ft_py_isspace(cp[i])) cp[k++] = cp[i];
    *out = (int32_t *)cp;
    *n = k;
    return 0;
}

int ft_chrf_segment(ft_str hyp, const ft_str *refs, int nrefs, double stats[FT_CHRF_NSTATS]) {
    if (nrefs < 1) return ft_err("chrF needs at least one reference");
    int32_t *h = NULL, *r = NULL;
    size_t hl, rl;
    ft_ngrams hg[FT_CHRF_ORDER], g;
    memset(hg, 0, sizeof hg);
    int rc = -1;
    if (chrf_chars(hyp, &h, &hl) < 0) return -1;
    for (int n = 1; n <= FT_CHRF_ORDER; n++)
        if (ft_ngrams_build(&hg[n - 1], h, hl, n) < 0) goto done;
    double best_f = -1.0;
    for (int k = 0; k < nrefs; k++) {
        if (chrf_chars(refs[k], &r, &rl) < 0) goto done;
        double st[FT_CHRF_NSTATS];
        for (int n = 1; n <= FT_CHRF_ORDER; n++) {
            if (ft_ngrams_build(&g, r, rl, n) < 0) goto done;
            st[3 * (n - 1)] = g.total ? (double)hg[n - 1].total : 0;
            st[3 * (n - 1) + 1] = (double)g.total;
            st[3 * (n - 1) + 2] = (double)ft_ngrams_overlap(&hg[n - 1], &g);
            ft_ngrams_free(&g);
        }
        double f = ft_chrf_from_stats(st);
        if (f > best_f) { best_f = f; memcpy(stats, st, sizeof st); }
        free(r);
        r = NULL;
    }
    rc = 0;
done:
    for (int n = 0; n < FT_CHRF_ORDER; n++) ft_ngrams_free(&hg[n]);
    free(h);
    free(r);
    return rc;
}
