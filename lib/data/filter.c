// filter.c — the ft-filter pipeline: reads FTOK or JSONL (concatenated inputs or a weighted
// --mix), applies the per-record operations in their documented order, then sampling,
// shuffling, --head and the hash split, and writes the same kind it read (see filter.h and
// docs/ft-filter.md for the order).
#include "data/filter.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/jsonl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CONTENT_SEED 0xf17e2c0de5eedULL

typedef struct {   // stored record (sample/shuffle), followed by its payload
    uint64_t h[2];
    uint32_t len, trained, n, split;   // split: a preference pair's chosen tokens, or a labelled record's label
} blob_head;

typedef struct {
    const ft_filter_opts *o;
    int kind;
    ftok_header hdr;
    ft_fstream *in;          // (n_in,)
    int n_in, cur, opened;
    const char **paths;
    double *cum;             // (n_in,) cumulative mix weights
    uint64_t *mix_count;     // (n_in,)
    ft_rng mix_rng, sample_rng;
    // current record
    ftok_record rec;
    json_t *obj;
    const char *line;        // raw JSONL record (borrowed from its reader)
    size_t line_len;
    int src;                 // input the current record came from
    const char *text;
    size_t text_len;
    char *text_owned;
    uint64_t *units;
    size_t units_cap;
    uint8_t *blob;
    size_t blob_cap;
    // operations
    ft_hset128 exact;
    ft_minhash near;
    int near_on;
    ft_decon decon;
    ft_shuffle *shuf;
    uint8_t **res;           // reservoir (sample_n,)
    uint64_t *res_seq;
    uint64_t res_n, sample_seen;
    uint64_t q_drops[FT_Q_N];
    // outputs
    ftok_writer *fw, *fv;
    ft_writer *jw, *jv;
    uint64_t emitted;
    int stop;
    ft_fstats st;
} pipe_t;

void ft_filter_defaults(ft_filter_opts *o) {
    memset(o, 0, sizeof *o);
    o->field = "text";
    o->min_len = o->max_len = o->truncate = o->min_trained = -1;
    o->threshold = 0.8;
    o->num_perm = 128;
    o->shingle = 5;
    o->ngram = 13;
    o->sample_n = -1;
    o->sample_frac = -1;
    o->head = -1;
    o->mem_bytes = (size_t)1 << 30;
    ft_quality_defaults(&o->quality);
}

static const char *kind_name(int k) { return k == FT_KIND_FTOK ? "FTOK" : "JSONL"; }

// Open input i and check it agrees with the first one (kind and FTOK header).
static int open_input(pipe_t *p, int i) {
    ft_fstream *s = &p->in[i];
    if (ft_fstream_open(s, p->paths[i])) return -1;
    const char *name = ft_fstream_name(s);
    if (!p->kind) {
        p->kind = s->kind;
        if (s->kind == FT_KIND_FTOK) p->hdr = *ftok_reader_header(s->ft);
        return 0;
    }
    if (s->kind != p->kind)
        return ft_err("%s: input is %s but %s is %s: all inputs must be the same kind", name, kind_name(s->kind), p->paths[0], kind_name(p->kind));
    if (s->kind == FT_KIND_FTOK) {
        const ftok_header *h = ftok_reader_header(s->ft);
        if (h->flags != p->hdr.flags || h->vocab_size != p->hdr.vocab_size || h->tokenizer_id != p->hdr.tokenizer_id)
            return ft_err("%s: FTOK header (vocab %u, tokenizer %016llx, flags %u) does not match %s (vocab %u, tokenizer %016llx, flags %u): "
                          "streams from different tokenizers cannot be mixed",
                          name, h->vocab_size, (unsigned long long)h->tokenizer_id, h->flags, p->paths[0], p->hdr.vocab_size,
                          (unsigned long long)p->hdr.tokenizer_id, p->hdr.flags);
    }
    return 0;
}

// Next raw record from stream s: 1, 0 at end, -1 fatal, -2 bad (skippable).
static int read_from(pipe_t *p, ft_fstream *s) {
    if (s->kind == FT_KIND_FTOK) return ftok_next(s->ft, &p->rec);
    int r = ft_jsonl_next(s->js, &p->obj);
    return r;
}

static int next_raw(pipe_t *p) {
    const ft_filter_opts *o = p->o;
    if (o->n_mix) {
        double u = ft_rng_double(&p->mix_rng) * p->cum[p->n_in - 1];
        int i = 0;
        while (i < p->n_in - 1 && u >= p->cum[i]) i++;
        int r = read_from(p, &p->in[i]);
        p->src = i;
        if (r == 1) p->mix_count[i]++;
        return r;   // the first stream to run dry ends the mix (the weights stay exact)
    }
    for (;;) {
        int r = read_from(p, &p->in[p->cur]);
        p->src = p->cur;
        if (r != 0) return r;
        if (p->cur + 1 >= p->n_in) return 0;
        ft_fstream_close(&p->in[p->cur]);
        p->cur++;
        if (open_input(p, p->cur)) return -1;
    }
}

static int writers_open(pipe_t *p) {
    const ft_filter_opts *o = p->o;
    if (p->kind == FT_KIND_FTOK) {
        if (!(p->fw = ftok_writer_open(o->out, &p->hdr))) return -1;
        if (o->val_out && !(p->fv = ftok_writer_open(o->val_out, &p->hdr))) return -1;
    } else {
        if (!(p->jw = ft_writer_open(o->out))) return -1;
        if (o->val_out && !(p->jv = ft_writer_open(o->val_out))) return -1;
    }
    return 0;
}

static int blob_reserve(pipe_t *p, size_t n) {
    if (n <= p->blob_cap) return 0;
    size_t cap = p->blob_cap ? p->blob_cap : 4096;
    while (cap < n) cap *= 2;
    uint8_t *b = ft_realloc(p->blob, cap);
    if (!b) return -1;
    p->blob = b;
    p->blob_cap = cap;
    return 0;
}

// Write one stored record to the main or the validation output.
static int emit(void *ctx, const uint8_t *blob, uint32_t blen) {
    pipe_t *p = ctx;
    const ft_filter_opts *o = p->o;
    (void)blen;
    blob_head bh;
    memcpy(&bh, blob, sizeof bh);
    const uint8_t *pay = blob + sizeof bh;
    if (o->head >= 0 && p->emitted >= (uint64_t)o->head) {
        p->st.drop[FT_DROP_HEAD]++;
        return 0;
    }
    p->emitted++;
    int val = o->split_val > 0 && (double)(bh.h[1] >> 11) * 0x1.0p-53 < o->split_val;
    if (p->kind == FT_KIND_FTOK) {
        const uint32_t *tok = (const uint32_t *)pay;
        const uint8_t *mask = (p->hdr.flags & FTOK_FLAG_MASK) ? pay + (size_t)bh.n * 4 : NULL;
        ftok_writer *w = val ? p->fv : p->fw;
        int rc = (p->hdr.flags & FTOK_FLAG_PAIRS) ? ftok_write_pair(w, tok, mask, bh.n, bh.split)
                 : (p->hdr.flags & FTOK_FLAG_LABELS) ? ftok_write_labeled(w, tok, mask, bh.n, bh.split)
                                                      : ftok_write(w, tok, mask, bh.n);
        if (rc) return -1;
    } else {
        ft_writer *w = val ? p->jv : p->jw;
        if (ft_writer_write(w, pay, bh.n) || ft_writer_write(w, "\n", 1)) return -1;
    }
    if (val) {
        p->st.val++;
        return 0;
    }
    if (ft_fstats_add_len(&p->st, bh.len)) return -1;
    p->st.out++;
    p->st.tokens_out += bh.len;
    p->st.trained_out += bh.trained;
    if (o->head >= 0 && p->emitted >= (uint64_t)o->head && !p->shuf && o->sample_n < 0) p->stop = 1;
    return 0;
}

static int cmp_seq(const void *a, const void *b, void *ctx) {
    const uint64_t *seq = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    return (seq[i] > seq[j]) - (seq[i] < seq[j]);
}

// After the per-record filters: sampling, shuffling or straight out.
static int pass_on(pipe_t *p, const uint8_t *blob, uint32_t len) {
    const ft_filter_opts *o = p->o;
    if (o->sample_n >= 0) {   // reservoir sampling (Algorithm R), output later in input order
        uint64_t c = p->sample_seen++;
        uint64_t slot = c < (uint64_t)o->sample_n ? c : ft_rng_below(&p->sample_rng, c + 1);
        if (slot >= (uint64_t)o->sample_n) { p->st.drop[FT_DROP_SAMPLE]++; return 0; }
        if (c >= (uint64_t)o->sample_n) p->st.drop[FT_DROP_SAMPLE]++;
        uint8_t *copy = ft_malloc(len + 4);
        if (!copy) return -1;
        memcpy(copy, &len, 4);
        memcpy(copy + 4, blob, len);
        free(p->res[slot]);
        p->res[slot] = copy;
        p->res_seq[slot] = c;
        if (slot >= p->res_n) p->res_n = slot + 1;
        return 0;
    }
    if (p->shuf) return ft_shuffle_add(p->shuf, blob, len);
    return emit(p, blob, len);
}

static int finish_stored(pipe_t *p) {
    if (p->o->sample_n >= 0 && p->res_n) {
        size_t *idx = ft_malloc(p->res_n * sizeof *idx);
        if (!idx) return -1;
        for (size_t i = 0; i < p->res_n; i++) idx[i] = i;
        qsort_r(idx, p->res_n, sizeof *idx, cmp_seq, p->res_seq);
        int rc = 0;
        for (size_t i = 0; i < p->res_n && !rc; i++) {
            uint32_t l;
            memcpy(&l, p->res[idx[i]], 4);
            rc = p->shuf ? ft_shuffle_add(p->shuf, p->res[idx[i]] + 4, l) : emit(p, p->res[idx[i]] + 4, l);
        }
        free(idx);
        if (rc) return -1;
    }
    if (p->shuf) return ft_shuffle_finish(p->shuf, emit, p);
    return 0;
}

static int units_of(pipe_t *p, size_t *n) {
    if (p->kind == FT_KIND_FTOK) {
        if (p->rec.n > p->units_cap) {
            uint64_t *u = ft_realloc(p->units, p->rec.n * sizeof *u);
            if (!u) return -1;
            p->units = u;
            p->units_cap = p->rec.n;
        }
        for (uint32_t i = 0; i < p->rec.n; i++) p->units[i] = p->rec.tokens[i];
        *n = p->rec.n;
        return 0;
    }
    long k = ft_text_units(p->text, p->text_len, &p->units, &p->units_cap);
    if (k < 0) return -1;
    *n = (size_t)k;
    return 0;
}

static void content_hash(pipe_t *p, uint64_t h[2]) {
    if (p->kind == FT_KIND_FTOK)
        ft_hash128(p->rec.tokens, (size_t)p->rec.n * 4, CONTENT_SEED ^ p->rec.split ^ ((uint64_t)p->rec.label << 40), h);
    else if (p->text) ft_hash128(p->text, p->text_len, CONTENT_SEED, h);
    else ft_hash128(p->line, p->line_len, CONTENT_SEED ^ 1, h);
}

#define DROP(r) do { p->st.drop[r]++; return 0; } while (0)

// One record through the per-record operations; 0 = done (kept or dropped), -1 = error.
static int process(pipe_t *p) {
    const ft_filter_opts *o = p->o;
    p->st.in++;
    p->text = NULL;
    free(p->text_owned);
    p->text_owned = NULL;
    uint32_t len, trained;
    if (p->kind == FT_KIND_JSONL) {
        p->line = ft_jsonl_line(p->in[p->src].js, &p->line_len);
        int t = ft_record_text(p->obj, o->field, &p->text, &p->text_len, &p->text_owned);
        if (t < 0) return -1;
        if (!t) p->text = NULL;
        len = p->text ? (uint32_t)(o->len_bytes ? p->text_len : ft_text_words(p->text, p->text_len)) : 0;
        trained = len;
    } else if (p->rec.split) {   // a preference pair: one unit; its length is its longer side's
        len = p->rec.split > p->rec.n - p->rec.split ? p->rec.split : p->rec.n - p->rec.split;
        trained = ftok_record_trained(&p->rec);
    } else {
        len = p->rec.n;
        trained = ftok_record_trained(&p->rec);
    }
    p->st.tokens_in += len;
    uint64_t h[2];
    content_hash(p, h);
    if (o->shard_n && h[0] % (uint64_t)o->shard_n != (uint64_t)o->shard_i) { p->st.not_in_shard++; return 0; }
    int need_text = o->use_quality || o->min_len >= 0 || o->max_len >= 0 || o->n_decon || o->dedup == 2;
    if (p->kind == FT_KIND_JSONL && need_text && !p->text) {
        // a record without text cannot be measured: bad data, skippable with --skip-bad
        if (o->skip_bad) DROP(FT_DROP_NO_TEXT);
        return ft_err("%s:%zu: record has no string field \"%s\" and no \"segments\" to take its text from (see --field)",
                      ft_fstream_name(&p->in[p->src]), ft_jsonl_lineno(p->in[p->src].js), o->field ? o->field : "text");
    }
    if (o->use_quality) {
        int r = ft_quality_check(&o->quality, p->text, p->text_len);
        if (r >= 0) { p->q_drops[r]++; DROP(FT_DROP_QUALITY); }
    }
    if (o->min_len >= 0 && len < (uint64_t)o->min_len) DROP(FT_DROP_MIN_LEN);
    if (o->max_len >= 0 && len > (uint64_t)o->max_len) DROP(FT_DROP_MAX_LEN);
    if (o->truncate >= 0 && p->kind == FT_KIND_FTOK && p->rec.split) {   // each side of a pair on its own
        uint32_t a = p->rec.split, b = p->rec.n - a, N = (uint32_t)o->truncate;
        if (a > N || b > N) {
            uint32_t a2 = a < N ? a : N, b2 = b < N ? b : N;
            memmove(p->rec.tokens + a2, p->rec.tokens + a, (size_t)b2 * sizeof *p->rec.tokens);
            memmove(p->rec.mask + a2, p->rec.mask + a, b2);
            p->st.truncated++;
            ftok_record side = p->rec;
            side.n = a2;
            uint32_t tc = ftok_record_trained(&side);
            p->rec.n = a2 + b2;
            p->rec.split = a2;
            uint32_t t2 = ftok_record_trained(&p->rec);
            if (trained > 0 && (tc == 0 || t2 == tc)) DROP(FT_DROP_TRUNC_NO_TARGET);   // a side lost every target
            len = a2 > b2 ? a2 : b2;
            trained = t2;
            content_hash(p, h);
        }
    } else if (o->truncate >= 0 && p->kind == FT_KIND_FTOK && p->rec.n > (uint64_t)o->truncate) {
        p->rec.n = (uint32_t)o->truncate;
        uint32_t t2 = ftok_record_trained(&p->rec);
        p->st.truncated++;
        if (trained > 0 && t2 == 0) DROP(FT_DROP_TRUNC_NO_TARGET);
        len = p->rec.n;
        trained = t2;
        content_hash(p, h);
    }
    if (o->min_trained >= 0 && trained < (uint64_t)o->min_trained) DROP(FT_DROP_MIN_TRAINED);
    size_t nu = 0;
    if ((o->n_decon || o->dedup == 2) && units_of(p, &nu)) return -1;
    if (o->n_decon) {
        int r = ft_decon_check(&p->decon, p->units, nu);
        if (r < 0) return -1;
        if (r) DROP(FT_DROP_CONTAM);
    }
    if (o->dedup) {
        int r = ft_hset128_add(&p->exact, h);
        if (r < 0) return -1;
        if (!r) DROP(FT_DROP_EXACT);
    }
    if (o->dedup == 2) {
        int r = ft_minhash_seen(&p->near, p->units, nu);
        if (r < 0) return -1;
        if (r) DROP(FT_DROP_NEAR);
    }
    if (o->sample_frac >= 0 && ft_rng_double(&p->sample_rng) >= o->sample_frac) DROP(FT_DROP_SAMPLE);
    // store: head + payload
    blob_head bh = {{h[0], h[1]}, len, trained, 0, p->kind == FT_KIND_FTOK ? p->rec.split | p->rec.label : 0};
    size_t pay;
    if (p->kind == FT_KIND_FTOK) {
        bh.n = p->rec.n;
        pay = (size_t)p->rec.n * ((p->hdr.flags & FTOK_FLAG_MASK) ? 5 : 4);
    } else {
        pay = p->line_len;
        bh.n = (uint32_t)pay;
    }
    size_t total = (sizeof bh + pay + 3) & ~(size_t)3;   // keeps token arrays 4-byte aligned in buffers
    if (blob_reserve(p, total)) return -1;
    memset(p->blob + total - 4, 0, 4);
    memcpy(p->blob, &bh, sizeof bh);
    if (p->kind == FT_KIND_FTOK) {
        memcpy(p->blob + sizeof bh, p->rec.tokens, (size_t)p->rec.n * 4);
        if (p->hdr.flags & FTOK_FLAG_MASK) memcpy(p->blob + sizeof bh + (size_t)p->rec.n * 4, p->rec.mask, p->rec.n);
    } else {
        memcpy(p->blob + sizeof bh, p->line, pay);
    }
    return pass_on(p, p->blob, (uint32_t)total);
}

static json_t *report(pipe_t *p) {
    const ft_filter_opts *o = p->o;
    json_t *r = ft_fstats_json(&p->st);
    json_object_set_new(r, "format", json_string(p->kind == FT_KIND_FTOK ? "ftok" : "jsonl"));
    json_object_set_new(r, "length_unit", json_string(p->kind == FT_KIND_FTOK ? "tokens" : o->len_bytes ? "bytes" : "words"));
    if (o->dedup) {
        json_t *d = json_object();
        json_object_set_new(d, "mode", json_string(o->dedup == 1 ? "exact" : "near"));
        json_object_set_new(d, "exact_hash_bits", json_integer(128));
        if (o->dedup == 2) {
            json_object_set_new(d, "threshold", json_real(o->threshold));
            json_object_set_new(d, "num_perm", json_integer(p->near.num_perm));
            json_object_set_new(d, "bands", json_integer(p->near.bands));
            json_object_set_new(d, "rows", json_integer(p->near.rows));
            json_object_set_new(d, "shingle", json_integer(o->shingle));
            json_object_set_new(d, "shingle_unit", json_string(p->kind == FT_KIND_FTOK ? "tokens" : "words"));
            json_object_set_new(d, "p_drop_at_threshold", json_real(ft_lsh_prob(o->threshold, p->near.bands, p->near.rows)));
            json_object_set_new(d, "seed", json_integer((json_int_t)o->seed));
        }
        json_object_set_new(r, "dedup", d);
    }
    if (o->n_decon) json_object_set_new(r, "decontamination", ft_decon_report(&p->decon));
    if (o->use_quality) {
        json_t *q = json_object();
        for (int i = 0; i < FT_Q_N; i++) {
            if (isnan(o->quality.thr[i])) continue;
            json_t *e = json_object();
            json_object_set_new(e, "threshold", json_real(o->quality.thr[i]));
            json_object_set_new(e, "dropped", json_integer((json_int_t)p->q_drops[i]));
            json_object_set_new(q, ft_quality_rules[i].name, e);
        }
        json_object_set_new(r, "quality", q);
    }
    if (o->n_mix) {
        json_t *m = json_array();
        for (int i = 0; i < o->n_mix; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "file", json_string(o->mix[i].path));
            json_object_set_new(e, "weight", json_real(o->mix[i].weight));
            json_object_set_new(e, "records", json_integer((json_int_t)p->mix_count[i]));
            json_array_append_new(m, e);
        }
        json_object_set_new(r, "mix", m);
    }
    if (o->shard_n) json_object_set_new(r, "shard", json_pack("{s:i,s:i}", "index", o->shard_i, "count", o->shard_n));
    if (o->split_val > 0) json_object_set_new(r, "split", json_pack("{s:f,s:I}", "val_fraction", o->split_val, "val", (json_int_t)p->st.val));
    if (p->shuf)
        json_object_set_new(r, "shuffle", json_pack("{s:I,s:i,s:b}", "seed", (json_int_t)o->seed, "buckets", FT_SHUF_BUCKETS,
                                                    "spilled_to_disk", ft_shuffle_spilled(p->shuf)));
    return r;
}

static int run(pipe_t *p) {
    const ft_filter_opts *o = p->o;
    for (int i = 0; i < o->n_decon; i++)
        if (ft_decon_add_file(&p->decon, o->decon[i])) return -1;
    if (o->n_mix) {
        for (int i = 0; i < p->n_in; i++)
            if (open_input(p, i)) return -1;
    } else if (open_input(p, 0)) {
        return -1;
    }
    if (o->n_decon && p->decon.kind && p->decon.kind != p->kind)
        return ft_err("%s: input is %s but the decontamination data is %s (compare tokens with tokens, text with text)",
                      p->paths[0], kind_name(p->kind), kind_name(p->decon.kind));
    if (o->n_decon && p->kind == FT_KIND_FTOK && p->decon.h.tokenizer_id != p->hdr.tokenizer_id)
        return ft_err("%s: tokenizer %016llx differs from the decontamination data's (%016llx)", p->paths[0],
                      (unsigned long long)p->hdr.tokenizer_id, (unsigned long long)p->decon.h.tokenizer_id);
    if (p->kind == FT_KIND_JSONL && o->truncate >= 0) return ft_err("--truncate applies to FTOK token streams only (input is JSONL)");
    if (p->kind == FT_KIND_JSONL && o->min_trained >= 0) return ft_err("--min-trained applies to FTOK token streams only (input is JSONL)");
    if (p->kind == FT_KIND_FTOK && o->use_quality) return ft_err("--quality applies to JSONL text only (input is FTOK)");
    if (writers_open(p)) return -1;
    p->stop = o->head == 0 && !p->shuf && o->sample_n < 0;
    while (!p->stop) {
        int r = next_raw(p);
        if (r == 0) break;
        if (r == -2 && o->skip_bad) {
            p->st.in++;
            p->st.drop[FT_DROP_BAD]++;
            continue;
        }
        if (r < 0) return -1;
        int rc = process(p);
        if (o->progress && (p->st.in & 4095) == 0) o->progress(o->progress_ctx, p->st.in, p->st.out);
        json_decref(p->obj);
        p->obj = NULL;
        if (rc) return -1;
    }
    return finish_stored(p);
}

int ft_filter_run(const ft_filter_opts *o, json_t **stats) {
    pipe_t p = {0};
    p.o = o;
    static const char *stdin_path[] = {"-"};
    int rc = -1;
    if (o->n_mix) {
        p.n_in = o->n_mix;
        p.paths = ft_calloc(o->n_mix, sizeof *p.paths);
        p.cum = ft_calloc(o->n_mix, sizeof *p.cum);
        p.mix_count = ft_calloc(o->n_mix, sizeof *p.mix_count);
        if (!p.paths || !p.cum || !p.mix_count) goto out;
        double c = 0;
        for (int i = 0; i < o->n_mix; i++) {
            p.paths[i] = o->mix[i].path;
            c += o->mix[i].weight;
            p.cum[i] = c;
        }
    } else {
        p.n_in = o->n_inputs ? o->n_inputs : 1;
        p.paths = ft_calloc(p.n_in, sizeof *p.paths);
        if (!p.paths) goto out;
        for (int i = 0; i < p.n_in; i++) p.paths[i] = o->n_inputs ? o->inputs[i] : stdin_path[0];
    }
    if (!(p.in = ft_calloc(p.n_in, sizeof *p.in))) goto out;
    ft_rng_seed(&p.mix_rng, o->seed ^ 0x6d6978ULL);
    ft_rng_seed(&p.sample_rng, o->seed ^ 0x73616d706c65ULL);
    p.decon.ngram = o->ngram;
    if (o->dedup == 2 && ft_minhash_init(&p.near, o->threshold, o->num_perm, o->shingle, o->seed)) goto out;
    if (o->shuffle && !(p.shuf = ft_shuffle_new(o->seed, o->mem_bytes, o->tmpdir))) goto out;
    if (o->sample_n >= 0) {
        p.res = ft_calloc(o->sample_n ? (size_t)o->sample_n : 1, sizeof *p.res);
        p.res_seq = ft_calloc(o->sample_n ? (size_t)o->sample_n : 1, sizeof *p.res_seq);
        if (!p.res || !p.res_seq) goto out;
    }
    rc = run(&p);
    if (rc == 0) {
        if (p.fw) { rc = ftok_writer_commit(p.fw); p.fw = NULL; }
        if (p.jw && !rc) { rc = ft_writer_commit(p.jw); p.jw = NULL; }
        if (p.fv && !rc) { rc = ftok_writer_commit(p.fv); p.fv = NULL; }
        if (p.jv && !rc) { rc = ft_writer_commit(p.jv); p.jv = NULL; }
    }
out:
    if (stats) *stats = p.kind ? report(&p) : NULL;
    ftok_writer_abort(p.fw);
    ftok_writer_abort(p.fv);
    if (p.jw) ft_writer_abort(p.jw);
    if (p.jv) ft_writer_abort(p.jv);
    for (int i = 0; p.in && i < p.n_in; i++) ft_fstream_close(&p.in[i]);
    free(p.in);
    free(p.paths);
    free(p.cum);
    free(p.mix_count);
    ftok_record_free(&p.rec);
    json_decref(p.obj);
    free(p.text_owned);
    free(p.units);
    free(p.blob);
    ft_hset128_free(&p.exact);
    ft_minhash_free(&p.near);
    ft_decon_free(&p.decon);
    ft_shuffle_free(p.shuf);
    for (uint64_t i = 0; p.res && i < (uint64_t)(o->sample_n > 0 ? o->sample_n : 0); i++) free(p.res[i]);
    free(p.res);
    free(p.res_seq);
    ft_fstats_free(&p.st);
    return rc;
}
