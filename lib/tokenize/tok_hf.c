// tok_hf.c — HF tokenizer.json loading: BPE model (vocab, merges as "a b" strings or pairs,
// unk/byte_fallback/fuse_unk/ignore_merges), normalizers, pre-tokenizers, decoders, added
// tokens and the TemplateProcessing post-processor; tokenizer_config.json for the BOS/EOS names
// and add_bos_token/add_eos_token. Every type error names the JSON path that is wrong.
#include "tokenize/tok_internal.h"
#include "core/err.h"
#include "core/io.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(json_t *o, const char *k) { json_t *v = json_object_get(o, k); return json_is_string(v) ? json_string_value(v) : NULL; }
static int jbool(json_t *o, const char *k, int dflt) { json_t *v = json_object_get(o, k); return json_is_boolean(v) ? json_is_true(v) : dflt; }

// {"String": "x"} or {"Regex": "x"}: returns the text, *is_regex set.
static const char *pattern_of(json_t *p, int *is_regex, size_t *len) {
    json_t *v;
    if ((v = json_object_get(p, "String")) && json_is_string(v)) { *is_regex = 0; *len = json_string_length(v); return json_string_value(v); }
    if ((v = json_object_get(p, "Regex")) && json_is_string(v)) { *is_regex = 1; *len = json_string_length(v); return json_string_value(v); }
    return NULL;
}

static int add_norm(ft_tokenizer *t, json_t *n, const char *where) {
    if (!n || json_is_null(n)) return 0;
    const char *ty = jstr(n, "type");
    if (!json_is_object(n) || !ty) return ft_err("%s: expected an object with a \"type\"", where);
    if (strcmp(ty, "Sequence") == 0) {
        json_t *a = json_object_get(n, "normalizers");
        if (!json_is_array(a)) return ft_err("%s: Sequence without a \"normalizers\" array", where);
        size_t i; json_t *v;
        json_array_foreach(a, i, v) if (add_norm(t, v, where)) return -1;
        return 0;
    }
    tok_norm nm = {0};
    if (!strcmp(ty, "NFC")) nm.type = NORM_NFC;
    else if (!strcmp(ty, "NFD")) nm.type = NORM_NFD;
    else if (!strcmp(ty, "NFKC")) nm.type = NORM_NFKC;
    else if (!strcmp(ty, "NFKD")) nm.type = NORM_NFKD;
    else if (!strcmp(ty, "Lowercase")) nm.type = NORM_LOWER;
    else if (!strcmp(ty, "Strip")) { nm.type = NORM_STRIP; nm.left = jbool(n, "strip_left", 1); nm.right = jbool(n, "strip_right", 1); }
    else if (!strcmp(ty, "Prepend")) {
        const char *p = jstr(n, "prepend");
        if (!p) return ft_err("%s: Prepend without a \"prepend\" string", where);
        nm.type = NORM_PREPEND; nm.a = ft_strdup(p); nm.alen = strlen(p);
    } else if (!strcmp(ty, "Replace")) {
        int isre; size_t pl;
        const char *p = pattern_of(json_object_get(n, "pattern"), &isre, &pl);
        const char *c = jstr(n, "content");
        if (!p || !c) return ft_err("%s: Replace needs \"pattern\" {String|Regex} and \"content\"", where);
        nm.type = NORM_REPLACE;
        nm.b = ft_strdup(c); nm.blen = strlen(c);
        if (isre) { if (!(nm.re = tok_regex_compile(p, pl, NULL))) { free(nm.b); return ft_err_ctx("%s: Replace", where); } }
        else { nm.a = ft_malloc(pl + 1); if (nm.a) memcpy(nm.a, p, pl + 1); nm.alen = pl; }
    } else if (!strcmp(ty, "Precompiled") || !strcmp(ty, "BertNormalizer") || !strcmp(ty, "NmtNormalizer")) {
        return ft_err("%s: normalizer \"%s\" is not supported", where, ty);
    } else return ft_err("%s: unknown normalizer type \"%s\"", where, ty);
    tok_norm *a = ft_realloc(t->norm, (size_t)(t->n_norm + 1) * sizeof *a);
    if (!a) { tok_norm_free(&nm); return -1; }
    t->norm = a; a[t->n_norm++] = nm;
    return 0;
}

static int push_pre(ft_tokenizer *t, tok_pre *p) {
    tok_pre *a = ft_realloc(t->pre, (size_t)(t->n_pre + 1) * sizeof *a);
    if (!a) { tok_pre_free(p); return -1; }
    t->pre = a; a[t->n_pre++] = *p;
    return 0;
}

static int behavior_of(const char *b) {
    if (!b) return 0;
    if (!strcmp(b, "Isolated")) return SPLIT_ISOLATED;
    if (!strcmp(b, "Removed")) return SPLIT_REMOVED;
    if (!strcmp(b, "MergedWithPrevious")) return SPLIT_MERGED_PREV;
    if (!strcmp(b, "MergedWithNext")) return SPLIT_MERGED_NEXT;
    if (!strcmp(b, "Contiguous")) return SPLIT_CONTIGUOUS;
    return 0;
}

static int regex_pre(ft_tokenizer *t, const char *re, int behavior, int invert, int literal, const char *where) {
    tok_pre p = {.type = PRE_SPLIT, .behavior = behavior, .invert = invert};
    if (!(p.re = tok_regex_compile(re, strlen(re), literal ? "literal" : NULL))) return ft_err_ctx("%s", where);
    return push_pre(t, &p);
}

static int metaspace_opts(json_t *n, char *repl, size_t *rl, int *prepend, const char *where) {
    const char *r = jstr(n, "replacement");
    if (!r) r = "\xE2\x96\x81";
    if (strlen(r) == 0 || strlen(r) > 4) return ft_err("%s: Metaspace replacement must be one character", where);
    strcpy(repl, r); *rl = strlen(r);
    const char *ps = jstr(n, "prepend_scheme");
    if (ps) *prepend = !strcmp(ps, "always") ? PREPEND_ALWAYS : !strcmp(ps, "never") ? PREPEND_NEVER : PREPEND_FIRST;
    else *prepend = jbool(n, "add_prefix_space", 1) ? PREPEND_ALWAYS : PREPEND_NEVER;
    return 0;
}

static int add_pre(ft_tokenizer *t, json_t *n, const char *where, int *bytelevel) {
    if (!n || json_is_null(n)) return 0;
    const char *ty = jstr(n, "type");
    if (!json_is_object(n) || !ty) return ft_err("%s: expected an object with a \"type\"", where);
    if (!strcmp(ty, "Sequence")) {
        json_t *a = json_object_get(n, "pretokenizers");
        if (!json_is_array(a)) return ft_err("%s: Sequence without a \"pretokenizers\" array", where);
        size_t i; json_t *v;
        json_array_foreach(a, i, v) if (add_pre(t, v, where, bytelevel)) return -1;
        return 0;
    }
    if (!strcmp(ty, "ByteLevel")) {
        *bytelevel = 1;
        tok_pre p = {.type = PRE_BYTELEVEL, .prefix_space = jbool(n, "add_prefix_space", 0)};
        if (jbool(n, "use_regex", 1) && !(p.re = tok_regex_compile(TOK_GPT2_REGEX, strlen(TOK_GPT2_REGEX), NULL))) return -1;
        return push_pre(t, &p);
    }
    if (!strcmp(ty, "Split")) {
        int isre; size_t pl;
        const char *p = pattern_of(json_object_get(n, "pattern"), &isre, &pl);
        int b = behavior_of(jstr(n, "behavior"));
        if (!p || !b) return ft_err("%s: Split needs \"pattern\" {String|Regex} and a known \"behavior\"", where);
        tok_pre q = {.type = PRE_SPLIT, .behavior = b, .invert = jbool(n, "invert", 0)};
        if (!(q.re = tok_regex_compile(p, pl, isre ? NULL : "literal"))) return ft_err_ctx("%s: Split", where);
        return push_pre(t, &q);
    }
    if (!strcmp(ty, "Digits"))
        return regex_pre(t, jbool(n, "individual_digits", 0) ? "\\p{N}" : "\\p{N}+", SPLIT_ISOLATED, 0, 0, where);
    // HF runs these with Rust's regex crate: \w is Alphabetic + marks + Nd + Pc + joiners,
    // \s is White_Space; spelled out so PCRE2 matches the same characters.
#define RW "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}"
    if (!strcmp(ty, "Whitespace")) return regex_pre(t, "[" RW "]+|[^" RW "\\p{White_Space}]+", SPLIT_REMOVED, 1, 0, where);
    if (!strcmp(ty, "WhitespaceSplit")) return regex_pre(t, "\\p{White_Space}+", SPLIT_REMOVED, 0, 0, where);
#undef RW
    if (!strcmp(ty, "Punctuation")) {
        int b = behavior_of(jstr(n, "behavior"));
        return regex_pre(t, "[\\p{P}!-/:-@\\[-`{-~]", b ? b : SPLIT_ISOLATED, 0, 0, where);
    }
    if (!strcmp(ty, "Metaspace")) {
        tok_pre p = {.type = PRE_METASPACE, .split = jbool(n, "split", 1)};
        if (metaspace_opts(n, p.repl, &p.repl_len, &p.prepend, where)) return -1;
        return push_pre(t, &p);
    }
    return ft_err("%s: unsupported pre-tokenizer type \"%s\"", where, ty);
}

// Decoder: only what changes the bytes matters (strip of one leading space).
static int scan_decoder(ft_tokenizer *t, json_t *n, const char *where) {
    if (json_is_null(n) || !n) return 0;
    const char *ty = jstr(n, "type");
    if (!json_is_object(n) || !ty) return ft_err("%s: expected an object with a \"type\"", where);
    if (!strcmp(ty, "Sequence")) {
        json_t *a = json_object_get(n, "decoders");
        if (!json_is_array(a)) return ft_err("%s: Sequence without a \"decoders\" array", where);
        size_t i; json_t *v;
        json_array_foreach(a, i, v) if (scan_decoder(t, v, where)) return -1;
        return 0;
    }
    if (!strcmp(ty, "Strip")) {
        json_t *st = json_object_get(n, "start");
        if (json_is_integer(st) && json_integer_value(st) > 0) t->dec_strip_space = 1;
    } else if (!strcmp(ty, "Metaspace")) {
        char r[8]; size_t rl; int pp;
        if (metaspace_opts(n, r, &rl, &pp, where)) return -1;
        if (pp != PREPEND_NEVER) t->dec_strip_space = 1;
    } else if (strcmp(ty, "ByteLevel") && strcmp(ty, "Replace") && strcmp(ty, "ByteFallback") && strcmp(ty, "Fuse")) {
        return ft_err("%s: unsupported decoder type \"%s\"", where, ty);
    }
    return 0;
}

static int32_t find_piece(ft_tokenizer *t, tok_strmap *m, const char *s) {
    int32_t v = tok_strmap_get(m, s, strlen(s));
    if (v >= 0) return v;
    for (size_t i = 0; i < t->n_added; i++) if (!strcmp(t->added[i].content, s)) return (int32_t)t->added[i].id;
    return -1;
}

static int post_processor(ft_tokenizer *t, json_t *n, tok_strmap *m, const char *where) {
    if (!n || json_is_null(n)) return 0;
    const char *ty = jstr(n, "type");
    if (!json_is_object(n) || !ty) return ft_err("%s: expected an object with a \"type\"", where);
    if (!strcmp(ty, "Sequence")) {
        json_t *a = json_object_get(n, "processors");
        size_t i; json_t *v;
        json_array_foreach(a, i, v) if (post_processor(t, v, m, where)) return -1;
        return 0;
    }
    if (!strcmp(ty, "TemplateProcessing")) {
        json_t *single = json_object_get(n, "single"), *sp = json_object_get(n, "special_tokens");
        if (!json_is_array(single)) return ft_err("%s: TemplateProcessing without a \"single\" array", where);
        int seen_a = 0;
        size_t i; json_t *v;
        json_array_foreach(single, i, v) {
            if (json_object_get(v, "Sequence")) { seen_a = 1; continue; }
            json_t *st = json_object_get(v, "SpecialToken");
            const char *name = jstr(st, "id");
            if (!name) return ft_err("%s: template item %zu is neither Sequence nor SpecialToken", where, i);
            json_t *ids = json_object_get(json_object_get(sp, name), "ids");
            int32_t id = -1;
            if (json_is_array(ids) && json_array_size(ids) == 1 && json_is_integer(json_array_get(ids, 0)))
                id = (int32_t)json_integer_value(json_array_get(ids, 0));
            else id = find_piece(t, m, name);
            if (id < 0 || (uint32_t)id >= TOK_MAX_VOCAB) return ft_err("%s: template token \"%s\" is not in the vocabulary", where, name);
            if (seen_a) { if (t->n_post_ids < 4) t->post_ids[t->n_post_ids++] = (uint32_t)id; }
            else if (t->n_pre_ids < 4) t->pre_ids[t->n_pre_ids++] = (uint32_t)id;
        }
        return 0;
    }
    if (!strcmp(ty, "RobertaProcessing") || !strcmp(ty, "BertProcessing")) {
        json_t *cls = json_object_get(n, "cls"), *sep = json_object_get(n, "sep");
        if (!json_is_integer(json_array_get(cls, 1)) || !json_is_integer(json_array_get(sep, 1)))
            return ft_err("%s: %s needs \"cls\" and \"sep\" [token, id] pairs", where, ty);
        t->pre_ids[t->n_pre_ids++] = (uint32_t)json_integer_value(json_array_get(cls, 1));
        t->post_ids[t->n_post_ids++] = (uint32_t)json_integer_value(json_array_get(sep, 1));
        return 0;
    }
    if (!strcmp(ty, "ByteLevel")) return 0;
    return ft_err("%s: unsupported post-processor type \"%s\"", where, ty);
}

static const char *token_name(json_t *v) {
    if (json_is_string(v)) return json_string_value(v);
    return jstr(v, "content");
}

static int load_model(ft_tokenizer *t, json_t *model, tok_strmap *m) {
    const char *ty = jstr(model, "type");
    if (!json_is_object(model)) return ft_err("model: expected an object");
    if (ty && strcmp(ty, "BPE")) return ft_err("model: type \"%s\" is not supported (only BPE)", ty);
    json_t *vocab = json_object_get(model, "vocab"), *merges = json_object_get(model, "merges");
    if (!json_is_object(vocab)) return ft_err("model.vocab: expected an object of token -> id");
    if (merges && !json_is_array(merges)) return ft_err("model.merges: expected an array");
    const char *k; json_t *v;
    json_int_t maxid = -1;
    json_object_foreach(vocab, k, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= TOK_MAX_VOCAB)
            return ft_err("model.vocab[\"%.60s\"]: id must be an integer in [0, %u)", k, TOK_MAX_VOCAB);
        if (json_integer_value(v) > maxid) maxid = json_integer_value(v);
    }
    if ((size_t)(maxid + 1) > json_object_size(vocab) * 4 + 1024)
        return ft_err("model.vocab: ids up to %lld for %zu tokens (too sparse)", (long long)maxid, json_object_size(vocab));
    if (tok_set_vocab_size(t, (uint32_t)(maxid + 1))) return -1;
    json_object_foreach(vocab, k, v) {
        uint32_t id = (uint32_t)json_integer_value(v);
        if (t->piece[id]) return ft_err("model.vocab: id %u is used by two tokens", id);
        if (tok_set_piece(t, id, k, strlen(k))) return -1;
        t->is_model[id] = 1;
    }
    if (tok_strmap_build(m, (const char **)t->piece, t->piece_len, t->n_vocab, NULL)) return -1;
    t->byte_fallback = jbool(model, "byte_fallback", 0);
    t->fuse_unk = jbool(model, "fuse_unk", 0);
    t->ignore_merges = jbool(model, "ignore_merges", 0);
    const char *unk = jstr(model, "unk_token");
    if (unk) {
        t->unk = tok_strmap_get(m, unk, strlen(unk));
        if (t->unk < 0) return ft_err("model.unk_token \"%.60s\" is not in the vocabulary", unk);
    }
    const char *csp = jstr(model, "continuing_subword_prefix"), *eow = jstr(model, "end_of_word_suffix");
    if ((csp && *csp) || (eow && *eow)) return ft_err("model: continuing_subword_prefix/end_of_word_suffix are not supported");
    size_t nm = merges ? json_array_size(merges) : 0;
    if (tok_pairmap_init(&t->merges, nm)) return -1;
    for (size_t i = 0; i < nm; i++) {
        json_t *e = json_array_get(merges, i);
        char buf[1024];
        const char *a, *b;
        size_t al, bl;
        if (json_is_string(e)) {
            const char *s = json_string_value(e), *sp = strchr(s, ' ');
            if (!sp || strchr(sp + 1, ' ')) return ft_err("model.merges[%zu]: expected \"A B\" (two tokens separated by one space)", i);
            a = s; al = (size_t)(sp - s); b = sp + 1; bl = strlen(b);
        } else if (json_is_array(e) && json_array_size(e) == 2 && json_is_string(json_array_get(e, 0)) && json_is_string(json_array_get(e, 1))) {
            a = json_string_value(json_array_get(e, 0)); al = json_string_length(json_array_get(e, 0));
            b = json_string_value(json_array_get(e, 1)); bl = json_string_length(json_array_get(e, 1));
        } else return ft_err("model.merges[%zu]: expected a string \"A B\" or a pair [\"A\", \"B\"]", i);
        if (al + bl >= sizeof buf) return ft_err("model.merges[%zu]: token too long", i);
        int32_t ia = tok_strmap_get(m, a, al), ib = tok_strmap_get(m, b, bl);
        memcpy(buf, a, al); memcpy(buf + al, b, bl);
        int32_t ir = tok_strmap_get(m, buf, al + bl);
        if (ia < 0 || ib < 0) return ft_err("model.merges[%zu]: token \"%.*s\" is not in the vocabulary", i, (int)(ia < 0 ? al : bl), ia < 0 ? a : b);
        if (ir < 0) return ft_err("model.merges[%zu]: merged token \"%.*s\" is not in the vocabulary", i, (int)(al + bl), buf);
        if (tok_pairmap_put(&t->merges, (uint32_t)ia, (uint32_t)ib, (uint32_t)i, (uint32_t)ir)) return -1;
    }
    return 0;
}

static int load_added(ft_tokenizer *t, json_t *arr) {
    if (!arr || json_is_null(arr)) return 0;
    if (!json_is_array(arr)) return ft_err("added_tokens: expected an array");
    size_t i; json_t *v;
    json_array_foreach(arr, i, v) {
        json_t *id = json_object_get(v, "id");
        const char *c = jstr(v, "content");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= TOK_MAX_VOCAB || !c)
            return ft_err("added_tokens[%zu]: needs an integer \"id\" in [0, %u) and a string \"content\"", i, TOK_MAX_VOCAB);
        tok_added a = {.content = (char *)c, .len = strlen(c), .id = (uint32_t)json_integer_value(id),
                       .special = jbool(v, "special", 0), .lstrip = jbool(v, "lstrip", 0), .rstrip = jbool(v, "rstrip", 0),
                       .single_word = jbool(v, "single_word", 0), .normalized = jbool(v, "normalized", 0)};
        if (a.id >= t->n_vocab && a.id > t->n_vocab + 1000000u) return ft_err("added_tokens[%zu]: id %u far past the vocabulary", i, a.id);
        if (tok_add_added(t, &a)) return ft_err_ctx("added_tokens[%zu]", i);
    }
    return 0;
}

int tok_load_hf(ft_tokenizer *t, const char *json_path, const char *config_path) {
    char *data;
    size_t len;
    if (ft_read_all(json_path, &data, &len)) return -1;
    json_error_t e;
    json_t *root = json_loadb(data, len, 0, &e);
    free(data);
    if (!root) return ft_err("%s:%d: invalid JSON: %s", json_path, e.line, e.text);
    json_t *cfg = NULL;
    if (config_path) {
        cfg = json_load_file(config_path, 0, &e);
        if (!cfg) { json_decref(root); return ft_err("%s:%d: invalid JSON: %s", config_path, e.line, e.text); }
    }
    tok_strmap m = {0};
    int rc = -1, bytelevel = 0;
    if (!json_is_object(root)) { ft_err("expected a JSON object at the top"); goto out; }
    if (load_model(t, json_object_get(root, "model"), &m)) goto out;
    if (load_added(t, json_object_get(root, "added_tokens"))) goto out;
    tok_strmap_free(&m);   // added tokens may have grown the arrays the map points into
    if (tok_strmap_build(&m, (const char **)t->piece, t->piece_len, t->n_vocab, NULL)) goto out;
    if (add_norm(t, json_object_get(root, "normalizer"), "normalizer")) goto out;
    if (add_pre(t, json_object_get(root, "pre_tokenizer"), "pre_tokenizer", &bytelevel)) goto out;
    t->kind = bytelevel ? TOK_BYTELEVEL : TOK_SPM;
    if (scan_decoder(t, json_object_get(root, "decoder"), "decoder")) goto out;
    if (post_processor(t, json_object_get(root, "post_processor"), &m, "post_processor")) goto out;
    for (int i = 0; i < t->n_pre_ids; i++) if (t->pre_ids[i] >= t->n_vocab || !t->piece[t->pre_ids[i]]) { ft_err("post_processor: id %u not in the vocabulary", t->pre_ids[i]); goto out; }
    for (int i = 0; i < t->n_post_ids; i++) if (t->post_ids[i] >= t->n_vocab || !t->piece[t->post_ids[i]]) { ft_err("post_processor: id %u not in the vocabulary", t->post_ids[i]); goto out; }
    if (t->n_pre_ids) t->bos = (int32_t)t->pre_ids[0];
    if (t->n_post_ids) t->eos = (int32_t)t->post_ids[t->n_post_ids - 1];
    t->add_bos = t->n_pre_ids > 0;
    t->add_eos = t->n_post_ids > 0;
    if (cfg) {
        const char *b = token_name(json_object_get(cfg, "bos_token")), *eo = token_name(json_object_get(cfg, "eos_token"));
        const char *pd = token_name(json_object_get(cfg, "pad_token"));
        if (b && find_piece(t, &m, b) >= 0) t->bos = find_piece(t, &m, b);
        if (eo && find_piece(t, &m, eo) >= 0) t->eos = find_piece(t, &m, eo);
        if (pd && find_piece(t, &m, pd) >= 0) t->pad = find_piece(t, &m, pd);
    }
    if (t->eos < 0) {
        static const char *const names[] = {"</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>"};
        for (size_t i = 0; i < 4 && t->eos < 0; i++) t->eos = find_piece(t, &m, names[i]);
    }
    if (t->bos < 0) {
        static const char *const names[] = {"<s>", "<|begin_of_text|>", "<bos>"};
        for (size_t i = 0; i < 3 && t->bos < 0; i++) t->bos = find_piece(t, &m, names[i]);
    }
    rc = 0;
out:
    tok_strmap_free(&m);
    json_decref(root);
    json_decref(cfg);
    if (rc) ft_err_ctx("%s", json_path);
    return rc;
}
