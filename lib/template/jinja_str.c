// jinja_str.c — Python str methods for the Jinja interpreter (strip, split, replace, case
// mapping, title, capitalize, startswith/endswith, find, count, join; format in jinja_fmt.c) on UTF-8
// code points, and the dict methods (items, keys, values, get) and loop.cycle/changed.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/err.h"
#include "template/jinja_int.h"

int ju_isspace(int cp) {
    return (cp >= 9 && cp <= 13) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000;
}

static int is_cased(int cp) {
    utf8proc_category_t k = utf8proc_category(cp);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT;
}

static void put_cp(jbuf *b, int cp) {
    utf8proc_uint8_t tmp[4];
    utf8proc_ssize_t n = utf8proc_encode_char(cp, tmp);
    jb_put(b, (const char *)tmp, (size_t)n);
}

static jv finish(jarena *a, jbuf *b) {
    jv r = jv_str_copy(a, b->p ? b->p : "", b->n);
    free(b->p);
    return r;
}

// mode: 'u' upper, 'l' lower, 't' Python str.title, 'c' capitalize, 'T' jinja2 title filter
jv ju_case(jarena *a, jv s, int mode) {
    jbuf b = {0};
    int prev_cased = 0, first = 1, word_start = 1;
    for (size_t i = 0; i < s.u.s.n;) {
        int cp = ju_decode(s.u.s.s, s.u.s.n, &i);
        int out = cp;
        switch (mode) {
        case 'u': out = utf8proc_toupper(cp); break;
        case 'l': out = utf8proc_tolower(cp); break;
        case 't': out = prev_cased ? utf8proc_tolower(cp) : utf8proc_toupper(cp); prev_cased = is_cased(cp); break;
        case 'c': out = first ? utf8proc_toupper(cp) : utf8proc_tolower(cp); break;
        case 'T':
            out = word_start ? utf8proc_toupper(cp) : utf8proc_tolower(cp);
            word_start = ju_isspace(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
            break;
        }
        first = 0;
        put_cp(&b, out);
    }
    return finish(a, &b);
}

static int in_chars(int cp, jv chars) {
    if (chars.t != JV_STR) return ju_isspace(cp);
    for (size_t i = 0; i < chars.u.s.n;) if (ju_decode(chars.u.s.s, chars.u.s.n, &i) == cp) return 1;
    return 0;
}

// which: 1 left, 2 right, 3 both. chars: a string of characters, or none for whitespace.
jv ju_strip(jv s, jv chars, int which) {
    size_t a = 0, b = s.u.s.n;
    if (which & 1)
        while (a < b) { size_t j = a; int cp = ju_decode(s.u.s.s, b, &j); if (!in_chars(cp, chars)) break; a = j; }
    if (which & 2)
        while (b > a) {
            size_t k = b - 1;
            while (k > a && ((unsigned char)s.u.s.s[k] & 0xC0) == 0x80) k--;
            size_t j = k;
            int cp = ju_decode(s.u.s.s, b, &j);
            if (!in_chars(cp, chars)) break;
            b = k;
        }
    return jv_strn(s.u.s.s + a, b - a);
}

jv ju_replace(jarena *a, jv s, jv old, jv new_, int64_t count) {
    jbuf b = {0};
    size_t i = 0;
    int64_t done = 0;
    if (!old.u.s.n) {   // Python inserts `new` between every character
        for (size_t j = 0; j <= s.u.s.n && (count < 0 || done < count);) {
            jb_put(&b, new_.u.s.s, new_.u.s.n); done++;
            if (j == s.u.s.n) { i = j; break; }
            size_t k = j; ju_decode(s.u.s.s, s.u.s.n, &k);
            jb_put(&b, s.u.s.s + j, k - j);
            j = i = k;
        }
        jb_put(&b, s.u.s.s + i, s.u.s.n - i);
        return finish(a, &b);
    }
    while (count < 0 || done < count) {
        const char *p = memmem(s.u.s.s + i, s.u.s.n - i, old.u.s.s, old.u.s.n);
        if (!p) break;
        size_t at = (size_t)(p - s.u.s.s);
        jb_put(&b, s.u.s.s + i, at - i);
        jb_put(&b, new_.u.s.s, new_.u.s.n);
        i = at + old.u.s.n;
        done++;
    }
    jb_put(&b, s.u.s.s + i, s.u.s.n - i);
    return finish(a, &b);
}

// Python str.split(sep=None, maxsplit=-1)
int ju_split(jarena *a, jv s, jv sep, int64_t maxsplit, jv *out) {
    jv l = jv_list(a, 0);
    if (!l.u.l) return -1;
    const char *p = s.u.s.s;
    size_t n = s.u.s.n, i = 0;
    if (sep.t != JV_STR) {
        int64_t splits = 0;
        for (;;) {
            while (i < n) { size_t j = i; if (!ju_isspace(ju_decode(p, n, &j))) break; i = j; }
            if (i >= n) break;
            size_t st = i;
            if (maxsplit >= 0 && splits >= maxsplit) {
                size_t e = n;
                jv r = ju_strip(jv_strn(p + st, e - st), jv_none(), 2);
                if (jl_push(a, l.u.l, r)) return -1;
                break;
            }
            while (i < n) { size_t j = i; if (ju_isspace(ju_decode(p, n, &j))) break; i = j; }
            if (jl_push(a, l.u.l, jv_strn(p + st, i - st))) return -1;
            splits++;
        }
        *out = l;
        return 0;
    }
    if (!sep.u.s.n) return ft_err("empty separator");
    int64_t splits = 0;
    for (;;) {
        const char *q = (maxsplit < 0 || splits < maxsplit) ? memmem(p + i, n - i, sep.u.s.s, sep.u.s.n) : NULL;
        if (!q) { if (jl_push(a, l.u.l, jv_strn(p + i, n - i))) return -1; break; }
        size_t at = (size_t)(q - p);
        if (jl_push(a, l.u.l, jv_strn(p + i, at - i))) return -1;
        i = at + sep.u.s.n;
        splits++;
    }
    *out = l;
    return 0;
}

static int affix(jv s, jv x, int end) {
    if (x.t == JV_LIST) {
        for (size_t i = 0; i < x.u.l->n; i++) if (affix(s, x.u.l->v[i], end)) return 1;
        return 0;
    }
    if (x.t != JV_STR || x.u.s.n > s.u.s.n) return 0;
    return memcmp(s.u.s.s + (end ? s.u.s.n - x.u.s.n : 0), x.u.s.s, x.u.s.n) == 0;
}

static const char *STR_METHODS[] = {"strip", "lstrip", "rstrip", "split", "startswith", "endswith", "upper", "lower",
    "title", "capitalize", "replace", "format", "find", "rfind", "count", "join", "isdigit", "isalpha", "isalnum",
    "isspace", "islower", "isupper", "splitlines", "removeprefix", "removesuffix", NULL};
static const char *DICT_METHODS[] = {"items", "keys", "values", "get", NULL};

static int in_list(const char **l, const char *name) {
    for (int i = 0; l[i]; i++) if (!strcmp(l[i], name)) return 1;
    return 0;
}

int jinja_has_method(jv self, const char *name) {
    if (self.t == JV_STR) return in_list(STR_METHODS, name);
    if (self.t == JV_DICT && !self.u.d->ns) return in_list(DICT_METHODS, name);
    if (self.t == JV_LOOP) return !strcmp(name, "cycle") || !strcmp(name, "changed");
    return 0;
}

static int want_str(jctx *c, const jnode *at, const char *m, jv *args, size_t nargs, size_t i, int optional) {
    if (i >= nargs) return optional ? 0 : jinja_err(c, at, "%s() takes at least %zu argument(s)", m, i + 1);
    if (args[i].t == JV_STR || (optional && args[i].t == JV_NONE)) return 0;
    return jinja_err(c, at, "%s() argument must be str, not %s", m, jv_type_name(args[i]));
}

int jinja_method(jctx *c, const jnode *at, jv self, const char *name, jv *args, size_t nargs,
                 const char **kwn, jv *kwv, size_t nkw, jv *out) {
    if (!jinja_has_method(self, name)) return 0;
    jarena *a = c->a;
    if (self.t == JV_LOOP && !strcmp(name, "changed")) {   // True when the arguments differ from the last call
        jloop *L = self.u.loop;
        jv t = jv_list(a, nargs + 1);
        if (!t.u.l) return -1;
        if (nargs) memcpy(t.u.l->v, args, nargs * sizeof(jv));
        t.u.l->n = nargs; t.u.l->tuple = 1;
        int changed = !L->has_changed || !jv_equal(L->changed, t);
        if (changed) { L->changed = t; L->has_changed = 1; jinja_pin_escape(c, L, NULL, NULL, t); }
        *out = jv_bool(changed);
        return 1;
    }
    if (self.t == JV_LOOP) {
        if (!nargs) return jinja_err(c, at, "no items for cycling given");
        *out = args[self.u.loop->index0 % (int64_t)nargs];
        return 1;
    }
    if (self.t == JV_DICT) {
        jdict *d = self.u.d;
        if (!strcmp(name, "get")) {
            if (!nargs) return jinja_err(c, at, "get expected at least 1 argument, got 0");
            jv *v = jd_get(d, args[0]);
            *out = v ? *v : nargs > 1 ? args[1] : jv_none();
            return 1;
        }
        jv l = jv_list(a, d->n);
        if (!l.u.l) return -1;
        for (size_t i = 0; i < d->n; i++) {
            if (name[0] == 'k') l.u.l->v[i] = d->k[i];
            else if (name[0] == 'v') l.u.l->v[i] = d->v[i];
            else {
                jv pair = jv_list(a, 2);
                if (!pair.u.l) return -1;
                pair.u.l->v[0] = d->k[i]; pair.u.l->v[1] = d->v[i]; pair.u.l->n = 2; pair.u.l->tuple = 1;
                l.u.l->v[i] = pair;
            }
        }
        l.u.l->n = d->n;
        *out = l;
        return 1;
    }
    // strings
    if (!strcmp(name, "strip") || !strcmp(name, "lstrip") || !strcmp(name, "rstrip")) {
        if (want_str(c, at, name, args, nargs, 0, 1)) return -1;
        *out = ju_strip(self, nargs ? args[0] : jv_none(), name[0] == 's' ? 3 : name[0] == 'l' ? 1 : 2);
        return 1;
    }
    if (!strcmp(name, "upper") || !strcmp(name, "lower") || !strcmp(name, "title") || !strcmp(name, "capitalize")) {
        *out = ju_case(a, self, name[0] == 'u' ? 'u' : name[0] == 'l' ? 'l' : name[0] == 't' ? 't' : 'c');
        return 1;
    }
    if (!strcmp(name, "split")) {
        jv sep = nargs ? args[0] : jv_none();
        int64_t maxs = nargs > 1 && args[1].t == JV_INT ? args[1].u.i : -1;
        for (size_t k = 0; k < nkw; k++) {
            if (!strcmp(kwn[k], "sep")) sep = kwv[k];
            if (!strcmp(kwn[k], "maxsplit") && kwv[k].t == JV_INT) maxs = kwv[k].u.i;
        }
        if (sep.t != JV_STR && sep.t != JV_NONE) return jinja_err(c, at, "must be str or None, not %s", jv_type_name(sep));
        if (ju_split(a, self, sep, maxs, out)) return jinja_err(c, at, "%s", ft_errmsg());
        return 1;
    }
    if (!strcmp(name, "splitlines")) {
        jv l = jv_list(a, 0);
        if (!l.u.l) return -1;
        size_t i = 0, n = self.u.s.n;
        const char *p = self.u.s.s;
        while (i < n) {
            size_t e = i;
            while (e < n && p[e] != '\n' && p[e] != '\r') e++;
            if (jl_push(a, l.u.l, jv_strn(p + i, e - i))) return -1;
            if (e < n && p[e] == '\r' && e + 1 < n && p[e + 1] == '\n') e++;
            i = e + 1;
        }
        *out = l;
        return 1;
    }
    if (!strcmp(name, "startswith") || !strcmp(name, "endswith")) {
        if (!nargs || (args[0].t != JV_STR && args[0].t != JV_LIST))
            return jinja_err(c, at, "%s first arg must be str or a tuple of str", name);
        *out = jv_bool(affix(self, args[0], name[0] == 'e'));
        return 1;
    }
    if (!strcmp(name, "removeprefix") || !strcmp(name, "removesuffix")) {
        if (want_str(c, at, name, args, nargs, 0, 0)) return -1;
        int end = name[6] == 's';
        *out = self;
        if (affix(self, args[0], end)) *out = jv_strn(self.u.s.s + (end ? 0 : args[0].u.s.n), self.u.s.n - args[0].u.s.n);
        return 1;
    }
    if (!strcmp(name, "replace")) {
        if (want_str(c, at, name, args, nargs, 0, 0) || want_str(c, at, name, args, nargs, 1, 0)) return -1;
        int64_t cnt = nargs > 2 && args[2].t == JV_INT ? args[2].u.i : -1;
        *out = ju_replace(a, self, args[0], args[1], cnt);
        return 1;
    }
    if (!strcmp(name, "find") || !strcmp(name, "rfind") || !strcmp(name, "count")) {
        if (want_str(c, at, name, args, nargs, 0, 0)) return -1;
        jv x = args[0];
        int64_t found = -1, count = 0;
        for (size_t i = 0; i + x.u.s.n <= self.u.s.n;) {
            if (!memcmp(self.u.s.s + i, x.u.s.s, x.u.s.n)) {
                int64_t cp = (int64_t)ju_len(self.u.s.s, i);
                if (found < 0 || name[0] == 'r') found = cp;
                count++;
                if (name[0] == 'c' && x.u.s.n) { i += x.u.s.n; continue; }
            }
            i++;
        }
        if (name[0] == 'c' && !x.u.s.n) count = (int64_t)ju_len(self.u.s.s, self.u.s.n) + 1;
        *out = jv_int(name[0] == 'c' ? count : found);
        return 1;
    }
    if (!strcmp(name, "join")) {
        if (!nargs || args[0].t != JV_LIST) return jinja_err(c, at, "join() argument must be a list");
        jbuf b = {0};
        for (size_t i = 0; i < args[0].u.l->n; i++) {
            jv it = args[0].u.l->v[i];
            if (it.t != JV_STR) { free(b.p); return jinja_err(c, at, "sequence item %zu: expected str instance, %s found", i, jv_type_name(it)); }
            if (i) jb_put(&b, self.u.s.s, self.u.s.n);
            jb_put(&b, it.u.s.s, it.u.s.n);
        }
        *out = finish(a, &b);
        return 1;
    }
    if (!strcmp(name, "format")) return jinja_str_format(c, at, self, args, nargs, kwn, kwv, nkw, out) ? -1 : 1;
    // is* predicates
    int all = self.u.s.n > 0, any_cased = 0;
    for (size_t i = 0; i < self.u.s.n && all;) {
        int cp = ju_decode(self.u.s.s, self.u.s.n, &i);
        utf8proc_category_t k = utf8proc_category(cp);
        int letter = k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
        int digit = k == UTF8PROC_CATEGORY_ND;
        if (!strcmp(name, "isdigit")) all = digit;
        else if (!strcmp(name, "isalpha")) all = letter;
        else if (!strcmp(name, "isalnum")) all = letter || digit;
        else if (!strcmp(name, "isspace")) all = ju_isspace(cp);
        else if (!strcmp(name, "islower")) { if (k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LT) all = 0; any_cased |= k == UTF8PROC_CATEGORY_LL; }
        else if (!strcmp(name, "isupper")) { if (k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT) all = 0; any_cased |= k == UTF8PROC_CATEGORY_LU; }
    }
    if (!strcmp(name, "islower") || !strcmp(name, "isupper")) all = all && any_cased;
    *out = jv_bool(all);
    return 1;
}
