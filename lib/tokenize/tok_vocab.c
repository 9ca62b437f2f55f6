// tok_vocab.c — a tokenizer's vocabulary as the loaders build it: the GPT-2 byte-level alphabet,
// pieces and added tokens, the finishing step shared by tokenizer.json and GGUF (decoded forms,
// stop ids, the tokenizer id), and the lookups over it (ft_tokenizer_lookup, ft_tokenizer_kind).
#include "tokenize/tok_internal.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- GPT-2 byte-level alphabet -----------------------------------------------------------------
static int printable_byte(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); }

uint32_t tok_byte_to_cp(uint8_t b) {
    if (printable_byte(b)) return b;
    int n = 0;
    for (int k = 0; k < b; k++) if (!printable_byte(k)) n++;
    return 256u + (uint32_t)n;
}

int tok_cp_to_byte(uint32_t cp) {
    if (cp < 256) return printable_byte((int)cp) ? (int)cp : -1;
    if (cp >= 256 + 68) return -1;
    int n = 0;
    for (int k = 0; k < 256; k++) if (!printable_byte(k) && (uint32_t)(256 + n++) == cp) return k;
    return -1;
}

int tok_bytelevel_decode(const char *s, size_t n, char **out, uint32_t *out_len) {
    char *o = ft_malloc(n + 1);
    if (!o) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = (uint8_t)s[i];
        uint32_t cp;
        size_t l;
        if (c < 0x80) { cp = c; l = 1; }
        else if ((c & 0xE0) == 0xC0 && i + 1 < n) { cp = (uint32_t)(c & 0x1F) << 6 | ((uint8_t)s[i + 1] & 0x3F); l = 2; }
        else { free(o); return -1; }   // the alphabet has only 1- and 2-byte characters
        int b = tok_cp_to_byte(cp);
        if (b < 0) { free(o); return -1; }
        o[k++] = (char)b;
        i += l;
    }
    o[k] = 0;
    *out = o; *out_len = (uint32_t)k;
    return 0;
}

// ---- building --------------------------------------------------------------------------------
int tok_set_vocab_size(ft_tokenizer *t, uint32_t n) {
    if (n > TOK_MAX_VOCAB) return ft_err("vocabulary of %u tokens is larger than the limit %u", n, TOK_MAX_VOCAB);
    if (n <= t->n_vocab) return 0;
    size_t old = t->n_vocab;
#define GROW(f) do { void *p_ = ft_realloc(t->f, n * sizeof *t->f); if (!p_) return -1; t->f = p_; \
                     memset(t->f + old, 0, (n - old) * sizeof *t->f); } while (0)
    GROW(piece); GROW(piece_len); GROW(raw); GROW(raw_len); GROW(dec); GROW(dec_len);
    GROW(is_special); GROW(is_added); GROW(is_model);
#undef GROW
    t->n_vocab = n;
    return 0;
}

int tok_set_piece(ft_tokenizer *t, uint32_t id, const char *s, size_t len) {
    if (id >= t->n_vocab && tok_set_vocab_size(t, id + 1)) return -1;
    if (t->piece[id]) {
        if (t->piece_len[id] == len && memcmp(t->piece[id], s, len) == 0) return 0;
        return ft_err("token id %u is given twice with different strings", id);
    }
    char *p = ft_malloc(len + 1);
    if (!p) return -1;
    memcpy(p, s, len);
    p[len] = 0;
    t->piece[id] = p; t->piece_len[id] = (uint32_t)len;
    return 0;
}

int tok_add_added(ft_tokenizer *t, const tok_added *a) {
    if (a->len == 0) return ft_err("added token %u has empty content", a->id);
    if (tok_set_piece(t, a->id, a->content, a->len)) return -1;
    tok_added *n = ft_realloc(t->added, (t->n_added + 1) * sizeof *n);
    if (!n) return -1;
    t->added = n;
    n[t->n_added] = *a;
    n[t->n_added].content = t->piece[a->id];
    t->n_added++;
    t->is_added[a->id] = 1;
    if (a->special) t->is_special[a->id] = 1;
    return 0;
}

static int added_cmp(const void *x, const void *y) {
    const tok_added *a = x, *b = y;
    uint8_t ca = (uint8_t)a->content[0], cb = (uint8_t)b->content[0];
    if (ca != cb) return ca < cb ? -1 : 1;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int u128_cmp(const void *x, const void *y) {
    const uint64_t *a = x, *b = y;
    if (a[0] != b[0]) return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

int tok_finish(ft_tokenizer *t) {
    for (uint32_t id = 0; id < t->n_vocab; id++) {
        const char *p = t->piece[id];
        if (!p) continue;
        size_t n = t->piece_len[id];
        if (t->kind == TOK_BYTELEVEL) {
            char *r; uint32_t rl;
            if (tok_bytelevel_decode(p, n, &r, &rl) == 0) {
                if (t->is_model[id]) { t->raw[id] = r; t->raw_len[id] = rl; }
                t->dec[id] = ft_malloc(rl + 1);
                if (!t->dec[id]) { if (!t->is_model[id]) free(r); return -1; }
                memcpy(t->dec[id], r, rl + 1); t->dec_len[id] = rl;
                if (!t->is_model[id]) free(r);
            }
        } else if (t->is_model[id]) {
            if (!(t->raw[id] = ft_malloc(n + 1))) return -1;
            memcpy(t->raw[id], p, n + 1); t->raw_len[id] = (uint32_t)n;
        }
        if (!t->dec[id]) {   // SentencePiece form (or an added token outside the alphabet)
            char *d = ft_malloc(n + 1);
            if (!d) return -1;
            size_t k = 0;
            if (t->kind == TOK_SPM && !t->is_added[id] && n == 6 && memcmp(p, "<0x", 3) == 0 && p[5] == '>' &&
                hexval(p[3]) >= 0 && hexval(p[4]) >= 0) {
                d[k++] = (char)(hexval(p[3]) * 16 + hexval(p[4]));
            } else {
                for (size_t i = 0; i < n;) {
                    if (t->kind == TOK_SPM && i + 3 <= n && memcmp(p + i, "\xE2\x96\x81", 3) == 0) { d[k++] = ' '; i += 3; }
                    else d[k++] = p[i++];
                }
            }
            d[k] = 0;
            t->dec[id] = d; t->dec_len[id] = (uint32_t)k;
        }
    }
    // may SentencePiece words be cut before each "▁" that follows another character?
    t->spm_split = t->kind == TOK_SPM;
    for (uint32_t id = 0; id < t->n_vocab && t->spm_split; id++) {
        const char *p = t->raw[id];
        if (!p) continue;
        for (uint32_t i = 1; i + 3 <= t->raw_len[id]; i++)
            if (memcmp(p + i, "\xE2\x96\x81", 3) == 0 && !(i >= 3 && memcmp(p + i - 3, "\xE2\x96\x81", 3) == 0)) {
                t->spm_split = 0;
                break;
            }
    }
    // byte tokens
    for (int b = 0; b < 256; b++) t->byte_id[b] = TOK_NONE;
    if (tok_strmap_build(&t->vocab, (const char **)t->raw, t->raw_len, t->n_vocab, NULL)) return -1;
    for (int b = 0; b < 256; b++) {
        if (t->kind == TOK_BYTELEVEL) {
            char c = (char)b;
            int32_t v = tok_strmap_get(&t->vocab, &c, 1);
            if (v >= 0) t->byte_id[b] = (uint32_t)v;
        } else {
            char name[8];
            snprintf(name, sizeof name, "<0x%02X>", b);
            int32_t v = tok_strmap_get(&t->vocab, name, 6);
            if (v >= 0) t->byte_id[b] = (uint32_t)v;
        }
    }
    // added tokens indexed by first byte
    if (t->n_added) qsort(t->added, t->n_added, sizeof *t->added, added_cmp);
    memset(t->added_first, 0, sizeof t->added_first);
    for (size_t i = 0; i < t->n_added;) {
        uint8_t c = (uint8_t)t->added[i].content[0];
        size_t j = i;
        while (j < t->n_added && (uint8_t)t->added[j].content[0] == c) j++;
        t->added_first[c][0] = (uint32_t)i; t->added_first[c][1] = (uint32_t)j;
        i = j;
    }
    // stop ids: EOS + end-of-turn tokens present in the vocabulary
    static const char *const stops[] = {"<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                        "<|endoftext|>", "<|end_of_text|>", "</s>", "<|END_OF_TURN_TOKEN|>"};
    free(t->stop);
    t->stop = ft_malloc((1 + sizeof stops / sizeof *stops) * sizeof *t->stop);
    if (!t->stop) return -1;
    t->n_stop = 0;
    t->stop = ft_realloc(t->stop, (3 + sizeof stops / sizeof *stops) * sizeof *t->stop);
    if (!t->stop) return -1;
    if (t->eos >= 0) t->stop[t->n_stop++] = (uint32_t)t->eos;
    if (t->eot >= 0 && t->eot != t->eos) t->stop[t->n_stop++] = (uint32_t)t->eot;
    if (t->eom >= 0 && t->eom != t->eos && t->eom != t->eot) t->stop[t->n_stop++] = (uint32_t)t->eom;
    for (size_t k = 0; k < sizeof stops / sizeof *stops; k++) {
        int32_t v = ft_tokenizer_lookup(t, stops[k], strlen(stops[k]));
        if (v < 0 || v == t->eos || v == t->eot || v == t->eom) continue;
        if (!t->is_added[v] && !t->is_special[v]) continue;
        t->stop[t->n_stop++] = (uint32_t)v;
    }
    // tokenizer id
    uint64_t h = 0xcbf29ce484222325ull;
    const char *kind = ft_tokenizer_kind(t);
    h = tok_fnv(h, kind, strlen(kind) + 1);
    uint32_t nv = t->n_vocab;
    h = tok_fnv(h, &nv, 4);
    for (uint32_t id = 0; id < t->n_vocab; id++) {
        if (t->piece[id]) h = tok_fnv(h, t->piece[id], t->piece_len[id]);
        h = tok_fnv(h, "\xff", 1);
    }
    if (t->kind == TOK_BYTELEVEL) {
        // merges in rank order: walk the pair map, collect, sort by rank
        size_t nm = t->merges.n, k = 0;
        uint64_t *m = ft_malloc((nm ? nm : 1) * 2 * sizeof *m);
        if (!m) return -1;
        for (size_t i = 0; i < t->merges.cap; i++)
            if (t->merges.keys[i]) { m[2 * k] = t->merges.rank[i]; m[2 * k + 1] = t->merges.keys[i] - 1; k++; }
        qsort(m, k, 2 * sizeof *m, u128_cmp);
        for (size_t i = 0; i < k; i++) h = tok_fnv(h, &m[2 * i + 1], 8);
        free(m);
    }
    t->id = h ? h : 1;
    return 0;
}

// ---- loading ---------------------------------------------------------------------------------

const char *ft_tokenizer_kind(const ft_tokenizer *t) { return t->kind == TOK_BYTELEVEL ? "bpe-bytelevel" : "bpe-spm"; }

int32_t ft_tokenizer_lookup(const ft_tokenizer *t, const char *piece, size_t len) {
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].len == len && memcmp(t->added[i].content, piece, len) == 0) return (int32_t)t->added[i].id;
    for (uint32_t id = 0; id < t->n_vocab; id++)   // stored form; rare calls (special names)
        if (t->piece[id] && t->piece_len[id] == len && memcmp(t->piece[id], piece, len) == 0) return (int32_t)id;
    return -1;
}
