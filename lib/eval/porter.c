// porter.c — the Porter stemmer as NLTK's PorterStemmer() runs it by default
// (mode NLTK_EXTENSIONS: irregular-forms pool, the "ies"/"ied" and "alli"/"fulli"/"logi"
// extensions, the two-letter cvc rule), which is what rouge-score applies with use_stemmer.
// Works in place on a lowercase ASCII word; written from the algorithm's description.
#include <string.h>

#include "eval/metrics.h"

typedef struct {
    char *w;
    size_t n;
} word;

static int is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// Consonant at i: vowels are not; 'y' is one at 0 or after a vowel-behaving letter.
static int cons(const char *w, size_t i) {
    if (is_vowel(w[i])) return 0;
    if (w[i] != 'y') return 1;
    int neg = 0;
    while (i > 0 && w[i] == 'y') { neg = !neg; i--; }
    return (!is_vowel(w[i])) != neg;
}

// m in [C](VC)^m[V]: number of vowel->consonant transitions in w[0..n).
static int measure(const char *w, size_t n) {
    int m = 0, prev_v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = cons(w, i);
        if (c && prev_v) m++;
        prev_v = !c;
    }
    return m;
}

static int has_vowel(const char *w, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!cons(w, i)) return 1;
    return 0;
}

static int double_cons(const char *w, size_t n) { return n >= 2 && w[n - 1] == w[n - 2] && cons(w, n - 1); }

static int cvc(const char *w, size_t n) {
    if (n >= 3 && cons(w, n - 3) && !cons(w, n - 2) && cons(w, n - 1) && w[n - 1] != 'w' && w[n - 1] != 'x' &&
        w[n - 1] != 'y')
        return 1;
    return n == 2 && !cons(w, 0) && cons(w, 1);
}

static int ends(const word *x, const char *suf) {
    size_t l = strlen(suf);
    return x->n >= l && memcmp(x->w + x->n - l, suf, l) == 0;
}

static void set_to(word *x, size_t stem_len, const char *rep) {
    size_t l = strlen(rep);
    memcpy(x->w + stem_len, rep, l);
    x->n = stem_len + l;
}

enum { C_NONE, C_M0, C_M1, C_ION, C_LOGI, C_LL };
typedef struct {
    const char *suf, *rep;
    int cond;
} rule;

static int cond_ok(const word *x, size_t stem_len, int cond) {
    switch (cond) {
    case C_NONE: return 1;
    case C_M0: return measure(x->w, stem_len) > 0;
    case C_M1: return measure(x->w, stem_len) > 1;
    case C_ION: return measure(x->w, stem_len) > 1 && stem_len > 0 && (x->w[stem_len - 1] == 's' || x->w[stem_len - 1] == 't');
    case C_LOGI: return measure(x->w, x->n - 3) > 0;   // measure of word[:-3]
    case C_LL: return measure(x->w, x->n - 1) > 1;     // measure of word[:-1]
    }
    return 0;
}

// First rule whose suffix matches decides: applied when its condition holds, else nothing.
static void apply_rules(word *x, const rule *rules, size_t nr) {
    for (size_t i = 0; i < nr; i++) {
        if (!ends(x, rules[i].suf)) continue;
        size_t stem = x->n - strlen(rules[i].suf);
        if (cond_ok(x, stem, rules[i].cond)) set_to(x, stem, rules[i].rep);
        return;
    }
}

static void step1a(word *x) {
    if (ends(x, "ies") && x->n == 4) { set_to(x, 1, "ie"); return; }
    static const rule r[] = {{"sses", "ss", C_NONE}, {"ies", "i", C_NONE}, {"ss", "ss", C_NONE}, {"s", "", C_NONE}};
    apply_rules(x, r, 4);
}

static void step1b(word *x) {
    if (ends(x, "ied")) { set_to(x, x->n - 3, x->n == 4 ? "ie" : "i"); return; }
    if (ends(x, "eed")) {
        if (measure(x->w, x->n - 3) > 0) set_to(x, x->n - 3, "ee");
        return;
    }
    size_t stem = 0;
    int ok = 0;
    if (ends(x, "ed") && has_vowel(x->w, x->n - 2)) { stem = x->n - 2; ok = 1; }
    else if (ends(x, "ing") && has_vowel(x->w, x->n - 3)) { stem = x->n - 3; ok = 1; }
    if (!ok) return;
    x->n = stem;
    if (ends(x, "at") || ends(x, "bl") || ends(x, "iz")) { set_to(x, x->n, "e"); return; }
    if (double_cons(x->w, x->n)) {
        char last = x->w[x->n - 1];
        if (last != 'l' && last != 's' && last != 'z') x->n -= 1;
        return;
    }
    if (measure(x->w, x->n) == 1 && cvc(x->w, x->n)) set_to(x, x->n, "e");
}

static void step1c(word *x) {
    if (ends(x, "y") && x->n - 1 > 1 && cons(x->w, x->n - 2)) x->w[x->n - 1] = 'i';
}

static void step2(word *x) {
    if (ends(x, "alli") && measure(x->w, x->n - 4) > 0) {
        set_to(x, x->n - 4, "al");
        step2(x);
        return;
    }
    static const rule r[] = {
        {"ational", "ate", C_M0}, {"tional", "tion", C_M0}, {"enci", "ence", C_M0}, {"anci", "ance", C_M0},
        {"izer", "ize", C_M0},    {"bli", "ble", C_M0},     {"alli", "al", C_M0},   {"entli", "ent", C_M0},
        {"eli", "e", C_M0},       {"ousli", "ous", C_M0},   {"ization", "ize", C_M0}, {"ation", "ate", C_M0},
        {"ator", "ate", C_M0},    {"alism", "al", C_M0},    {"iveness", "ive", C_M0}, {"fulness", "ful", C_M0},
        {"ousness", "ous", C_M0}, {"aliti", "al", C_M0},    {"iviti", "ive", C_M0}, {"biliti", "ble", C_M0},
        {"fulli", "ful", C_M0},   {"logi", "log", C_LOGI},
    };
    apply_rules(x, r, sizeof r / sizeof r[0]);
}

static void step3(word *x) {
    static const rule r[] = {{"icate", "ic", C_M0}, {"ative", "", C_M0}, {"alize", "al", C_M0}, {"iciti", "ic", C_M0},
                             {"ical", "ic", C_M0},  {"ful", "", C_M0},   {"ness", "", C_M0}};
    apply_rules(x, r, sizeof r / sizeof r[0]);
}

static void step4(word *x) {
    static const rule r[] = {{"al", "", C_M1},   {"ance", "", C_M1}, {"ence", "", C_M1}, {"er", "", C_M1},
                             {"ic", "", C_M1},   {"able", "", C_M1}, {"ible", "", C_M1}, {"ant", "", C_M1},
                             {"ement", "", C_M1}, {"ment", "", C_M1}, {"ent", "", C_M1}, {"ion", "", C_ION},
                             {"ou", "", C_M1},   {"ism", "", C_M1},  {"ate", "", C_M1},  {"iti", "", C_M1},
                             {"ous", "", C_M1},  {"ive", "", C_M1},  {"ize", "", C_M1}};
    apply_rules(x, r, sizeof r / sizeof r[0]);
}

static void step5(word *x) {
    if (ends(x, "e")) {
        size_t s = x->n - 1;
        int m = measure(x->w, s);
        if (m > 1 || (m == 1 && !cvc(x->w, s))) x->n = s;
    }
    static const rule r[] = {{"ll", "l", C_LL}};
    apply_rules(x, r, 1);
}

static const char *const pool[][2] = {
    {"sky", "sky"},         {"skies", "sky"},   {"dying", "die"},     {"lying", "lie"},   {"tying", "tie"},
    {"news", "news"},       {"innings", "inning"}, {"inning", "inning"}, {"outings", "outing"},
    {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"}, {"howe", "howe"},
    {"proceed", "proceed"}, {"exceed", "exceed"}, {"succeed", "succeed"},
};

size_t ft_porter_stem(char *w, size_t n) {
    for (size_t i = 0; i < sizeof pool / sizeof pool[0]; i++) {
        size_t l = strlen(pool[i][0]);
        if (l == n && memcmp(w, pool[i][0], n) == 0) {
            size_t k = strlen(pool[i][1]);
            memcpy(w, pool[i][1], k);
            return k;
        }
    }
    if (n <= 2) return n;
    word x = {w, n};
    step1a(&x);
    step1b(&x);
    step1c(&x);
    step2(&x);
    step3(&x);
    step4(&x);
    step5(&x);
    return x.n;
}
