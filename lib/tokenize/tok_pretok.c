// tok_pretok.c — normalizers (NFC/NFD/NFKC/NFKD with utf8proc, Lowercase, Replace, Prepend,
// Strip) and pre-tokenizers (regex Split with HF's five behaviours and invert, ByteLevel with
// prefix space and GPT-2 regex, Metaspace) over a text that keeps, for every byte, the offset
// of the input byte it came from. Regexes run with PCRE2 (UTF + UCP, JIT-compiled).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenize/tok_internal.h"
#include "core/err.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

const char TOK_GPT2_REGEX[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// A compiled regex and its source (for messages).
typedef struct { pcre2_code *code; char src[121]; } tok_regex;

void *tok_regex_compile(const char *pattern, size_t len, const char *what) {
    int ec;
    PCRE2_SIZE eo;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK;
    if (what && strcmp(what, "literal") == 0) opts = PCRE2_UTF | PCRE2_LITERAL;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        ft_err("regex /%.*s/ at offset %zu: %s", (int)(len > 200 ? 200 : len), pattern, (size_t)eo, (char *)msg);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   // falls back to the interpreter when JIT is unavailable
    tok_regex *r = ft_malloc(sizeof *r);
    if (!r) { pcre2_code_free(re); return NULL; }
    r->code = re;
    size_t n = len < sizeof r->src - 4 ? len : sizeof r->src - 4;
    while (n > 0 && n < len && ((uint8_t)pattern[n] & 0xC0) == 0x80) n--;   // cut on a character boundary
    memcpy(r->src, pattern, n);
    strcpy(r->src + n, n < len ? "..." : "");
    return r;
}

void tok_regex_free(void *re) {
    if (!re) return;
    pcre2_code_free(((tok_regex *)re)->code);
    free(re);
}

// Run re on s[0..n) from pos; on a PCRE2 failure other than "no match", record an error that
// says what happened (a resource limit is the text's fault, not a malformed file) and return -2.
static int rx_match(const void *re, const tok_text *x, size_t from, size_t n, size_t pos, pcre2_match_data *md,
                    const char *what) {
    const tok_regex *r = re;
    int rc = pcre2_match(r->code, (PCRE2_SPTR)x->s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
    if (rc >= 0 || rc == PCRE2_ERROR_NOMATCH) return rc;
    PCRE2_UCHAR msg[160];
    if (pcre2_get_error_message(rc, msg, sizeof msg) < 0) strcpy((char *)msg, "unknown PCRE2 error");
    uint32_t at = n > from ? x->al[from] : 0, end = n > from ? x->al[n - 1] + 1 : 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
        rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_NOMEMORY)
        ft_err("%s /%s/ gave up on the text at input bytes %u..%u (%zu bytes): %s; the regex backtracks too much "
               "on this text (split it into shorter records, or simplify the tokenizer's regex)",
               what, r->src, at, end, n - from, (char *)msg);
    else ft_err("%s /%s/ failed on the text at input bytes %u..%u: %s (PCRE2 error %d)", what, r->src, at, end,
                (char *)msg, rc);
    return -2;
}

void tok_norm_free(tok_norm *n) { free(n->a); free(n->b); tok_regex_free(n->re); }
void tok_pre_free(tok_pre *p) { tok_regex_free(p->re); }

int tok_text_reserve(tok_text *t, size_t n) {
    if (t->cap >= n) return 0;
    size_t nc = t->cap ? t->cap : 256;
    while (nc < n) nc *= 2;
    char *s = ft_realloc(t->s, nc);
    if (!s) return -1;
    t->s = s;
    uint32_t *al = ft_realloc(t->al, nc * sizeof *al);
    if (!al) return -1;
    t->al = al;
    t->cap = nc;
    return 0;
}

static int text_put(tok_text *t, const char *s, size_t n, uint32_t al) {
    if (tok_text_reserve(t, t->n + n)) return -1;
    memcpy(t->s + t->n, s, n);
    for (size_t i = 0; i < n; i++) t->al[t->n + i] = al;
    t->n += n;
    return 0;
}

static void text_swap(tok_text *a, tok_text *b) { tok_text t = *a; *a = *b; *b = t; }

static int u8len(uint8_t c) {
    return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
}

static int32_t u8dec(const char *s, size_t n, size_t *l) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &c);
    if (k <= 0) { *l = 1; return (uint8_t)s[0]; }
    *l = (size_t)k;
    return c;
}

// ---- normalizers ---------------------------------------------------------------------------
static int is_boundary(int32_t c) {
    if (c < 0x300) return 1;
    if ((c >= 0x1161 && c <= 0x1175) || (c >= 0x11A8 && c <= 0x11C2)) return 0;   // Hangul V/T jamo compose
    return utf8proc_get_property(c)->combining_class == 0;
}

static int norm_unicode(int type, const tok_text *x, tok_text *o) {
    utf8proc_option_t opt = UTF8PROC_STABLE;
    if (type == NORM_NFC) opt |= UTF8PROC_COMPOSE;
    else if (type == NORM_NFD) opt |= UTF8PROC_DECOMPOSE;
    else if (type == NORM_NFKC) opt |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    else opt |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    size_t i = 0;
    while (i < x->n) {
        if ((uint8_t)x->s[i] < 0x80 && (i + 1 == x->n || (uint8_t)x->s[i + 1] < 0x80)) {
            if (text_put(o, x->s + i, 1, x->al[i])) return -1;
            i++;
            continue;
        }
        size_t j = i, l;
        u8dec(x->s + j, x->n - j, &l);
        j += l;
        while (j < x->n) {
            int32_t c = u8dec(x->s + j, x->n - j, &l);
            if (is_boundary(c)) break;
            j += l;
        }
        utf8proc_uint8_t *out = NULL;
        utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)x->s + i, (utf8proc_ssize_t)(j - i), &out, opt);
        if (r < 0) return ft_err("unicode normalization: %s", utf8proc_errmsg(r));
        int rc = text_put(o, (const char *)out, (size_t)r, x->al[i]);
        free(out);
        if (rc) return -1;
        i = j;
    }
    return 0;
}

static int is_cased(int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT ||
           utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}
static int is_case_ignorable(int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return c == '\'' || c == '.' || c == ':' || c == 0xB7 || c == 0x2019 || k == UTF8PROC_CATEGORY_MN ||
           k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK;
}

// Σ lowercases to final ς after a cased letter and not before one (Unicode Final_Sigma, as
// Rust's str::to_lowercase, which HF's Lowercase uses).
static int final_sigma(const tok_text *x, size_t at, size_t len) {
    size_t l;
    int before = 0;
    for (size_t k = at; k > 0;) {
        size_t j = k - 1;
        while (j > 0 && ((uint8_t)x->s[j] & 0xC0) == 0x80) j--;
        int32_t c = u8dec(x->s + j, k - j, &l);
        if (!is_case_ignorable(c)) { before = is_cased(c); break; }
        k = j;
    }
    if (!before) return 0;
    for (size_t k = at + len; k < x->n;) {
        int32_t c = u8dec(x->s + k, x->n - k, &l);
        if (!is_case_ignorable(c)) return !is_cased(c);
        k += l;
    }
    return 1;
}

static int norm_lower(const tok_text *x, tok_text *o) {
    for (size_t i = 0; i < x->n;) {
        size_t l;
        int32_t c = u8dec(x->s + i, x->n - i, &l);
        uint8_t buf[8];
        if (c == 0x130) {   // İ -> i + combining dot above (the one multi-char lowercase)
            if (text_put(o, "i\xCC\x87", 3, x->al[i])) return -1;
            i += l;
            continue;
        }
        int32_t lc = c < 0x80 ? (c >= 'A' && c <= 'Z' ? c + 32 : c)
                   : c == 0x3A3 ? (final_sigma(x, i, l) ? 0x3C2 : 0x3C3) : utf8proc_tolower(c);
        utf8proc_ssize_t k = utf8proc_encode_char(lc, buf);
        if (text_put(o, (const char *)buf, (size_t)k, x->al[i])) return -1;
        i += l;
    }
    return 0;
}

static int norm_replace(const tok_norm *nm, const tok_text *x, tok_text *o, pcre2_match_data *md) {
    size_t i = 0;
    while (i < x->n) {
        size_t ms, me;
        if (nm->re) {
            int rc = rx_match(nm->re, x, 0, x->n, i, md, "normalizer Replace");
            if (rc == PCRE2_ERROR_NOMATCH) break;
            if (rc < 0) return -1;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            ms = ov[0]; me = ov[1];
        } else {
            const char *p = nm->alen ? memmem(x->s + i, x->n - i, nm->a, nm->alen) : NULL;
            if (!p) break;
            ms = (size_t)(p - x->s); me = ms + nm->alen;
        }
        if (me == ms) {   // empty match: copy one char and go on
            size_t l = (size_t)u8len((uint8_t)x->s[ms]);
            if (ms + l > x->n) l = x->n - ms;
            for (size_t k = i; k < ms + l; k++) if (text_put(o, x->s + k, 1, x->al[k])) return -1;
            i = ms + l;
            continue;
        }
        for (size_t k = i; k < ms; k++) if (text_put(o, x->s + k, 1, x->al[k])) return -1;
        if (text_put(o, nm->b, nm->blen, x->al[ms])) return -1;
        i = me;
    }
    for (size_t k = i; k < x->n; k++) if (text_put(o, x->s + k, 1, x->al[k])) return -1;
    return 0;
}

static int is_ws(int32_t c) {
    return c == ' ' || (c >= 9 && c <= 13) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

static int norm_strip(const tok_norm *nm, const tok_text *x, tok_text *o) {
    size_t a = 0, b = x->n, l;
    if (nm->left) while (a < b) { int32_t c = u8dec(x->s + a, b - a, &l); if (!is_ws(c)) break; a += l; }
    if (nm->right) while (b > a) {
        size_t k = b - 1;
        while (k > a && ((uint8_t)x->s[k] & 0xC0) == 0x80) k--;
        int32_t c = u8dec(x->s + k, b - k, &l);
        if (!is_ws(c)) break;
        b = k;
    }
    for (size_t k = a; k < b; k++) if (text_put(o, x->s + k, 1, x->al[k])) return -1;
    return 0;
}

int tok_normalize(const ft_tokenizer *t, tok_text *x, tok_text *tmp) {
    pcre2_match_data *md = NULL;
    for (int k = 0; k < t->n_norm; k++) {
        const tok_norm *nm = &t->norm[k];
        tmp->n = 0;
        int rc = 0;
        switch (nm->type) {
        case NORM_NFC: case NORM_NFD: case NORM_NFKC: case NORM_NFKD: rc = norm_unicode(nm->type, x, tmp); break;
        case NORM_LOWER: rc = norm_lower(x, tmp); break;
        case NORM_REPLACE:
            if (nm->re && !md && !(md = pcre2_match_data_create(1, NULL))) return ft_err("out of memory");
            rc = norm_replace(nm, x, tmp, md);
            break;
        case NORM_PREPEND:
            if (x->n == 0) continue;
            rc = text_put(tmp, nm->a, nm->alen, x->al[0]);
            if (!rc) rc = text_put(tmp, x->s, x->n, 0);
            if (!rc) memcpy(tmp->al + nm->alen, x->al, x->n * sizeof *x->al);
            break;
        case NORM_STRIP: rc = norm_strip(nm, x, tmp); break;
        }
        if (rc) { if (md) pcre2_match_data_free(md); return -1; }
        text_swap(x, tmp);
    }
    if (md) pcre2_match_data_free(md);
    return 0;
}

// ---- pre-tokenizers --------------------------------------------------------------------------
typedef struct { tok_span *w; size_t n, cap; } spans;

static int spans_push(spans *s, uint32_t start, uint32_t len) {
    if (len == 0) return 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        tok_span *w = ft_realloc(s->w, nc * sizeof *w);
        if (!w) return -1;
        s->w = w; s->cap = nc;
    }
    s->w[s->n++] = (tok_span){start, len};
    return 0;
}

typedef struct { uint32_t s, e; int m; } piece;
typedef struct { piece *p; size_t n, cap; } pieces;

static int pieces_push(pieces *v, size_t s, size_t e, int m) {
    if (e <= s) return 0;
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 64;
        piece *q = ft_realloc(v->p, nc * sizeof *q);
        if (!q) return -1;
        v->p = q; v->cap = nc;
    }
    v->p[v->n++] = (piece){(uint32_t)s, (uint32_t)e, m};
    return 0;
}

// Split one span by a regex, appending the resulting pieces to out (HF Split semantics:
// matches and the gaps between them, then the behaviour decides what becomes a word).
static int split_span(const tok_pre *p, const tok_text *x, tok_span sp, pcre2_match_data *md,
                      pieces *pv, spans *out, const char *what) {
    size_t start = sp.start, end = sp.start + sp.len, pos = start;
    pv->n = 0;
    while (pos < end) {
        int rc = rx_match(p->re, x, sp.start, end, pos, md, what);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) return -1;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me <= ms) {   // empty match: a split point (as HF and llama.cpp), no piece; go on one char
            if (ms >= end) break;
            if (pieces_push(pv, start, ms, 0)) return -1;
            if (ms > start) start = ms;
            pos = ms + (size_t)u8len((uint8_t)x->s[ms]);
            continue;
        }
        if (pieces_push(pv, start, ms, 0) || pieces_push(pv, ms, me, 1)) return -1;
        start = pos = me;
    }
    if (pieces_push(pv, start, end, 0)) return -1;
    if (p->invert) for (size_t i = 0; i < pv->n; i++) pv->p[i].m = !pv->p[i].m;
    size_t first = out->n;
    int prev = 0;
    switch (p->behavior) {
    case SPLIT_ISOLATED:
        for (size_t i = 0; i < pv->n; i++) if (spans_push(out, pv->p[i].s, pv->p[i].e - pv->p[i].s)) return -1;
        break;
    case SPLIT_REMOVED:
        for (size_t i = 0; i < pv->n; i++)
            if (!pv->p[i].m && spans_push(out, pv->p[i].s, pv->p[i].e - pv->p[i].s)) return -1;
        break;
    case SPLIT_MERGED_PREV:
        for (size_t i = 0; i < pv->n; i++) {
            piece q = pv->p[i];
            if (q.m && !prev && out->n > first) out->w[out->n - 1].len = q.e - out->w[out->n - 1].start;
            else if (spans_push(out, q.s, q.e - q.s)) return -1;
            prev = q.m;
        }
        break;
    case SPLIT_MERGED_NEXT:   // fold from the right: a match glues onto the piece after it
        for (size_t i = pv->n; i-- > 0;) {
            piece *q = &pv->p[i];
            if (q->m && !prev && i + 1 < pv->n && pv->p[i + 1].s != UINT32_MAX) {
                piece *nx = &pv->p[i + 1];
                // find the surviving piece to the right
                size_t j = i + 1;
                while (j < pv->n && pv->p[j].s == UINT32_MAX) j++;
                nx = &pv->p[j];
                nx->s = q->s;
                prev = q->m;
                q->s = UINT32_MAX;
                continue;
            }
            prev = q->m;
        }
        for (size_t i = 0; i < pv->n; i++)
            if (pv->p[i].s != UINT32_MAX && spans_push(out, pv->p[i].s, pv->p[i].e - pv->p[i].s)) return -1;
        break;
    case SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < pv->n; i++) {
            piece q = pv->p[i];
            if (i > 0 && q.m == prev && out->n > first) out->w[out->n - 1].len = q.e - out->w[out->n - 1].start;
            else if (spans_push(out, q.s, q.e - q.s)) return -1;
            prev = q.m;
        }
        break;
    default:
        return ft_err("unknown split behaviour");
    }
    return 0;
}

static int metaspace(const tok_pre *p, tok_text *x, tok_text *tmp, spans *cur, spans *nxt) {
    tmp->n = 0;
    nxt->n = 0;
    for (size_t k = 0; k < cur->n; k++) {
        tok_span sp = cur->w[k];
        uint32_t ns = (uint32_t)tmp->n;
        int starts_space = x->s[sp.start] == ' ';
        int pre = !starts_space && (p->prepend == PREPEND_ALWAYS || (p->prepend == PREPEND_FIRST && x->al[sp.start] == 0));
        if (pre && text_put(tmp, p->repl, p->repl_len, x->al[sp.start])) return -1;
        for (uint32_t i = sp.start; i < sp.start + sp.len; i++) {
            if (x->s[i] == ' ') { if (text_put(tmp, p->repl, p->repl_len, x->al[i])) return -1; }
            else if (text_put(tmp, x->s + i, 1, x->al[i])) return -1;
        }
        uint32_t ne = (uint32_t)tmp->n;
        if (!p->split) { if (spans_push(nxt, ns, ne - ns)) return -1; continue; }
        uint32_t a = ns;
        for (uint32_t i = ns; i < ne; i++) {
            if (i > a && i + p->repl_len <= ne && memcmp(tmp->s + i, p->repl, p->repl_len) == 0) {
                if (spans_push(nxt, a, i - a)) return -1;
                a = i;
            }
        }
        if (spans_push(nxt, a, ne - a)) return -1;
    }
    text_swap(x, tmp);
    return 0;
}

static int prefix_space(tok_text *x, tok_text *tmp, spans *cur, spans *nxt) {
    tmp->n = 0;
    nxt->n = 0;
    for (size_t k = 0; k < cur->n; k++) {
        tok_span sp = cur->w[k];
        uint32_t ns = (uint32_t)tmp->n;
        if (x->s[sp.start] != ' ' && text_put(tmp, " ", 1, x->al[sp.start])) return -1;
        if (tok_text_reserve(tmp, tmp->n + sp.len)) return -1;
        memcpy(tmp->s + tmp->n, x->s + sp.start, sp.len);
        memcpy(tmp->al + tmp->n, x->al + sp.start, sp.len * sizeof *x->al);
        tmp->n += sp.len;
        if (spans_push(nxt, ns, (uint32_t)tmp->n - ns)) return -1;
    }
    text_swap(x, tmp);
    return 0;
}

// After a ByteLevel step HF's later pre-tokenizers see the byte-level characters (a space is
// "Ġ", "١" is "Ù¡"), while ft keeps raw bytes until the model: such a step runs its regex on a
// byte-level view of the text (one character per raw byte) and maps the pieces back.
typedef struct { tok_text v; uint32_t *vmap, *rmap; size_t cap; } bl_view;

static int bl_view_build(bl_view *b, const tok_text *x) {
    if (tok_text_reserve(&b->v, 2 * x->n + 1)) return -1;
    if (b->cap < x->n + 1) {
        uint32_t *a = ft_realloc(b->vmap, (2 * x->n + 1) * sizeof *a), *r;
        if (!a) return -1;
        b->vmap = a;
        if (!(r = ft_realloc(b->rmap, (x->n + 1) * sizeof *r))) return -1;
        b->rmap = r; b->cap = x->n + 1;
    }
    size_t j = 0;
    for (size_t i = 0; i < x->n; i++) {
        uint32_t c = tok_byte_to_cp((uint8_t)x->s[i]);
        b->rmap[i] = (uint32_t)j;
        if (c < 0x80) b->v.s[j++] = (char)c;
        else { b->v.s[j++] = (char)(0xC0 | (c >> 6)); b->v.s[j++] = (char)(0x80 | (c & 0x3F)); }
        for (size_t k = b->rmap[i]; k < j; k++) { b->vmap[k] = (uint32_t)i; b->v.al[k] = x->al[i]; }
    }
    b->rmap[x->n] = (uint32_t)j;
    b->v.n = j;
    return 0;
}

static int split_bytelevel(const tok_pre *q, const tok_text *x, const spans *cur, spans *nxt, pcre2_match_data *md,
                           pieces *pv, const char *what, bl_view *b) {
    if (bl_view_build(b, x)) return -1;
    for (size_t i = 0; i < cur->n; i++) {
        tok_span sp = cur->w[i];
        uint32_t vs = b->rmap[sp.start], ve = b->rmap[sp.start + sp.len];
        size_t first = nxt->n;
        if (split_span(q, &b->v, (tok_span){vs, ve - vs}, md, pv, nxt, what)) return -1;
        for (size_t k = first; k < nxt->n; k++) {
            uint32_t s0 = b->vmap[nxt->w[k].start], s1 = b->vmap[nxt->w[k].start + nxt->w[k].len - 1] + 1;
            nxt->w[k] = (tok_span){s0, s1 - s0};
        }
    }
    return 0;
}

int tok_pretokenize(const ft_tokenizer *t, tok_text *x, tok_text *tmp, tok_span **words,
                    size_t *n_words, size_t *cap_words, int first) {
    (void)first;
    spans cur = {*words, 0, *cap_words}, nxt = {0};
    pieces pv = {0};
    int rc = -1;
    pcre2_match_data *md = NULL;
    bl_view bv = {0};
    int bytelevel_seen = 0;
    if (x->n && spans_push(&cur, 0, (uint32_t)x->n)) goto out;
    for (int k = 0; k < t->n_pre; k++) {
        const tok_pre *p = &t->pre[k];
        if (p->type == PRE_METASPACE) {
            if (metaspace(p, x, tmp, &cur, &nxt)) goto out;
        } else {
            if (p->type == PRE_BYTELEVEL && p->prefix_space) {
                if (prefix_space(x, tmp, &cur, &nxt)) goto out;
                spans s = cur; cur = nxt; nxt = s;
            }
            if (!p->re) { if (p->type == PRE_BYTELEVEL) bytelevel_seen = 1; continue; }
            if (!md && !(md = pcre2_match_data_create(1, NULL))) { ft_err("out of memory"); goto out; }
            nxt.n = 0;
            tok_pre q = *p;
            if (p->type == PRE_BYTELEVEL) { q.behavior = SPLIT_ISOLATED; q.invert = 0; }
            char what[48];
            snprintf(what, sizeof what, "pre-tokenizer %d (%s)", k + 1, p->type == PRE_BYTELEVEL ? "ByteLevel" : "Split");
            if (bytelevel_seen) { if (split_bytelevel(&q, x, &cur, &nxt, md, &pv, what, &bv)) goto out; }
            else for (size_t i = 0; i < cur.n; i++)
                if (split_span(&q, x, cur.w[i], md, &pv, &nxt, what)) goto out;
            if (p->type == PRE_BYTELEVEL) bytelevel_seen = 1;
        }
        spans s = cur; cur = nxt; nxt = s;
    }
    rc = 0;
out:
    if (md) pcre2_match_data_free(md);
    free(bv.v.s); free(bv.v.al); free(bv.vmap); free(bv.rmap);
    free(nxt.w);
    free(pv.p);
    *words = cur.w; *n_words = cur.n; *cap_words = cur.cap;
    return rc;
}
