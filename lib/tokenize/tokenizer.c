// tokenizer.c — the encode pipeline (added tokens, normalizers, pre-tokenizers, BPE,
// post-processor), decoding, accessors, and the load steps shared by tokenizer.json and GGUF.
#include "tokenize/tok_internal.h"
#include "core/err.h"
#include "core/jsonl.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <utf8proc.h>

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
static int is_dir(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }
static int is_file(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISREG(st.st_mode); }

// The one *.gguf file of a directory (malloc'd path), or NULL when there are none or several.
static char *dir_single_gguf(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char *found = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".gguf")) continue;
        if (++n > 1) break;
        found = ft_malloc(strlen(dir) + l + 2);
        if (found) sprintf(found, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n != 1) { free(found); return NULL; }
    return found;
}

ft_tokenizer *ft_tokenizer_load(const char *path) {
    if (!path) { ft_err("no tokenizer given"); return NULL; }
    ft_tokenizer *t = ft_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->unk = t->bos = t->eos = t->pad = t->eot = t->eom = -1;
    t->path = ft_strdup(path);
    int rc;
    size_t n = strlen(path);
    if (is_dir(path)) {
        char *js = ft_malloc(n + 32), *cfg = ft_malloc(n + 32), *gg = NULL;
        if (!js || !cfg) { free(js); free(cfg); ft_tokenizer_free(t); return NULL; }
        sprintf(js, "%s/tokenizer.json", path);
        sprintf(cfg, "%s/tokenizer_config.json", path);
        if (is_file(js)) rc = tok_load_hf(t, js, is_file(cfg) ? cfg : NULL);
        else if ((gg = dir_single_gguf(path)) != NULL) rc = tok_load_gguf(t, gg);
        else rc = ft_err("%s: no tokenizer.json (nor a single .gguf) in this directory", path);
        free(js); free(cfg); free(gg);
    } else if (n >= 5 && strcmp(path + n - 5, ".gguf") == 0) {
        rc = tok_load_gguf(t, path);
    } else {
        if (!is_file(path)) { ft_err("%s: no such file or directory", path); ft_tokenizer_free(t); return NULL; }
        FILE *f = fopen(path, "rb");
        char magic[4] = {0};
        if (f) { if (fread(magic, 1, 4, f) != 4) magic[0] = 0; fclose(f); }
        if (memcmp(magic, "GGUF", 4) == 0) rc = tok_load_gguf(t, path);
        else rc = tok_load_hf(t, path, NULL);
    }
    if (rc == 0) rc = tok_finish(t);
    if (rc) {
        const char *m = ft_errmsg();
        if (strncmp(m, path, n) != 0) ft_err_ctx("%s", path);
        ft_tokenizer_free(t);
        return NULL;
    }
    // e.g. a GGUF pre-tokenizer name ft does not know (the default regexes are used): every
    // tool that loads this tokenizer says so, through the log hooks it installed
    if (t->warning) ft_log_info(0, "warning: %s: %s", path, t->warning);
    return t;
}

void ft_tokenizer_free(ft_tokenizer *t) {
    if (!t) return;
    for (uint32_t i = 0; i < t->n_vocab; i++) { free(t->piece[i]); free(t->raw[i]); free(t->dec[i]); }
    free(t->piece); free(t->piece_len); free(t->raw); free(t->raw_len); free(t->dec); free(t->dec_len);
    free(t->is_special); free(t->is_added); free(t->is_model);
    tok_strmap_free(&t->vocab);
    tok_pairmap_free(&t->merges);
    for (int i = 0; i < t->n_norm; i++) tok_norm_free(&t->norm[i]);
    for (int i = 0; i < t->n_pre; i++) tok_pre_free(&t->pre[i]);
    free(t->norm); free(t->pre); free(t->added); free(t->stop); free(t->path); free(t->warning);
    free(t);
}

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
const char *ft_tokenizer_kind(const ft_tokenizer *t) { return t->kind == TOK_BYTELEVEL ? "bpe-bytelevel" : "bpe-spm"; }
int ft_tokenizer_is_special(const ft_tokenizer *t, uint32_t id) { return id < t->n_vocab && t->is_special[id]; }

const char *ft_tokenizer_piece(const ft_tokenizer *t, uint32_t id, size_t *len) {
    if (id >= t->n_vocab || !t->piece[id]) return NULL;
    if (len) *len = t->piece_len[id];
    return t->piece[id];
}

int32_t ft_tokenizer_lookup(const ft_tokenizer *t, const char *piece, size_t len) {
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].len == len && memcmp(t->added[i].content, piece, len) == 0) return (int32_t)t->added[i].id;
    for (uint32_t id = 0; id < t->n_vocab; id++)   // stored form; rare calls (special names)
        if (t->piece[id] && t->piece_len[id] == len && memcmp(t->piece[id], piece, len) == 0) return (int32_t)id;
    return -1;
}
