// filter_decon.c — decontamination: an index of the n-grams of eval data (token n-grams for
// FTOK, normalised word n-grams for JSONL) and the check of training records against it.
#include "data/filter.h"
#include "core/err.h"
#include "core/jsonl.h"

#include <stdlib.h>
#include <string.h>

#define NGRAM_SEED 0xdec0417a7e5ULL
#define TOUCHED_LIST_MAX 1000

static int add_item(ft_decon *d, uint32_t file, uint64_t no) {
    if (d->n_items == d->items_cap) {
        size_t cap = d->items_cap ? d->items_cap * 2 : 256;
        uint32_t *f = ft_realloc(d->item_file, cap * sizeof *f);
        if (!f) return -1;
        d->item_file = f;
        uint64_t *n = ft_realloc(d->item_no, cap * sizeof *n);
        if (!n) return -1;
        d->item_no = n;
        uint64_t *h = ft_realloc(d->hits, cap * sizeof *h);
        if (!h) return -1;
        d->hits = h;
        d->items_cap = cap;
    }
    d->item_file[d->n_items] = file;
    d->item_no[d->n_items] = no;
    d->hits[d->n_items] = 0;
    d->n_items++;
    return 0;
}

static int grow_scratch(ft_decon *d, size_t n) {
    if (n <= d->scratch_cap) return 0;
    uint64_t *s = ft_realloc(d->scratch, n * sizeof *s);
    if (!s) return -1;
    d->scratch = s;
    d->scratch_cap = n;
    return 0;
}

// Index the n-grams of one unit sequence for item idx; returns the n-gram count or -1.
static long index_units(ft_decon *d, const uint64_t *u, size_t n, uint32_t idx) {
    if (n < (size_t)d->ngram) return 0;
    if (grow_scratch(d, n - d->ngram + 1)) return -1;
    size_t k = ft_ngram_hashes(u, n, d->ngram, NGRAM_SEED, d->scratch);
    for (size_t i = 0; i < k; i++)
        if (ft_hmap64_put(&d->grams, d->scratch[i], idx) < 0) return -1;
    return (long)k;
}

// Every string inside a JSON value (keys excluded), each indexed on its own.
static long index_json(ft_decon *d, json_t *v, uint32_t idx, uint64_t **units, size_t *cap) {
    long total = 0;
    if (json_is_string(v)) {
        long n = ft_text_units(json_string_value(v), json_string_length(v), units, cap);
        if (n < 0) return -1;
        return index_units(d, *units, (size_t)n, idx);
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            long k = index_json(d, e, idx, units, cap);
            if (k < 0) return -1;
            total += k;
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *e;
        json_object_foreach(v, key, e) {
            long k = index_json(d, e, idx, units, cap);
            if (k < 0) return -1;
            total += k;
        }
    }
    return total;
}

int ft_decon_add_file(ft_decon *d, const char *path) {
    if (d->ngram <= 0) return ft_err("--ngram must be positive");
    ft_fstream s;
    if (ft_fstream_open(&s, path)) return ft_err_ctx("decontamination data");
    const char *name = ft_fstream_name(&s);
    if (d->kind && d->kind != s.kind) {
        ft_err("%s: decontamination data is %s but earlier data is %s (compare tokens with tokens, text with text)",
               name, s.kind == FT_KIND_FTOK ? "FTOK" : "JSONL", d->kind == FT_KIND_FTOK ? "FTOK" : "JSONL");
        ft_fstream_close(&s);
        return -1;
    }
    if (s.kind == FT_KIND_FTOK) {
        const ftok_header *h = ftok_reader_header(s.ft);
        if (d->kind && (h->tokenizer_id != d->h.tokenizer_id || h->vocab_size != d->h.vocab_size)) {
            ft_err("%s: tokenizer %016llx (vocab %u) differs from the other eval data", name,
                   (unsigned long long)h->tokenizer_id, h->vocab_size);
            ft_fstream_close(&s);
            return -1;
        }
        d->h = *h;
    }
    d->kind = s.kind;
    char **files = ft_realloc(d->files, (d->n_files + 1) * sizeof *files);
    if (!files) { ft_fstream_close(&s); return -1; }
    d->files = files;
    if (!(d->files[d->n_files] = ft_strdup(name))) { ft_fstream_close(&s); return -1; }
    uint32_t file = (uint32_t)d->n_files++;
    int rc = 0;
    uint64_t no = 0;
    uint64_t *units = NULL;
    size_t cap = 0;
    ftok_record rec = {0};
    for (;;) {
        long k;
        if (s.kind == FT_KIND_FTOK) {
            int r = ftok_next(s.ft, &rec);
            if (r <= 0) { rc = r; break; }
            no++;
            if (add_item(d, file, no)) { rc = -1; break; }
            if (rec.n > cap) {
                uint64_t *u = ft_realloc(units, rec.n * sizeof *u);
                if (!u) { rc = -1; break; }
                units = u;
                cap = rec.n;
            }
            for (uint32_t i = 0; i < rec.n; i++) units[i] = rec.tokens[i];
            k = index_units(d, units, rec.n, (uint32_t)(d->n_items - 1));
        } else {
            json_t *obj;
            int r = ft_jsonl_next(s.js, &obj);
            if (r <= 0) { rc = r < 0 ? -1 : 0; break; }
            no++;
            if (add_item(d, file, no)) { json_decref(obj); rc = -1; break; }
            k = index_json(d, obj, (uint32_t)(d->n_items - 1), &units, &cap);
            json_decref(obj);
        }
        if (k < 0) { rc = -1; break; }
        if (k == 0) d->n_short++;
    }
    if (rc) ft_err_ctx("decontamination data");
    ftok_record_free(&rec);
    free(units);
    ft_fstream_close(&s);
    return rc;
}

int ft_decon_check(ft_decon *d, const uint64_t *units, size_t n) {
    if (n < (size_t)d->ngram || !d->grams.n) return 0;
    if (grow_scratch(d, n - d->ngram + 1)) return -1;
    size_t k = ft_ngram_hashes(units, n, d->ngram, NGRAM_SEED, d->scratch);
    int hit = 0;
    size_t nc = 0;
    for (size_t i = 0; i < k; i++) {
        uint32_t item;
        if (!ft_hmap64_get(&d->grams, d->scratch[i], &item)) continue;
        hit = 1;
        int seen = 0;
        for (size_t j = 0; j < nc && !seen; j++) seen = d->cred[j] == item;
        if (seen) continue;
        if (nc == d->cred_cap) {
            size_t cap = d->cred_cap ? d->cred_cap * 2 : 16;
            uint32_t *c = ft_realloc(d->cred, cap * sizeof *c);
            if (!c) return -1;
            d->cred = c;
            d->cred_cap = cap;
        }
        d->cred[nc++] = item;
        d->hits[item]++;
    }
    if (hit) d->dropped++;
    return hit;
}

json_t *ft_decon_report(const ft_decon *d) {
    json_t *r = json_object();
    json_object_set_new(r, "ngram", json_integer(d->ngram));
    json_object_set_new(r, "unit", json_string(d->kind == FT_KIND_FTOK ? "tokens" : "words"));
    json_object_set_new(r, "eval_items", json_integer((json_int_t)d->n_items));
    json_object_set_new(r, "eval_items_too_short", json_integer((json_int_t)d->n_short));
    json_object_set_new(r, "eval_ngrams", json_integer((json_int_t)d->grams.n));
    json_object_set_new(r, "dropped", json_integer((json_int_t)d->dropped));
    json_t *list = json_array();
    size_t touched = 0;
    for (size_t i = 0; i < d->n_items; i++) {
        if (!d->hits[i]) continue;
        if (touched++ >= TOUCHED_LIST_MAX) continue;
        json_t *e = json_object();
        json_object_set_new(e, "file", json_string(d->files[d->item_file[i]]));
        json_object_set_new(e, "item", json_integer((json_int_t)d->item_no[i]));
        json_object_set_new(e, "records", json_integer((json_int_t)d->hits[i]));
        json_array_append_new(list, e);
    }
    json_object_set_new(r, "eval_items_touched", json_integer((json_int_t)touched));
    json_object_set_new(r, "touched", list);
    if (touched > TOUCHED_LIST_MAX) json_object_set_new(r, "touched_truncated", json_true());
    return r;
}

void ft_decon_free(ft_decon *d) {
    ft_hmap64_free(&d->grams);
    free(d->item_file);
    free(d->item_no);
    free(d->hits);
    for (size_t i = 0; i < d->n_files; i++) free(d->files[i]);
    free(d->files);
    free(d->scratch);
    free(d->cred);
    memset(d, 0, sizeof *d);
}
