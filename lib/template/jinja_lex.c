// jinja_lex.c — Jinja template tokenizer: text, {{ }}, {% %}, {# #} with jinja2's whitespace
// control as HF configures it (trim_blocks, lstrip_blocks, '-' and '+' modifiers), raw blocks,
// and expression tokens (names, numbers, Python string literals, operators) inside tags.
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "template/jinja_int.h"

typedef struct {
    jarena *a;
    const char *src, *name;
    size_t len, pos;
    int line;
    jtok *t; size_t n, cap;
} lexer;

static int push(lexer *L, jtok tk) {
    if (L->n == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 256;
        jtok *p = realloc(L->t, cap * sizeof *p);
        if (!p) return ft_err("out of memory");
        L->t = p; L->cap = cap;
    }
    L->t[L->n++] = tk;
    return 0;
}

static int lines_in(const char *s, size_t n) {
    int c = 0;
    for (size_t i = 0; i < n; i++) c += s[i] == '\n';
    return c;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static void put_utf8(char *o, size_t *k, unsigned cp) {
    if (cp < 0x80) o[(*k)++] = (char)cp;
    else if (cp < 0x800) { o[(*k)++] = (char)(0xC0 | cp >> 6); o[(*k)++] = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
        o[(*k)++] = (char)(0xE0 | cp >> 12); o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        o[(*k)++] = (char)(0xF0 | cp >> 18); o[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[(*k)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hexval(const char *s, int n, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 0;
}

// A string literal starting at L->pos (quote char); Python escapes.
static int lex_string(lexer *L, jtok *tk) {
    char q = L->src[L->pos];
    size_t i = L->pos + 1, end = i;
    while (end < L->len && L->src[end] != q) end += L->src[end] == '\\' ? 2 : 1;
    if (end >= L->len) return ft_err("%s:%d: unterminated string literal", L->name, L->line);
    char *o = ja_alloc(L->a, end - i + 1);
    if (!o) return -1;
    size_t k = 0;
    while (i < end) {
        char c = L->src[i];
        if (c != '\\') { o[k++] = c; i++; continue; }
        char e = L->src[i + 1];
        unsigned cp;
        i += 2;
        switch (e) {
        case 'n': o[k++] = '\n'; break;
        case 't': o[k++] = '\t'; break;
        case 'r': o[k++] = '\r'; break;
        case '0': o[k++] = '\0'; break;
        case 'a': o[k++] = '\a'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'v': o[k++] = '\v'; break;
        case '\\': case '\'': case '"': o[k++] = e; break;
        case '\n': break;
        case 'x': case 'u': case 'U': {
            int nd = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            if (i + (size_t)nd > end || hexval(L->src + i, nd, &cp) || cp > 0x10FFFF)
                return ft_err("%s:%d: bad \\%c escape in string literal", L->name, L->line, e);
            put_utf8(o, &k, cp);
            i += nd;
            break;
        }
        default: o[k++] = '\\'; o[k++] = e;
        }
    }
    o[k] = 0;
    tk->t = TK_STR; tk->s = o; tk->n = k;
    L->line += lines_in(L->src + L->pos, end + 1 - L->pos);
    L->pos = end + 1;
    return 0;
}

static const char *ops2[] = {"//", "**", "==", "!=", "<=", ">=", NULL};

// Tokens inside a tag up to its end delimiter; returns 1 when the end had '-', 2 when '+'.
static int lex_tag(lexer *L, int var) {
    int depth = 0;
    for (;;) {
        while (L->pos < L->len && is_ws(L->src[L->pos])) { L->line += L->src[L->pos] == '\n'; L->pos++; }
        if (L->pos >= L->len) return ft_err("%s:%d: unexpected end of template inside a tag", L->name, L->line);
        const char *p = L->src + L->pos;
        size_t rest = L->len - L->pos;
        const char *end = var ? "}}" : "%}";
        if (depth == 0) {
            int mod = 0; size_t skip = 0;
            if (rest >= 3 && (p[0] == '-' || p[0] == '+') && memcmp(p + 1, end, 2) == 0) { mod = p[0] == '-' ? 1 : 2; skip = 3; }
            else if (rest >= 2 && memcmp(p, end, 2) == 0) skip = 2;
            if (skip) {
                jtok tk = {.t = var ? TK_VEND : TK_BEND, .line = L->line};
                if (push(L, tk)) return -1;
                L->pos += skip;
                return mod;
            }
        }
        jtok tk = {.line = L->line};
        char c = *p;
        if (isalpha((unsigned char)c) || c == '_') {
            size_t n = 1;
            while (n < rest && (isalnum((unsigned char)p[n]) || p[n] == '_')) n++;
            tk.t = TK_NAME; tk.s = p; tk.n = n; L->pos += n;
        } else if (isdigit((unsigned char)c)) {
            size_t n = 0; int flt = 0;
            while (n < rest && (isdigit((unsigned char)p[n]) || p[n] == '_')) n++;
            if (n + 1 < rest && p[n] == '.' && isdigit((unsigned char)p[n + 1])) {
                flt = 1; n++;
                while (n < rest && isdigit((unsigned char)p[n])) n++;
            }
            if (n < rest && (p[n] == 'e' || p[n] == 'E')) {
                size_t m = n + 1;
                if (m < rest && (p[m] == '+' || p[m] == '-')) m++;
                if (m < rest && isdigit((unsigned char)p[m])) {
                    flt = 1; n = m;
                    while (n < rest && isdigit((unsigned char)p[n])) n++;
                }
            }
            char *s = ja_alloc(L->a, n + 1);
            if (!s) return -1;
            size_t k = 0;
            for (size_t i = 0; i < n; i++) if (p[i] != '_') s[k++] = p[i];
            if (flt) { tk.t = TK_FLOAT; tk.f = strtod(s, NULL); }
            else { tk.t = TK_INT; tk.i = strtoll(s, NULL, 10); }
            L->pos += n;
        } else if (c == '\'' || c == '"') {
            if (lex_string(L, &tk)) return -1;
        } else {
            tk.t = TK_OP; tk.s = p; tk.n = 1;
            for (int i = 0; ops2[i]; i++) if (rest >= 2 && memcmp(p, ops2[i], 2) == 0) tk.n = 2;
            if (tk.n == 1 && !strchr("+-*/%~<>=()[]{},.:|!", c))
                return ft_err("%s:%d: unexpected character '%c'", L->name, L->line, c);
            if (tk.n == 1 && c == '!') return ft_err("%s:%d: unexpected character '!'", L->name, L->line);
            if (c == '(' || c == '[' || c == '{') depth++;
            if ((c == ')' || c == ']' || c == '}') && depth > 0) depth--;
            L->pos += tk.n;
        }
        if (push(L, tk)) return -1;
    }
}

// Push text [s, s+n) as a TEXT token (skipping empty text).
static int push_text(lexer *L, const char *s, size_t n, int line) {
    if (!n) return 0;
    jtok tk = {.t = TK_TEXT, .line = line, .s = s, .n = n};
    return push(L, tk);
}

// After "{% raw %}": find the matching "{% endraw %}" and emit its content as text.
static int lex_raw(lexer *L, int strip_after) {
    size_t i = L->pos;
    for (;;) {
        const char *p = memmem(L->src + i, L->len - i, "{%", 2);
        if (!p) return ft_err("%s:%d: missing endraw", L->name, L->line);
        size_t j = (size_t)(p - L->src) + 2;
        int strip_before = j < L->len && L->src[j] == '-';
        if (j < L->len && (L->src[j] == '-' || L->src[j] == '+')) j++;
        while (j < L->len && is_ws(L->src[j])) j++;
        if (L->len - j >= 6 && memcmp(L->src + j, "endraw", 6) == 0) {
            j += 6;
            while (j < L->len && is_ws(L->src[j])) j++;
            int mod = 0;
            if (j < L->len && (L->src[j] == '-' || L->src[j] == '+')) { mod = L->src[j] == '-' ? 1 : 2; j++; }
            if (L->len - j < 2 || memcmp(L->src + j, "%}", 2) != 0) { i = j; continue; }
            const char *s = L->src + L->pos;
            size_t n = (size_t)(p - s);
            if (strip_after) while (n && is_ws(*s)) { s++; n--; }
            if (strip_before) while (n && is_ws(s[n - 1])) n--;
            if (push_text(L, s, n, L->line)) return -1;
            L->line += lines_in(L->src + L->pos, j + 2 - L->pos);
            L->pos = j + 2;
            return mod;
        }
        i = j;
    }
}

int jinja_lex(jarena *a, const char *src, size_t len, const char *name, jtok **toks, size_t *ntok) {
    lexer L = {.a = a, .src = src, .name = name, .len = len, .line = 1};
    int strip_next = 0;      // previous tag ended with '-': drop leading whitespace
    while (L.pos < len) {
        // next tag start
        size_t t = L.pos;
        int kind = 0;   // 1 var, 2 block, 3 comment
        while (t + 1 < len) {
            if (src[t] == '{' && (src[t + 1] == '{' || src[t + 1] == '%' || src[t + 1] == '#')) {
                kind = src[t + 1] == '{' ? 1 : src[t + 1] == '%' ? 2 : 3;
                break;
            }
            t++;
        }
        if (!kind) t = len;
        const char *txt = src + L.pos;
        size_t n = t - L.pos;
        int line = L.line;
        int line_starting = L.pos == 0 || src[L.pos - 1] == '\n';
        if (strip_next) {
            size_t k = 0;
            while (k < n && is_ws(txt[k])) { if (txt[k] == '\n') line++; k++; }
            if (k) line_starting = txt[k - 1] == '\n';
            txt += k; n -= k;
        }
        strip_next = 0;
        char mod = kind && t + 2 < len ? src[t + 2] : 0;
        if (kind && mod == '-') {
            while (n && is_ws(txt[n - 1])) n--;
        } else if (kind >= 2 && mod != '+') {   // lstrip_blocks
            size_t l = n;
            while (l && txt[l - 1] != '\n') l--;
            if (l > 0 || line_starting) {
                size_t k = l;
                while (k < n && is_ws(txt[k])) k++;
                if (k == n) n = l;
            }
        }
        if (push_text(&L, txt, n, line)) goto fail;
        L.line += lines_in(src + L.pos, t - L.pos);
        if (!kind) break;
        L.pos = t + 2 + (mod == '-' || mod == '+');
        int endmod;
        if (kind == 3) {
            const char *e = memmem(src + L.pos, len - L.pos, "#}", 2);
            if (!e) { ft_err("%s:%d: unterminated comment", name, L.line); goto fail; }
            size_t epos = (size_t)(e - src);
            endmod = epos > L.pos && (src[epos - 1] == '-' || src[epos - 1] == '+') ? (src[epos - 1] == '-' ? 1 : 2) : 0;
            L.line += lines_in(src + L.pos, epos + 2 - L.pos);
            L.pos = epos + 2;
        } else {
            // raw block?
            size_t p = L.pos;
            while (p < len && is_ws(src[p])) p++;
            if (kind == 2 && len - p >= 3 && memcmp(src + p, "raw", 3) == 0 && p + 3 < len &&
                !(isalnum((unsigned char)src[p + 3]) || src[p + 3] == '_')) {
                p += 3;
                while (p < len && is_ws(src[p])) p++;
                int m = 0;
                if (p < len && (src[p] == '-' || src[p] == '+')) { m = src[p] == '-'; p++; }
                if (len - p < 2 || memcmp(src + p, "%}", 2) != 0) { ft_err("%s:%d: bad raw tag", name, L.line); goto fail; }
                L.line += lines_in(src + L.pos, p + 2 - L.pos);
                L.pos = p + 2;
                if (!m && L.pos < len && src[L.pos] == '\n') { L.pos++; L.line++; }
                endmod = lex_raw(&L, m);
            } else {
                jtok tk = {.t = kind == 1 ? TK_VBEGIN : TK_BBEGIN, .line = L.line};
                if (push(&L, tk)) goto fail;
                endmod = lex_tag(&L, kind == 1);
            }
            if (endmod < 0) goto fail;
        }
        if (endmod == 1) strip_next = 1;
        else if (endmod == 0 && kind >= 2 && L.pos < len && src[L.pos] == '\n') { L.pos++; L.line++; }   // trim_blocks
    }
    jtok eof = {.t = TK_EOF, .line = L.line};
    if (push(&L, eof)) goto fail;
    // move tokens into the arena so the parser's nodes and tokens share a lifetime
    *toks = ja_alloc(a, L.n * sizeof(jtok));
    if (!*toks) goto fail;
    memcpy(*toks, L.t, L.n * sizeof(jtok));
    *ntok = L.n;
    free(L.t);
    return 0;
fail:
    free(L.t);
    return -1;
}
