// tok_gguf_hf.c — a GGUF's tokenizer metadata written as Hugging Face files (see tokenizer.h
// ft_tokenizer_gguf_write_hf), so an HF dir made from a GGUF base loads on its own:
//   tokenizer.json         "gpt2" vocabularies: BPE with the GGUF's tokens as the vocabulary
//                          (id = GGUF index), its merges (those that can merge, as llama.cpp
//                          reads them), the llama.cpp pre-tokenizer's regexes as isolated Splits
//                          before a ByteLevel step (as ft's own GGUF tokenizer runs them), control
//                          and user-defined tokens as added tokens, BOS/EOS templates
//   tokenizer_config.json  special tokens, add_bos/add_eos, chat template, added_tokens_decoder
//   special_tokens_map.json
// A "llama" (SentencePiece) vocabulary gets the two config files only.
#include "tokenize/tokenizer.h"
#include "tokenize/tok_internal.h"
#include "core/err.h"
#include "core/io.h"
#include "format/gguf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int32_t opt_id(const gguf_file *g, const char *key, uint64_t n) {
    uint64_t v;
    if (!gguf_find(g, key) || gguf_get_u64(g, key, &v) || v >= n) return -1;
    return (int32_t)v;
}

static int opt_bool(const gguf_file *g, const char *key, int dflt) {
    bool b;
    if (!gguf_find(g, key) || gguf_get_bool(g, key, &b)) return dflt;
    return b;
}

static json_t *jstrn(const char *s, uint64_t len) { return json_stringn(s, (size_t)len); }

static int write_json(const char *dir, const char *name, json_t *j) {
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    json_decref(j);
    char *p = ft_path_join(dir, name);
    int rc = !text || !p ? ft_err("%s/%s: out of memory", dir, name) : ft_write_all(p, text, strlen(text));
    free(text);
    free(p);
    return rc;
}

// {"SpecialToken": {"id": piece, "type_id": 0}} and {"Sequence": {"id": "A"|"B", "type_id": 0}}
static json_t *tp_special(const char *piece) {
    return json_pack("{s:{s:s,s:i}}", "SpecialToken", "id", piece, "type_id", 0);
}
static json_t *tp_seq(const char *id) { return json_pack("{s:{s:s,s:i}}", "Sequence", "id", id, "type_id", 0); }

static json_t *post_processor(const char *bos, int32_t bos_id, const char *eos, int32_t eos_id) {
    json_t *single = json_array(), *pair = json_array(), *sp = json_object();
    if (bos) json_array_append_new(single, tp_special(bos));
    json_array_append_new(single, tp_seq("A"));
    if (eos) json_array_append_new(single, tp_special(eos));
    if (bos) json_array_append_new(pair, tp_special(bos));
    json_array_append_new(pair, tp_seq("A"));
    if (eos) json_array_append_new(pair, tp_special(eos));
    if (bos) json_array_append_new(pair, tp_special(bos));
    json_array_append_new(pair, tp_seq("B"));
    if (eos) json_array_append_new(pair, tp_special(eos));
    if (bos) json_object_set_new(sp, bos, json_pack("{s:s,s:[i],s:[s]}", "id", bos, "ids", bos_id, "tokens", bos));
    if (eos) json_object_set_new(sp, eos, json_pack("{s:s,s:[i],s:[s]}", "id", eos, "ids", eos_id, "tokens", eos));
    return json_pack("{s:s,s:o,s:o,s:o}", "type", "TemplateProcessing", "single", single, "pair", pair,
                     "special_tokens", sp);
}

static json_t *added_token(uint32_t id, json_t *content, int special) {
    return json_pack("{s:i,s:o,s:b,s:b,s:b,s:b,s:b}", "id", (json_int_t)id, "content", content, "single_word", 0,
                     "lstrip", 0, "rstrip", 0, "normalized", !special, "special", special);
}

int ft_tokenizer_gguf_write_hf(const char *gguf_path, const char *dir, int model_max_length) {
    gguf_file *g = gguf_open(gguf_path);
    if (!g) return -1;
    int rc = -1;
    char *model = NULL, *pre = NULL, *tmpl = NULL;
    json_t *tok = NULL, *cfg = NULL, *vocab = NULL, *added = NULL, *decoder = NULL;
    uint64_t n = 0, nt = 0, nm = 0;
    const gguf_value *tokens, *ttype = NULL, *merges = NULL;
    if (!gguf_find(g, "tokenizer.ggml.model")) { rc = 0; goto out; }   // no tokenizer: nothing to write
    if (gguf_get_str(g, "tokenizer.ggml.model", &model) ||
        gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &n, &tokens))
        goto out;
    if (gguf_find(g, "tokenizer.ggml.token_type") &&
        (gguf_get_arr(g, "tokenizer.ggml.token_type", GGUF_T_INT32, &nt, &ttype) || nt != n)) {
        ft_err("%s: tokenizer.ggml.token_type has %llu entries for %llu tokens", gguf_path, (unsigned long long)nt,
               (unsigned long long)n);
        goto out;
    }
    int32_t bos = opt_id(g, "tokenizer.ggml.bos_token_id", n), eos = opt_id(g, "tokenizer.ggml.eos_token_id", n);
    int32_t pad = opt_id(g, "tokenizer.ggml.padding_token_id", n), unk = opt_id(g, "tokenizer.ggml.unknown_token_id", n);
    int gpt2 = !strcmp(model, "gpt2");
    tok_gguf_pre pt = {0};
    if (gpt2) {
        if (gguf_find(g, "tokenizer.ggml.pre") && gguf_get_str(g, "tokenizer.ggml.pre", &pre)) goto out;
        tok_gguf_pre_find(pre, &pt);
        if (pt.unsupported) {
            ft_err("%s: tokenizer.ggml.pre \"%s\" is not supported (%s): no tokenizer.json can be written", gguf_path,
                   pre ? pre : "", pt.unsupported);
            goto out;
        }
    }
    int add_bos = opt_bool(g, "tokenizer.ggml.add_bos_token", gpt2 ? pt.add_bos : 1);
    int add_eos = opt_bool(g, "tokenizer.ggml.add_eos_token", 0);
    // added tokens: control (3), user-defined (4) and unknown (2) tokens, as ft's tokenizer reads them
    added = json_array();
    json_t *decoder_map = json_object();
    for (uint64_t i = 0; ttype && i < n; i++) {
        int ty = (int)gguf_arr_i64(ttype, i);
        uint64_t len;
        const char *s = gguf_arr_str(tokens, i, &len);
        if ((ty != 2 && ty != 3 && ty != 4) || !s || !len) continue;
        json_array_append_new(added, added_token((uint32_t)i, jstrn(s, len), ty != 4));
        char key[24];
        snprintf(key, sizeof key, "%llu", (unsigned long long)i);
        json_t *d = added_token((uint32_t)i, jstrn(s, len), ty != 4);
        json_object_del(d, "id");
        json_object_set_new(decoder_map, key, d);
    }
#define PIECE(id) ((id) >= 0 ? json_string_value(json_array_get(pieces, (size_t)(id))) : NULL)
    json_t *pieces = json_array();   // id -> piece (NUL-free pieces; others as JSON strings with \u0000)
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        const char *s = gguf_arr_str(tokens, i, &len);
        json_array_append_new(pieces, s ? jstrn(s, len) : json_string(""));
    }
    if (gpt2) {
        if (gguf_get_arr(g, "tokenizer.ggml.merges", GGUF_T_STRING, &nm, &merges)) { json_decref(pieces); goto out; }
        vocab = json_object();
        for (uint64_t i = 0; i < n; i++) json_object_set_new(vocab, json_string_value(json_array_get(pieces, i)), json_integer((json_int_t)i));
        json_t *mlist = json_array();
        char *buf = NULL;
        for (uint64_t i = 0; i < nm; i++) {
            uint64_t len;
            const char *s = gguf_arr_str(merges, i, &len);
            const char *sp = s && len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
            if (!sp) continue;
            size_t al = (size_t)(sp - s), bl = len - al - 1;
            char *b2 = realloc(buf, al + bl + 2);
            if (!b2) break;
            buf = b2;
            memcpy(buf, s, al);
            buf[al] = 0;
            int ok = json_object_get(vocab, buf) != NULL;
            memcpy(buf, sp + 1, bl);
            buf[bl] = 0;
            ok = ok && json_object_get(vocab, buf);
            memcpy(buf, s, al);
            memcpy(buf + al, sp + 1, bl);
            buf[al + bl] = 0;
            if (!ok || !json_object_get(vocab, buf)) continue;   // can merge nothing (as tok_gguf.c)
            json_array_append_new(mlist, json_pack("[s%,s%]", s, al, sp + 1, bl));
        }
        free(buf);
        json_t *pret = json_array();
        for (int i = 0; i < pt.n; i++)
            json_array_append_new(pret, json_pack("{s:s,s:{s:s},s:s,s:b}", "type", "Split", "pattern", "Regex", pt.re[i],
                                                  "behavior", "Isolated", "invert", 0));
        json_array_append_new(pret, json_pack("{s:s,s:b,s:b,s:b}", "type", "ByteLevel", "add_prefix_space", 0,
                                              "trim_offsets", 0, "use_regex", 0));
        json_t *model_j = json_pack("{s:s,s:n,s:n,s:n,s:n,s:b,s:b,s:b,s:o,s:o}", "type", "BPE", "dropout", "unk_token",
                                    "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", 0, "byte_fallback", 0,
                                    "ignore_merges", pt.ignore_merges, "vocab", vocab, "merges", mlist);
        vocab = NULL;
        json_t *pp = add_bos || add_eos ? post_processor(add_bos ? PIECE(bos) : NULL, bos, add_eos ? PIECE(eos) : NULL, eos)
                                        : json_pack("{s:s,s:b,s:b,s:b}", "type", "ByteLevel", "add_prefix_space", 0,
                                                    "trim_offsets", 0, "use_regex", 0);
        tok = json_pack("{s:s,s:n,s:n,s:O,s:o,s:{s:s,s:o},s:o,s:{s:s,s:b,s:b,s:b},s:o}", "version", "1.0", "truncation",
                        "padding", "added_tokens", added, "normalizer", pt.nfc ? json_pack("{s:s}", "type", "NFC") : json_null(),
                        "pre_tokenizer", "type", "Sequence", "pretokenizers", pret, "post_processor", pp, "decoder",
                        "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 0, "use_regex", 0, "model", model_j);
        if (!tok || write_json(dir, "tokenizer.json", tok)) { tok = NULL; json_decref(pieces); json_decref(decoder_map); goto out; }
        tok = NULL;
    }
    if (gguf_find(g, "tokenizer.chat_template") && gguf_get_str(g, "tokenizer.chat_template", &tmpl)) {
        json_decref(pieces);
        json_decref(decoder_map);
        goto out;
    }
    cfg = json_object();
    json_object_set_new(cfg, "add_bos_token", json_boolean(add_bos));
    json_object_set_new(cfg, "add_eos_token", json_boolean(add_eos));
    json_object_set_new(cfg, "added_tokens_decoder", decoder_map);
    json_t *stm = json_object();
    const struct { const char *key; int32_t id; } sp[] = {{"bos_token", bos}, {"eos_token", eos}, {"pad_token", pad},
                                                          {"unk_token", unk}};
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) {
        json_object_set_new(cfg, sp[i].key, sp[i].id >= 0 ? json_string(PIECE(sp[i].id)) : json_null());
        if (sp[i].id >= 0) json_object_set_new(stm, sp[i].key, json_string(PIECE(sp[i].id)));
    }
    if (tmpl) json_object_set_new(cfg, "chat_template", json_string(tmpl));
    json_object_set_new(cfg, "clean_up_tokenization_spaces", json_false());
    if (model_max_length > 0) json_object_set_new(cfg, "model_max_length", json_integer(model_max_length));
    json_object_set_new(cfg, "tokenizer_class", json_string(gpt2 ? "PreTrainedTokenizerFast" : "LlamaTokenizer"));
    json_decref(pieces);
#undef PIECE
    rc = write_json(dir, "tokenizer_config.json", cfg);
    cfg = NULL;
    if (!rc) rc = write_json(dir, "special_tokens_map.json", stm);
    else json_decref(stm);
out:
    json_decref(added);
    json_decref(tok);
    json_decref(cfg);
    json_decref(vocab);
    json_decref(decoder);
    free(model);
    free(pre);
    free(tmpl);
    gguf_close(g);
    return rc;
}
