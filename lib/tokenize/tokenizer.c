// tokenizer.c — the encode pipeline (added tokens, normalizers, pre-tokenizers, BPE,
// post-processor), decoding and the accessors. Building the vocabulary is tok_vocab.c's,
// loading a file tok_load.c's.
#include "tokenize/tok_internal.h"
#include "core/err.h"
#include "core/jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

// ---- encoding ---------------------------------------------------------------------------------
ft_tok_ws *ft_tok_ws_new(void) { return ft_calloc(1, sizeof(ft_tok_ws)); }

void ft_tok_ws_free(ft_tok_ws *ws) {
    if (!ws) return;
    free(ws->a.s); free(ws->a.al); free(ws->b.s); free(ws->b.al); free(ws->words);
    free(ws->sym); free(ws->heap); free(ws->cache); free(ws->keys); free(ws->vals);
    free(ws);
}

void ft_tok_ids_free(ft_tok_ids *o) { free(o->ids); free(o->offs); memset(o, 0, sizeof *o); }

// ---- added tokens: HF AddedVocabulary semantics ------------------------------------------------
// Leftmost-longest matches (Aho-Corasick style) of the non-normalized added tokens over the
// whole text, then of the normalized ones inside each remaining piece; a single_word match with
// a word character (Rust regex \w) on either side of it within its piece is dropped; lstrip /
// rstrip absorb White_Space around the match.
static int32_t cp_at(const char *s, size_t n, size_t *l) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &c);
    if (k <= 0) { *l = 1; return (uint8_t)s[0]; }
    *l = (size_t)k;
    return c;
}
static size_t cp_start_before(const char *s, size_t lo, size_t at) {
    size_t j = at - 1;
    while (j > lo && ((uint8_t)s[j] & 0xC0) == 0x80) j--;
    return j;
}
static int is_white(int32_t c) {
    return c == ' ' || (c >= 9 && c <= 13) || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
static int is_wordc(int32_t c) {
    if (c < 0x80) return c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
    if (c == 0x200C || c == 0x200D || (c >= 0x24B6 && c <= 0x24E9)) return 1;
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) || (k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME) ||
           k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_PC;
}

// Leftmost-longest added token (of the wanted normalized kind) in s[from, end).
static int find_added(const ft_tokenizer *t, const char *s, size_t from, size_t end, int normalized,
                      size_t *ms, size_t *me, const tok_added **tok) {
    for (size_t i = from; i < end; i++) {
        const uint32_t *r = t->added_first[(uint8_t)s[i]];
        for (uint32_t k = r[0]; k < r[1]; k++) {
            const tok_added *a = &t->added[k];
            if ((int)a->normalized != normalized || a->len > end - i || memcmp(s + i, a->content, a->len) != 0) continue;
            *ms = i; *me = i + a->len; *tok = a;
            return 1;
        }
    }
    return 0;
}

static int encode_piece(const ft_tokenizer *t, ft_tok_ws *ws, const char *s, size_t a, size_t b, ft_tok_ids *out);

// Split s[a, b) on added tokens of one kind; gaps go to the next pass (normalized tokens) or
// to the model.
static int split_added(const ft_tokenizer *t, ft_tok_ws *ws, const char *s, size_t a, size_t b, int normalized,
                       ft_tok_ids *out) {
    size_t pos = a, from = a, ms, me, l;
    const tok_added *tk;
    while (from < b && find_added(t, s, from, b, normalized, &ms, &me, &tk)) {
        from = me;
        if (tk->single_word) {
            if (ms > a && is_wordc(cp_at(s + cp_start_before(s, a, ms), ms - cp_start_before(s, a, ms), &l))) continue;
            if (me < b && is_wordc(cp_at(s + me, b - me, &l))) continue;
        }
        size_t start = ms, stop = me;
        if (tk->lstrip) {
            while (start > a) {
                size_t j = cp_start_before(s, a, start);
                if (!is_white(cp_at(s + j, start - j, &l))) break;
                start = j;
            }
            if (start < pos) start = pos;
        }
        if (tk->rstrip) while (stop < b && is_white(cp_at(s + stop, b - stop, &l))) stop += l;
        if (start < pos) start = pos;   // overlapping an earlier rstrip: keep the text once
        if (start > pos) {
            int rc = normalized ? encode_piece(t, ws, s, pos, start, out) : split_added(t, ws, s, pos, start, 1, out);
            if (rc) return -1;
        }
        if (tok_ids_push(out, tk->id, (uint32_t)ms)) return -1;
        pos = stop > pos ? stop : pos;
        if (from < pos) from = pos;
    }
    if (pos < b) return normalized ? encode_piece(t, ws, s, pos, b, out) : split_added(t, ws, s, pos, b, 1, out);
    return 0;
}

static int encode_piece(const ft_tokenizer *t, ft_tok_ws *ws, const char *s, size_t a, size_t b, ft_tok_ids *out) {
    if (b <= a) return 0;
    tok_text *x = &ws->a;
    if (tok_text_reserve(x, b - a)) return -1;
    memcpy(x->s, s + a, b - a);
    for (size_t i = 0; i < b - a; i++) x->al[i] = (uint32_t)(a + i);
    x->n = b - a;
    if (t->n_norm && tok_normalize(t, x, &ws->b)) return -1;
    if (tok_pretokenize(t, x, &ws->b, &ws->words, &ws->n_words, &ws->cap_words, a == 0)) return -1;
    for (size_t k = 0; k < ws->n_words; k++) {
        tok_span w = ws->words[k];
        if (tok_bpe_word(t, ws, x->s + w.start, w.len, out, x->al + w.start)) return -1;
    }
    return 0;
}

int ft_tokenizer_encode_ws(const ft_tokenizer *t, ft_tok_ws *ws, const char *text, size_t len, int flags,
                           ft_tok_ids *out) {
    out->n = 0;
    if (len > UINT32_MAX - 16) return ft_err("text of %zu bytes is too long to tokenize as one record", len);
    long bad = ft_utf8_invalid_at(text, len);
    if (bad >= 0) return ft_err("invalid UTF-8 at byte %ld of the text", bad + 1);
    ft_tok_ws *own = NULL;
    if (!ws && !(ws = own = ft_tok_ws_new())) return -1;
    int rc = -1;
    if (flags & FT_TOK_DEFAULT_SPECIAL) {
        for (int i = 0; i < t->n_pre_ids; i++) if (tok_ids_push(out, t->pre_ids[i], 0)) goto done;
    } else if ((flags & FT_TOK_BOS) && t->bos >= 0) {
        if (tok_ids_push(out, (uint32_t)t->bos, 0)) goto done;
    }
    if (t->n_added ? split_added(t, ws, text, 0, len, 0, out) : encode_piece(t, ws, text, 0, len, out)) goto done;
    if (flags & FT_TOK_DEFAULT_SPECIAL) {
        for (int i = 0; i < t->n_post_ids; i++) if (tok_ids_push(out, t->post_ids[i], (uint32_t)len)) goto done;
    } else if ((flags & FT_TOK_EOS) && t->eos >= 0) {
        if (tok_ids_push(out, (uint32_t)t->eos, (uint32_t)len)) goto done;
    }
    rc = 0;
done:
    ft_tok_ws_free(own);
    return rc;
}

int ft_tokenizer_encode(const ft_tokenizer *t, const char *text, size_t len, int add_special, uint32_t **ids, size_t *n) {
    ft_tok_ids o = {0};
    *ids = NULL; *n = 0;
    if (ft_tokenizer_encode_ws(t, NULL, text, len, add_special ? FT_TOK_DEFAULT_SPECIAL : 0, &o)) {
        ft_tok_ids_free(&o);
        return -1;
    }
    free(o.offs);
    *ids = o.ids ? o.ids : ft_malloc(sizeof(uint32_t));
    *n = o.n;
    return *ids ? 0 : -1;
}

// ---- decoding ---------------------------------------------------------------------------------
int ft_tokenizer_decode_ex(const ft_tokenizer *t, const uint32_t *ids, size_t n, int skip_special, char **text, size_t *len) {
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= t->n_vocab || !t->dec[ids[i]]) return ft_err("token id %u is not in the vocabulary (size %u)", ids[i], t->n_vocab);
        total += t->dec_len[ids[i]];
    }
    char *o = ft_malloc(total);
    if (!o) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (skip_special && t->is_special[ids[i]]) continue;
        memcpy(o + k, t->dec[ids[i]], t->dec_len[ids[i]]);
        k += t->dec_len[ids[i]];
    }
    size_t off = (t->dec_strip_space && k > 0 && o[0] == ' ') ? 1 : 0;
    if (off) memmove(o, o + 1, k - 1), k--;
    o[k] = 0;
    *text = o; *len = k;
    return 0;
}

int ft_tokenizer_decode(const ft_tokenizer *t, const uint32_t *ids, size_t n, char **text, size_t *len) {
    return ft_tokenizer_decode_ex(t, ids, n, 0, text, len);
}

int ft_tokenizer_token_bytes(const ft_tokenizer *t, uint32_t id, char *buf, size_t cap) {
    if (id >= t->n_vocab || !t->dec[id]) return ft_err("token id %u is not in the vocabulary", id);
    size_t l = t->dec_len[id];
    memcpy(buf, t->dec[id], l < cap ? l : cap);
    return (int)l;
}

// ---- accessors --------------------------------------------------------------------------------
uint32_t ft_tokenizer_vocab_size(const ft_tokenizer *t) { return t->n_vocab; }
int32_t ft_tokenizer_bos(const ft_tokenizer *t) { return t->bos; }
int32_t ft_tokenizer_eos(const ft_tokenizer *t) { return t->eos; }
int32_t ft_tokenizer_pad(const ft_tokenizer *t) { return t->pad; }
int32_t ft_tokenizer_unk(const ft_tokenizer *t) { return t->unk; }
size_t ft_tokenizer_stop_ids(const ft_tokenizer *t, const uint32_t **ids) { *ids = t->stop; return t->n_stop; }
int ft_tokenizer_add_bos_default(const ft_tokenizer *t) { return t->add_bos; }
int ft_tokenizer_add_eos_default(const ft_tokenizer *t) { return t->add_eos; }
uint64_t ft_tokenizer_id(const ft_tokenizer *t) { return t->id; }
const char *ft_tokenizer_warning(const ft_tokenizer *t) { return t->warning; }
int ft_tokenizer_is_special(const ft_tokenizer *t, uint32_t id) { return id < t->n_vocab && t->is_special[id]; }

const char *ft_tokenizer_piece(const ft_tokenizer *t, uint32_t id, size_t *len) {
    if (id >= t->n_vocab || !t->piece[id]) return NULL;
    if (len) *len = t->piece_len[id];
    return t->piece[id];
}

