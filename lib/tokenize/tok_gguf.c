// tok_gguf.c — tokenizers from GGUF metadata (tokenizer.ggml.*): "gpt2" (byte-level BPE with
// merges split as llama.cpp splits them; pre-tokenizer from tokenizer.ggml.pre, tok_gguf_pre.c) and
// "llama" (SentencePiece BPE: tokens + scores, byte fallback; merges derived from the scores
// the way HF's converter does: a pair merges into a token, ranked by the token's score).
#include "tokenize/tok_internal.h"
#include "core/err.h"
#include "format/gguf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int32_t opt_id(const gguf_file *g, const char *key, uint32_t n) {
    if (!gguf_find(g, key)) return -1;
    uint64_t v;
    if (gguf_get_u64(g, key, &v)) { ft_err_clear(); return -1; }
    return v < n ? (int32_t)v : -1;
}

static int opt_bool(const gguf_file *g, const char *key, int dflt) {
    if (!gguf_find(g, key)) return dflt;
    bool b;
    if (gguf_get_bool(g, key, &b)) { ft_err_clear(); return dflt; }
    return b;
}

typedef struct { float score; uint32_t id; } scored;
static int scored_cmp(const void *x, const void *y) {
    const scored *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

// SentencePiece BPE: every split of a normal token into two vocabulary tokens is a merge,
// ranked by the merged token's score (higher first, then lower id).
static int spm_merges(ft_tokenizer *t, const gguf_value *scores, const int32_t *types) {
    uint32_t n = t->n_vocab;
    scored *order = ft_malloc((size_t)n * sizeof *order);
    if (!order) return -1;
    for (uint32_t i = 0; i < n; i++) order[i] = (scored){(float)gguf_arr_f64(scores, i), i};
    qsort(order, n, sizeof *order, scored_cmp);
    tok_strmap m;
    if (tok_strmap_build(&m, (const char **)t->piece, t->piece_len, n, NULL)) { free(order); return -1; }
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += t->piece_len[i];
    int rc = tok_pairmap_init(&t->merges, total + 16);
    for (uint32_t r = 0; r < n && rc == 0; r++) {
        uint32_t id = order[r].id;
        if (types && types[id] != 1) continue;
        const char *p = t->piece[id];
        uint32_t len = t->piece_len[id];
        for (uint32_t k = 1; k < len && rc == 0; k++) {
            if (((uint8_t)p[k] & 0xC0) == 0x80) continue;   // split on character boundaries only
            int32_t a = tok_strmap_get(&m, p, k), b = tok_strmap_get(&m, p + k, len - k);
            if (a >= 0 && b >= 0) rc = tok_pairmap_put(&t->merges, (uint32_t)a, (uint32_t)b, r, id);
        }
    }
    tok_strmap_free(&m);
    free(order);
    return rc;
}

// Merges as llama.cpp reads them: "A B" split at the first space after the first byte (so a
// piece may itself hold spaces, and have any length). An entry without such a space, or whose
// parts or concatenation are not tokens, can never merge anything and is skipped (llama.cpp
// keeps it in its string map where nothing finds it); a repeated pair keeps its first rank.
static int gpt2_merges(ft_tokenizer *t, const gguf_value *merges, uint64_t nm) {
    tok_strmap m;
    if (tok_strmap_build(&m, (const char **)t->piece, t->piece_len, t->n_vocab, NULL)) return -1;
    int rc = tok_pairmap_init(&t->merges, nm);
    char *buf = NULL;
    size_t cap = 0;
    for (uint64_t i = 0; i < nm && rc == 0; i++) {
        uint64_t len;
        const char *s = gguf_arr_str(merges, i, &len);
        const char *sp = s && len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
        if (!s) { rc = ft_err("tokenizer.ggml.merges[%llu]: unreadable", (unsigned long long)i); break; }
        if (!sp) continue;
        size_t al = (size_t)(sp - s), bl = len - al - 1;
        int32_t a = tok_strmap_get(&m, s, al), b = tok_strmap_get(&m, sp + 1, bl);
        if (a < 0 || b < 0) continue;
        if (al + bl > cap) {
            char *nb = ft_realloc(buf, al + bl);
            if (!nb) { rc = -1; break; }
            buf = nb; cap = al + bl;
        }
        memcpy(buf, s, al); memcpy(buf + al, sp + 1, bl);
        int32_t r = tok_strmap_get(&m, buf, al + bl);
        if (r < 0) continue;
        rc = tok_pairmap_put(&t->merges, (uint32_t)a, (uint32_t)b, (uint32_t)i, (uint32_t)r);
    }
    free(buf);
    tok_strmap_free(&m);
    return rc;
}

static int add_regex(ft_tokenizer *t, const char *re, int type) {
    tok_pre p = {.type = type, .behavior = SPLIT_ISOLATED};
    if (re && !(p.re = tok_regex_compile(re, strlen(re), NULL))) return -1;
    tok_pre *a = ft_realloc(t->pre, (size_t)(t->n_pre + 1) * sizeof *a);
    if (!a) { tok_pre_free(&p); return -1; }
    t->pre = a; a[t->n_pre++] = p;
    return 0;
}

static int add_normz(ft_tokenizer *t, int type, const char *a, const char *b) {
    tok_norm nm = {.type = type};
    nm.a = ft_strdup(a); nm.alen = strlen(a);
    if (b) { nm.b = ft_strdup(b); nm.blen = strlen(b); }
    tok_norm *v = ft_realloc(t->norm, (size_t)(t->n_norm + 1) * sizeof *v);
    if (!v || !nm.a) { tok_norm_free(&nm); return -1; }
    t->norm = v; v[t->n_norm++] = nm;
    return 0;
}

int tok_load_gguf(ft_tokenizer *t, const char *path) {
    gguf_file *g = gguf_open(path);
    if (!g) return -1;
    char *model = NULL, *pre = NULL;
    int32_t *types = NULL;
    int rc = -1;
    uint64_t n, nm, ns, nt;
    const gguf_value *tokens, *merges = NULL, *scores = NULL, *ttype = NULL;
    if (gguf_get_str(g, "tokenizer.ggml.model", &model)) goto out;
    if (gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &n, &tokens)) goto out;
    if (n == 0 || n > TOK_MAX_VOCAB) { ft_err("tokenizer.ggml.tokens: %llu tokens (expected 1..%u)", (unsigned long long)n, TOK_MAX_VOCAB); goto out; }
    if (tok_set_vocab_size(t, (uint32_t)n)) goto out;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        const char *s = gguf_arr_str(tokens, i, &len);
        if (!s) { ft_err("tokenizer.ggml.tokens[%llu]: unreadable", (unsigned long long)i); goto out; }
        if (tok_set_piece(t, (uint32_t)i, s, len)) goto out;
        t->is_model[i] = 1;
    }
    if (gguf_find(g, "tokenizer.ggml.token_type")) {
        if (gguf_get_arr(g, "tokenizer.ggml.token_type", GGUF_T_INT32, &nt, &ttype)) goto out;
        if (nt != n) { ft_err("tokenizer.ggml.token_type has %llu entries for %llu tokens", (unsigned long long)nt, (unsigned long long)n); goto out; }
        if (!(types = ft_malloc(n * sizeof *types))) goto out;
        for (uint64_t i = 0; i < n; i++) {
            types[i] = (int32_t)gguf_arr_i64(ttype, i);
            if (types[i] == 6) {   // byte token: must be "<0xHH>"
                const char *p = t->piece[i];
                if (t->piece_len[i] != 6 || memcmp(p, "<0x", 3) || p[5] != '>' || !isxdigit((unsigned char)p[3]) ||
                    !isxdigit((unsigned char)p[4])) {
                    ft_err("tokenizer.ggml.tokens[%llu] \"%.20s\" is marked as a byte token but is not <0xHH>",
                           (unsigned long long)i, p);
                    goto out;
                }
            }
        }
    }
    t->unk = opt_id(g, "tokenizer.ggml.unknown_token_id", (uint32_t)n);
    t->bos = opt_id(g, "tokenizer.ggml.bos_token_id", (uint32_t)n);
    t->eos = opt_id(g, "tokenizer.ggml.eos_token_id", (uint32_t)n);
    t->pad = opt_id(g, "tokenizer.ggml.padding_token_id", (uint32_t)n);
    t->eot = opt_id(g, "tokenizer.ggml.eot_token_id", (uint32_t)n);
    t->eom = opt_id(g, "tokenizer.ggml.eom_token_id", (uint32_t)n);
    if (!strcmp(model, "gpt2")) {
        t->kind = TOK_BYTELEVEL;
        if (gguf_get_arr(g, "tokenizer.ggml.merges", GGUF_T_STRING, &nm, &merges)) goto out;
        if (gpt2_merges(t, merges, nm)) goto out;
        if (gguf_find(g, "tokenizer.ggml.pre") && gguf_get_str(g, "tokenizer.ggml.pre", &pre)) goto out;
        tok_gguf_pre pt;
        if (tok_gguf_pre_find(pre, &pt)) {   // llama.cpp: missing -> "default" with a warning
            char w[320];
            if (pre) snprintf(w, sizeof w, "tokenizer.ggml.pre \"%.100s\" is not a pre-tokenizer llama.cpp knows; "
                              "using its \"default\" regexes (ids may differ from the model's own tokenizer)", pre);
            else snprintf(w, sizeof w, "no tokenizer.ggml.pre; using llama.cpp's \"default\" pre-tokenizer regexes "
                          "(ids may differ from the model's own tokenizer)");
            if (!(t->warning = ft_strdup(w))) goto out;
        }
        if (pt.unsupported) {
            ft_err("tokenizer.ggml.pre \"%s\" (llama.cpp type %s) is not supported: %s", pre, pt.type, pt.unsupported);
            goto out;
        }
        t->ignore_merges = pt.ignore_merges;
        if (pt.nfc && add_normz(t, NORM_NFC, "", NULL)) goto out;
        for (int i = 0; i < pt.n; i++) if (add_regex(t, pt.re[i], PRE_SPLIT)) goto out;
        if (add_regex(t, NULL, PRE_BYTELEVEL)) goto out;
        t->add_bos = opt_bool(g, "tokenizer.ggml.add_bos_token", pt.add_bos);
        t->add_eos = opt_bool(g, "tokenizer.ggml.add_eos_token", 0);
    } else if (!strcmp(model, "llama")) {
        t->kind = TOK_SPM;
        if (gguf_get_arr(g, "tokenizer.ggml.scores", GGUF_T_FLOAT32, &ns, &scores)) goto out;
        if (ns != n) { ft_err("tokenizer.ggml.scores has %llu entries for %llu tokens", (unsigned long long)ns, (unsigned long long)n); goto out; }
        if (spm_merges(t, scores, types)) goto out;
        t->byte_fallback = 1;
        t->fuse_unk = 1;
        int space = opt_bool(g, "tokenizer.ggml.add_space_prefix", 1);
        if (space && add_normz(t, NORM_PREPEND, "\xE2\x96\x81", NULL)) goto out;
        if (add_normz(t, NORM_REPLACE, " ", "\xE2\x96\x81")) goto out;
        t->dec_strip_space = space;
        t->add_bos = opt_bool(g, "tokenizer.ggml.add_bos_token", 1);
        t->add_eos = opt_bool(g, "tokenizer.ggml.add_eos_token", 0);
    } else {
        ft_err("tokenizer.ggml.model \"%s\" is not supported (gpt2 and llama are)", model);
        goto out;
    }
    // control / user-defined / unknown tokens are recognised in text, as HF's added tokens
    if (types) for (uint64_t i = 0; i < n; i++) {
        int ty = types[i];
        if (ty != 2 && ty != 3 && ty != 4) continue;
        if (t->piece_len[i] == 0) continue;
        tok_added a = {.content = t->piece[i], .len = t->piece_len[i], .id = (uint32_t)i, .special = ty != 4};
        if (tok_add_added(t, &a)) goto out;
    }
    if (t->add_bos && t->bos >= 0) t->pre_ids[t->n_pre_ids++] = (uint32_t)t->bos;
    if (t->add_eos && t->eos >= 0) t->post_ids[t->n_post_ids++] = (uint32_t)t->eos;
    rc = 0;
out:   // (ft_tokenizer_load prefixes the path when the message lacks it)
    free(model); free(pre); free(types);
    gguf_close(g);
    return rc;
}
