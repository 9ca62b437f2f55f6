// ppl.c — `ft-eval --model M ppl DATA.tok`: mean cross-entropy over the target tokens of an
// FTOK stream and its perplexity, as JSON {"loss","ppl","tokens","records"}.
// Records longer than --max-len are cut into windows that overlap by one token, so every
// target is scored exactly once; short records are packed into rows of --max-len positions
// with document masking (positions restart per record), which gives the same numbers as
// scoring them one by one. With a prompt/prefix tuning adapter (lib/virtual.h) every row holds
// one record (window) only, with the virtual tokens in front, as PEFT evaluates them.
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "ftok.h"
#include "io.h"
#include "model.h"
#include "model_common.h"
#include "virtual.h"
#include "tokenizer.h"

#pragma weak ft_tokenizer_load
#pragma weak ft_tokenizer_free
#pragma weak ft_tokenizer_id

static const char *PROG = "ft-eval ppl";

static void help(void) {
    printf("Usage: ft-eval --model M [--adapter DIR]... ppl [OPTIONS] [DATA.tok]\n\n"
           "Loss and perplexity of the model on the target tokens of an FTOK stream (stdin when no file\n"
           "or '-'). A token is a target when its mask bit is set (every token but the first of a record\n"
           "when the stream has no mask); it is predicted from the tokens before it in its record.\n"
           "Prints {\"loss\", \"ppl\", \"tokens\", \"records\"} as JSON.\n\nOptions:\n"
           "  --max-len N        positions per forward row (default: the model's context, at most 2048);\n"
           "                     longer records are scored in windows overlapping by one token;\n"
           "                     above the model's max_position_embeddings: a warning\n"
           "  --per-record FILE  write {\"index\",\"loss\",\"tokens\"} per record (mean loss over its\n"
           "                     targets) and name it in the report, for ft-eval compare's paired CIs\n"
           "  --dump-logits FILE write raw little-endian f32 logits (n_tokens, vocab) of every record, in\n"
           "                     order (for parity checks; records must fit in --max-len)\n"
           "%s\nExit status: 0 ok, 1 bad data or model, 2 usage.\n",
           ft_eval_common_help);
}

// Checks the stream's tokenizer against the model's (both known and non-zero).
static int check_tokenizer(const ft_model *m, const ftok_header *h, const char *name) {
    if (!h->tokenizer_id || !m->tokenizer_path || !ft_tokenizer_load) return 0;
    ft_tokenizer *t = ft_tokenizer_load(m->tokenizer_path);
    if (!t) return ft_err_ctx("model tokenizer");
    uint64_t id = ft_tokenizer_id(t);
    ft_tokenizer_free(t);
    if (id && id != h->tokenizer_id)
        return ft_err("%s: tokenized with another tokenizer (id %016llx) than the model's %s (id %016llx)", name,
                      (unsigned long long)h->tokenizer_id, m->tokenizer_path, (unsigned long long)id);
    return 0;
}

typedef struct {
    ft_model *m;
    ft_acts acts;
    int cap, n;                 // row capacity and fill
    int one_doc;                // prompt/prefix tuning: one record (window) per row, no doc ids
    int32_t *tok, *pos, *doc, *tgt;   // (cap,)
    uint8_t *msk;               // (cap,)
    double loss;
    uint64_t ntok;
    ft_writer *dump;
    float *logits;              // (cap, V) when dumping
    int32_t *seg_rec;           // (cap,) record index of the document starting at a position, else -1
    double *rec_loss;           // (n_rec_cap,) summed loss per record (for --per-record)
    uint64_t *rec_tok;
    size_t n_rec_cap;
} ppl_row;

static int row_flush(ppl_row *r) {
    if (!r->n) return 0;
    if (ft_model_forward(r->m, &r->acts, r->tok, r->pos, r->one_doc ? NULL : r->doc, 1, r->n) < 0) return -1;
    if (r->rec_loss) {   // per document of the row, attributed to its record
        for (int s = 0; s < r->n;) {
            int e = s + 1;
            while (e < r->n && r->seg_rec[e] < 0) e++;
            double l = ft_model_loss_at(r->m, &r->acts, s, r->tgt + s, r->msk + s, e - s);
            int k = r->seg_rec[s];
            r->rec_loss[k] += l;
            for (int i = s; i < e; i++) r->rec_tok[k] += r->msk[i] != 0;
            r->loss += l;
            s = e;
        }
    } else {
        r->loss += ft_model_loss(r->m, &r->acts, r->tgt, r->msk, r->n);
    }
    for (int i = 0; i < r->n; i++) r->ntok += r->msk[i] != 0;
    if (r->dump) {
        size_t V = (size_t)r->m->cfg.vocab_size;
        for (int i = 0; i < r->n; i += 64) {
            int k = r->n - i < 64 ? r->n - i : 64;
            int rows[64];
            for (int j = 0; j < k; j++) rows[j] = i + j;
            ft_model_logits(r->m, &r->acts, rows, k, r->logits);
            if (ft_writer_write(r->dump, r->logits, (size_t)k * V * sizeof(float)) < 0) return -1;
        }
    }
    r->n = 0;
    return 0;
}

// Adds tokens [s, e) of rec as one document; targets are the next tokens within [s, e).
static int row_add(ppl_row *r, const ftok_record *rec, uint32_t s, uint32_t e, int docid, size_t rec_idx) {
    if (((int)(e - s) > r->cap - r->n || (r->one_doc && r->n)) && row_flush(r) < 0) return -1;
    if (r->rec_loss && rec_idx >= r->n_rec_cap) {
        size_t nc = r->n_rec_cap ? r->n_rec_cap * 2 : 1024;
        double *l = ft_realloc(r->rec_loss, nc * sizeof *l);
        if (!l) return -1;
        r->rec_loss = l;
        uint64_t *t = ft_realloc(r->rec_tok, nc * sizeof *t);
        if (!t) return -1;
        r->rec_tok = t;
        memset(l + r->n_rec_cap, 0, (nc - r->n_rec_cap) * sizeof *l);
        memset(t + r->n_rec_cap, 0, (nc - r->n_rec_cap) * sizeof *t);
        r->n_rec_cap = nc;
    }
    for (uint32_t i = s; i < e; i++) {
        int k = r->n++;
        r->seg_rec[k] = i == s ? (int32_t)rec_idx : -1;
        r->tok[k] = (int32_t)rec->tokens[i];
        r->pos[k] = (int32_t)(i - s);
        r->doc[k] = docid;
        int has_next = i + 1 < e;
        r->tgt[k] = has_next ? (int32_t)rec->tokens[i + 1] : 0;
        r->msk[k] = has_next && (!rec->mask || rec->mask[i + 1]);
    }
    return 0;
}

int ft_eval_ppl(int argc, char **argv) {
    ft_eval_common co = {0};
    const char *input = NULL, *dump_path = NULL, *per_path = NULL;
    long max_len = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = ft_eval_common_opt(&co, PROG, argc, argv, &i);
        if (c < 0) return FT_EXIT_USAGE;
        if (c) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { help(); return 0; }
        if (!strcmp(a, "--version")) { ft_cli_version("ft-eval"); return 0; }
        if ((!strcmp(a, "--max-len") || !strcmp(a, "--dump-logits") || !strcmp(a, "--per-record")) && i + 1 >= argc)
            return ft_cli_usage(PROG, "option %s needs a value", a);
        if (!strcmp(a, "--max-len")) {
            if (ft_parse_long(a, argv[++i], 2, 1 << 20, &max_len) < 0) return ft_cli_usage(PROG, "%s", ft_errmsg());
        } else if (!strcmp(a, "--dump-logits")) dump_path = argv[++i];
        else if (!strcmp(a, "--per-record")) per_path = argv[++i];
        else if (a[0] == '-' && a[1]) return ft_cli_usage(PROG, "unknown option '%s'", a);
        else if (input) return ft_cli_usage(PROG, "one input file at most");
        else input = a;
    }
    if (!co.model) return ft_cli_usage(PROG, "--model is required");
    ft_model *m = ft_eval_open_model(&co);
    if (!m) return ft_cli_fail(PROG, FT_EXIT_DATA);
    int rc = FT_EXIT_DATA;
    ppl_row r = {.m = m};
    ftok_reader *fr = NULL;
    ft_writer *out = NULL, *per = NULL;
    int nv = ft_model_n_virtual(m);   // virtual tokens in front of every row (prompt/prefix tuning)
    r.one_doc = nv > 0;
    char warn[320];
    if (max_len && ft_config_ctx_warning(&m->cfg, max_len, nv, "--max-len", warn, sizeof warn))
        ft_cli_info(PROG, 0, "%s", warn);
    if (!max_len) max_len = ft_model_real_ctx(m, 2048);
    if (max_len < 2) max_len = 2;
    r.cap = (int)max_len;
    if (ft_model_acts_alloc(m, &r.acts, 1, r.cap + nv, 0) < 0) goto done;
    r.tok = ft_malloc((size_t)r.cap * 4); r.pos = ft_malloc((size_t)r.cap * 4);
    r.doc = ft_malloc((size_t)r.cap * 4); r.tgt = ft_malloc((size_t)r.cap * 4);
    r.msk = ft_malloc((size_t)r.cap);
    r.seg_rec = ft_malloc((size_t)r.cap * 4);
    if (!r.tok || !r.pos || !r.doc || !r.tgt || !r.msk || !r.seg_rec) goto done;
    if (per_path && !(r.rec_loss = ft_calloc(1, sizeof(double)))) goto done;
    if (!(fr = ftok_open(input))) goto done;
    const ftok_header *h = ftok_reader_header(fr);
    if (check_tokenizer(m, h, ftok_reader_name(fr)) < 0) goto done;
    if (dump_path) {
        if (!(r.logits = ft_malloc((size_t)64 * m->cfg.vocab_size * sizeof(float)))) goto done;
        if (!(r.dump = ft_writer_open(dump_path))) goto done;
    }
    ftok_record rec = {0};
    ft_progress pr;
    ft_progress_start(&pr, "ppl", 0);
    int got;
    uint64_t nrec = 0;
    while ((got = ftok_next(fr, &rec)) == 1) {
        nrec++;
        for (uint32_t i = 0; i < rec.n; i++)
            if (rec.tokens[i] >= (uint32_t)m->cfg.vocab_size) {
                ft_err("%s: record %llu: token %u at position %u is outside the model's vocabulary (%d)",
                       ftok_reader_name(fr), (unsigned long long)nrec, rec.tokens[i], i, m->cfg.vocab_size);
                got = -1;
                break;
            }
        if (got < 0) break;
        if (dump_path && rec.n > (uint32_t)r.cap) {
            ft_err("%s: record %llu: %u tokens exceed --max-len %d (needed with --dump-logits)",
                   ftok_reader_name(fr), (unsigned long long)nrec, rec.n, r.cap);
            got = -1;
            break;
        }
        // windows [s, s + cap) overlapping by one token
        if (rec.n == 0 || (rec.n == 1 && !dump_path)) continue;   // nothing to predict
        for (uint32_t s = 0;; s += (uint32_t)r.cap - 1) {
            uint32_t e = s + (uint32_t)r.cap < rec.n ? s + (uint32_t)r.cap : rec.n;
            if (row_add(&r, &rec, s, e, (int)(nrec & 0x3fffffff) * 2 + (int)((s / (r.cap - 1)) & 1),
                        (size_t)(nrec - 1)) < 0) {
                got = -1;
                break;
            }
            if (e == rec.n) break;
        }
        if (got < 0) break;
        ft_progress_update(&pr, nrec, NULL);
    }
    ftok_record_free(&rec);
    ft_progress_end(&pr);
    if (got < 0 || row_flush(&r) < 0) goto done;
    if (!r.ntok) {
        ft_err("%s: no target tokens to score (%llu records)", ftok_reader_name(fr), (unsigned long long)nrec);
        goto done;
    }
    double loss = r.loss / (double)r.ntok;
    json_t *o = json_object();
    json_object_set_new(o, "loss", json_real(loss));
    json_object_set_new(o, "ppl", json_real(exp(loss)));
    json_object_set_new(o, "tokens", json_integer((json_int_t)r.ntok));
    json_object_set_new(o, "records", json_integer((json_int_t)nrec));
    if (per_path) {
        json_object_set_new(o, "per_record", json_string(per_path));
        if (!(per = ft_writer_open(per_path))) { json_decref(o); goto done; }
        for (uint64_t k = 0; k < nrec; k++) {
            uint64_t t = k < r.n_rec_cap ? r.rec_tok[k] : 0;
            double l = t ? r.rec_loss[k] / (double)t : 0.0;
            if (ft_writer_printf(per, "{\"index\":%llu,\"loss\":%.10g,\"tokens\":%llu}\n", (unsigned long long)k, l,
                                 (unsigned long long)t) < 0) {
                json_decref(o);
                goto done;
            }
        }
    }
    char *s = json_dumps(o, JSON_REAL_PRECISION(10));
    json_decref(o);
    if (!s) { ft_err("out of memory"); goto done; }
    out = ft_writer_open(co.out);
    int wok = out && ft_writer_printf(out, "%s\n", s) == 0;
    free(s);
    if (!wok) goto done;
    if (r.dump) {
        int c = ft_writer_commit(r.dump);
        r.dump = NULL;
        if (c < 0) goto done;
    }
    if (per) {
        int c = ft_writer_commit(per);
        per = NULL;
        if (c < 0) goto done;
    }
    int c = ft_writer_commit(out);
    out = NULL;
    if (c < 0) goto done;
    ft_cli_info(PROG, 2, "%llu records, %llu target tokens, loss %.6f", (unsigned long long)nrec,
                (unsigned long long)r.ntok, loss);
    rc = 0;
done:
    if (rc) ft_cli_fail(PROG, rc);
    if (out) ft_writer_abort(out);
    if (per) ft_writer_abort(per);
    if (r.dump) ft_writer_abort(r.dump);
    if (fr) ftok_close(fr);
    free(r.tok); free(r.pos); free(r.doc); free(r.tgt); free(r.msk); free(r.logits);
    free(r.seg_rec); free(r.rec_loss); free(r.rec_tok);
    if (r.acts.buf) ft_acts_free(&r.acts);
    ft_eval_close_model(&co, m);
    return rc;
}
