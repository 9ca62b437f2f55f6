// ppl.c — `ft-eval --model M ppl DATA.tok`: mean cross-entropy over the target tokens of an
// FTOK stream and its perplexity, as JSON {"loss","ppl","tokens","records"}.
// The scoring (rows packed with document masking, windows of long records overlapping by
// one token, prompt/prefix tuning one record per row) is lib/eval/eval_ppl.c; here: flags, the
// stream's checks (tokenizer id, vocabulary), reports. Under mpirun (a build with MPI,
// docs/distributed.md) record k is scored by rank k mod N and rank 0 writes the merged report.
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "format/ftok.h"
#include "core/io.h"
#include "eval/eval_ppl.h"
#include "model/model.h"
#include "model_common.h"
#include "model/virtual.h"
#include "tokenize/tokenizer.h"
#include "train/dist.h"

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
           "                     order (for parity checks; records must fit in --max-len; one process)\n"
           "Under `mpirun -np N` (a build with MPI) the records are dealt to the N ranks (record k to rank\n"
           "k mod N; DATA must be a file) and rank 0 writes the merged report and --per-record file.\n"
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
    int R = ft_dist_size(), me = ft_dist_rank();   // dist: record k is rank k mod R's
    if (R > 1 && dump_path) return ft_cli_usage(PROG, "--dump-logits runs on one process, not under mpirun -np %d", R);
    if (R > 1 && (!input || !strcmp(input, "-")))
        return ft_cli_usage(PROG, "under mpirun every rank reads DATA: give a file, not stdin");
    ft_model *m = ft_eval_open_model(&co);
    if (!m) return ft_cli_fail(PROG, FT_EXIT_DATA);
    int rc = FT_EXIT_DATA;
    ft_ppl *r = NULL;
    ft_writer *dump = NULL;
    ftok_reader *fr = NULL;
    ft_writer *out = NULL, *per = NULL;
    int nv = ft_model_n_virtual(m);   // virtual tokens in front of every row (prompt/prefix tuning)
    char warn[320];
    if (max_len && ft_config_ctx_warning(&m->cfg, max_len, nv, "--max-len", warn, sizeof warn))
        ft_cli_info(PROG, 0, "%s", warn);
    if (!max_len) max_len = ft_model_real_ctx(m, 2048);
    if (max_len < 2) max_len = 2;
    int cap = (int)max_len;
    if (!(fr = ftok_open(input))) goto done;
    const ftok_header *h = ftok_reader_header(fr);
    if (check_tokenizer(m, h, ftok_reader_name(fr)) < 0) goto done;
    if (h->flags & (FTOK_FLAG_PAIRS | FTOK_FLAG_LABELS)) {   // a record is not one text there
        ft_err("%s: a %s stream: ppl scores plain records (its held-out score is ft-train --val with the objective)",
               ftok_reader_name(fr), (h->flags & FTOK_FLAG_PAIRS) ? "preference-pair" : "labelled");
        goto done;
    }
    if (dump_path && !(dump = ft_writer_open(dump_path))) goto done;
    if (!(r = ft_ppl_new(m, cap, per_path != NULL, dump))) goto done;
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
        if (dump_path && rec.n > (uint32_t)cap) {
            ft_err("%s: record %llu: %u tokens exceed --max-len %d (needed with --dump-logits)",
                   ftok_reader_name(fr), (unsigned long long)nrec, rec.n, cap);
            got = -1;
            break;
        }
        if ((nrec - 1) % (uint64_t)R == (uint64_t)me && ft_ppl_add(r, rec.tokens, rec.mask, rec.n, (size_t)(nrec - 1)) < 0)
            got = -1;
        if (got < 0) break;
        ft_progress_update(&pr, nrec, NULL);
    }
    ftok_record_free(&rec);
    ft_progress_end(&pr);
    if (got < 0 || ft_ppl_finish(r) < 0) goto done;
    double tot[2] = {ft_ppl_loss_sum(r), (double)ft_ppl_targets(r)};   // dist: the ranks' sums
    if (ft_dist_allreduce_f64(tot, 2) < 0) goto done;
    double *rec_loss = NULL;   // dist: per record (loss, targets) of every rank, on every rank
    if (per_path && R > 1) {
        if (!(rec_loss = ft_calloc(2 * (nrec ? nrec : 1), sizeof *rec_loss))) goto done;
        for (uint64_t k = (uint64_t)me; k < nrec; k += (uint64_t)R) {
            uint64_t t;
            ft_ppl_record(r, (size_t)k, &rec_loss[2 * k], &t);
            rec_loss[2 * k + 1] = (double)t;
        }
        if (ft_dist_allreduce_f64(rec_loss, 2 * nrec) < 0) { free(rec_loss); goto done; }
    }
    if (me != 0) {   // dist: rank 0 writes
        free(rec_loss);
        rc = 0;
        goto done;
    }
    uint64_t ntok = (uint64_t)tot[1];
    if (!ntok) {
        ft_err("%s: no target tokens to score (%llu records)", ftok_reader_name(fr), (unsigned long long)nrec);
        goto done;
    }
    double loss = tot[0] / (double)ntok;
    json_t *o = json_object();
    json_object_set_new(o, "loss", json_real(loss));
    json_object_set_new(o, "ppl", json_real(exp(loss)));
    json_object_set_new(o, "tokens", json_integer((json_int_t)ntok));
    json_object_set_new(o, "records", json_integer((json_int_t)nrec));
    if (per_path) {
        json_object_set_new(o, "per_record", json_string(per_path));
        if (!(per = ft_writer_open(per_path))) { json_decref(o); free(rec_loss); goto done; }
        for (uint64_t k = 0; k < nrec; k++) {
            uint64_t t;
            double l;
            if (rec_loss) {
                l = rec_loss[2 * k];
                t = (uint64_t)rec_loss[2 * k + 1];
            } else {
                ft_ppl_record(r, (size_t)k, &l, &t);
            }
            l = t ? l / (double)t : 0.0;
            if (ft_writer_printf(per, "{\"index\":%llu,\"loss\":%.10g,\"tokens\":%llu}\n", (unsigned long long)k, l,
                                 (unsigned long long)t) < 0) {
                json_decref(o);
                free(rec_loss);
                goto done;
            }
        }
    }
    free(rec_loss);
    char *s = json_dumps(o, JSON_REAL_PRECISION(10));
    json_decref(o);
    if (!s) { ft_err("out of memory"); goto done; }
    out = ft_writer_open(co.out);
    int wok = out && ft_writer_printf(out, "%s\n", s) == 0;
    free(s);
    if (!wok) goto done;
    if (dump) {
        int c = ft_writer_commit(dump);
        dump = NULL;
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
                (unsigned long long)ntok, loss);
    rc = 0;
done:
    if (rc) ft_cli_fail(PROG, rc);
    if (out) ft_writer_abort(out);
    if (per) ft_writer_abort(per);
    if (dump) ft_writer_abort(dump);
    if (fr) ftok_close(fr);
    ft_ppl_free(r);
    ft_eval_close_model(&co, m);
    return rc;
}
