// ft-tokenize — text (JSONL with a text field, or ft-template segments) to FTOK token streams
// or HF-style {"input_ids","labels"} JSONL, and back (--decode). Records are read by the main
// thread, parsed and encoded by -j worker threads (lib/tokenize/tok_record.h: segments and masks), and
// written in input order.
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/err.h"
#include "format/ftok.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "tokenize/tok_record.h"
#include "tokenize/tokenizer.h"

#define PROG "ft-tokenize"
#define BATCH 4096                    // records per parallel batch
#define BATCH_BYTES ((size_t)16 << 20)   // ... or this much text

typedef struct {
    char *line; size_t len, cap; size_t lineno;
    int rc;                 // 0 ok, -2 bad record (msg), -1 fatal
    char *msg;
    ft_tok_ids ids;
    uint8_t *mask; size_t mask_cap;
    int pair; size_t split; // a preference pair: ids = chosen ++ rejected, split = chosen's tokens
    int label;              // a labelled record ({"label": bool}, KTO): 1/0; -1 none
    char *json;             // --jsonl / --decode output line
} rec;

typedef struct {
    const ft_tokenizer *tok;
    const char *field, *name;
    int flags, jsonl, decode;
    rec *recs; size_t n;
    size_t next;
    pthread_mutex_t mu;
    ft_tok_ws *ws[256];     // one work space (and word cache) per thread, kept across batches
} job;

typedef struct { job *jb; int k; } worker_arg;

static void usage(void) {
    printf("Usage: ft-tokenize --tokenizer TOK [OPTIONS] [FILE...]\n\n"
           "Tokenize JSONL records into an FTOK stream (or JSONL with --jsonl); --decode goes back.\n"
           "TOK is a tokenizer.json, a model directory holding one, or a .gguf file.\n\n"
           "Input records: {\"segments\":[{\"text\",\"train\"}...]} from ft-template (texts concatenated,\n"
           "special tokens recognised, no BOS/EOS, a token is a target when it starts in a train segment)\n"
           "or {\"text\": ...} (every token a target, BOS/EOS as the tokenizer adds them).\n"
           "Preference pairs from ft-template ({\"chosen\":{\"segments\"},\"rejected\":{\"segments\"}}) become one\n"
           "FTOK record each (both sides, the header's pairs flag set; --jsonl: chosen_/rejected_input_ids\n"
           "and _labels); records with a boolean \"label\" (KTO's {\"prompt\",\"completion\",\"label\"} through\n"
           "ft-template) set the labels flag and carry it; a file holds one kind of record.\n\n"
           "Options:\n"
           "  --tokenizer TOK   tokenizer to use (required)\n"
           "  --field NAME      text field of plain records (default: text)\n"
           "  --add-bos, --no-add-bos, --add-eos, --no-add-eos\n"
           "                    override the tokenizer's BOS/EOS defaults for text records\n"
           "  --jsonl           write {\"input_ids\":[...],\"labels\":[...]} lines (labels -100 = not trained)\n"
           "  --decode          read FTOK (or --jsonl output) and write {\"text\": ...} lines\n"
           "  --info            print the tokenizer's vocabulary size, id and special tokens, and exit\n"
           "  -j, --threads N   worker threads (default 1); output order is the input order\n"
           "  --skip-bad        skip bad records (counted on stderr) instead of failing\n"
           "  -o FILE           output (default stdout; \".zst\" compresses)\n"
           "  -q, -v            quieter / more verbose\n"
           "  -h, --help, --version\n\n"
           "Exit codes: 0 ok, 1 bad data or runtime failure, 2 usage.\n");
}

static int fail_rec(rec *r, const char *name, const char *fmt, const char *why) {
    char buf[2048];
    snprintf(buf, sizeof buf, fmt, name, r->lineno, why);
    r->msg = strdup(buf);
    r->rc = -2;
    return -2;
}

static char *json_string_lossy(const char *s, size_t n) {
    // JSON strings must be UTF-8: replace each invalid byte by U+FFFD, as HF decode shows it
    char *o = malloc(n * 3 + 1);
    if (!o) return NULL;
    size_t k = 0, i = 0;
    while (i < n) {
        long bad = ft_utf8_invalid_at(s + i, n - i);
        size_t good = bad < 0 ? n - i : (size_t)bad;
        memcpy(o + k, s + i, good); k += good; i += good;
        if (bad >= 0) { memcpy(o + k, "\xEF\xBF\xBD", 3); k += 3; i++; }
    }
    o[k] = 0;
    json_t *v = json_object();
    json_object_set_new(v, "text", json_stringn(o, k));
    free(o);
    char *d = ft_json_dumps(v);
    json_decref(v);
    return d;
}

static char *jsonl_line(const json_t *obj, const char *field, const ft_tok_ids *ids, const uint8_t *mask, int pair,
                        size_t split) {
    json_t *o = json_object();
    for (int s = 0; s < 1 + pair; s++) {
        json_t *in = json_array(), *lab = json_array();
        size_t a = s ? split : 0, e = pair && !s ? split : ids->n;
        for (size_t i = a; i < e; i++) {
            json_array_append_new(in, json_integer(ids->ids[i]));
            json_array_append_new(lab, json_integer(mask[i] ? (json_int_t)ids->ids[i] : -100));
        }
        json_object_set_new(o, !pair ? "input_ids" : s ? "rejected_input_ids" : "chosen_input_ids", in);
        json_object_set_new(o, !pair ? "labels" : s ? "rejected_labels" : "chosen_labels", lab);
    }
    const char *k; json_t *v;
    json_object_foreach((json_t *)obj, k, v)
        if (strcmp(k, "segments") && strcmp(k, field) && !json_object_get(o, k) && (!pair || (strcmp(k, "chosen") && strcmp(k, "rejected"))))
            json_object_set(o, k, v);   // passthrough fields (id, reference, ...)
    char *d = ft_json_dumps(o);
    json_decref(o);
    return d;
}

// Parse, check and encode one record (worker side).
static void do_record(job *jb, ft_tok_ws *ws, rec *r) {
    const char *name = jb->name;
    char *line = r->line;
    size_t len = r->len;
    if (len && line[len - 1] == '\r') len--;
    if (r->lineno == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) { fail_rec(r, name, "%s:%zu: %s", "byte order mark at the start of the file (JSONL must be UTF-8 without BOM)"); return; }
    long bad = ft_utf8_invalid_at(line, len);
    if (bad >= 0) { char w[64]; snprintf(w, sizeof w, "invalid UTF-8 at byte %ld of the line", bad + 1); fail_rec(r, name, "%s:%zu: %s", w); return; }
    json_error_t e;
    json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
    if (!obj) { char w[256]; snprintf(w, sizeof w, "invalid JSON at column %d: %s", e.column, e.text); fail_rec(r, name, "%s:%zu: %s", w); return; }
    if (!json_is_object(obj)) { json_decref(obj); fail_rec(r, name, "%s:%zu: %s", "expected a JSON object"); return; }
    r->pair = ft_tok_record_is_pair(obj);
    const json_t *lab = json_object_get(obj, "label");
    r->label = -1;
    if (lab && !r->pair) {
        if (!json_is_boolean(lab)) { fail_rec(r, name, "%s:%zu: %s", "\"label\" must be true or false (desirable or not)"); goto out; }
        r->label = json_is_true(lab);
    }
    int got = r->pair ? ft_tok_record_pair(jb->tok, ws, obj, &r->ids, &r->mask, &r->mask_cap, &r->split)
                      : ft_tok_record(jb->tok, ws, obj, jb->field, jb->flags, &r->ids, &r->mask, &r->mask_cap);
    if (got == -2) { fail_rec(r, name, "%s:%zu: %s", ft_errmsg()); goto out; }
    if (got) { r->rc = -1; r->msg = strdup(ft_errmsg()); goto out; }
    int segs = json_object_get(obj, "segments") != NULL;
    if (jb->jsonl) r->json = jsonl_line(obj, segs ? "segments" : jb->field, &r->ids, r->mask, r->pair, r->split);
    r->rc = 0;
out:
    json_decref(obj);
}

static void *worker(void *arg) {
    job *jb = ((worker_arg *)arg)->jb;
    int k = ((worker_arg *)arg)->k;
    if (!jb->ws[k]) jb->ws[k] = ft_tok_ws_new();
    ft_tok_ws *ws = jb->ws[k];
    for (;;) {
        pthread_mutex_lock(&jb->mu);
        size_t i = jb->next++;
        pthread_mutex_unlock(&jb->mu);
        if (i >= jb->n) break;
        if (!ws) { jb->recs[i].rc = -1; jb->recs[i].msg = strdup("out of memory"); continue; }
        do_record(jb, ws, &jb->recs[i]);
    }
    return NULL;
}

static void run_batch(job *jb, int threads) {
    jb->next = 0;
    worker_arg args[256];
    if (threads <= 1 || jb->n < 2) { args[0] = (worker_arg){jb, 0}; worker(&args[0]); return; }
    pthread_t th[256];
    int nt = threads > 256 ? 256 : threads;
    for (int i = 0; i < nt; i++) { args[i] = (worker_arg){jb, i}; pthread_create(&th[i], NULL, worker, &args[i]); }
    for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
}

static void print_info(const ft_tokenizer *t) {
    const uint32_t *stop;
    size_t ns = ft_tokenizer_stop_ids(t, &stop);
    printf("kind %s\nvocab_size %u\ntokenizer_id %016llx\nbos %d\neos %d\nunk %d\npad %d\nadd_bos %d\nadd_eos %d\nstop",
           ft_tokenizer_kind(t), ft_tokenizer_vocab_size(t), (unsigned long long)ft_tokenizer_id(t), ft_tokenizer_bos(t),
           ft_tokenizer_eos(t), ft_tokenizer_unk(t), ft_tokenizer_pad(t), ft_tokenizer_add_bos_default(t),
           ft_tokenizer_add_eos_default(t));
    for (size_t i = 0; i < ns; i++) printf(" %u", stop[i]);
    printf("\n");
}

static int decode_write(const ft_tokenizer *t, ft_writer *w, const uint32_t *ids, size_t n) {
    char *s; size_t sl;
    if (ft_tokenizer_decode(t, ids, n, &s, &sl)) return -1;
    char *j = json_string_lossy(s, sl);
    free(s);
    int rc = (!j || ft_writer_printf(w, "%s\n", j)) ? -1 : 0;
    free(j);
    return rc;
}

// FTOK records from a path; stdin is first copied to a temporary file (its first bytes were
// already taken by the format sniffing).
static int decode_ftok(const ft_tokenizer *t, ft_writer *w, const char *path, ft_reader *r) {
    char tmp[] = "/tmp/ft-tokenize-XXXXXX";
    const char *src = path;
    if (!strcmp(path, "-")) {
        int fd = mkstemp(tmp);
        if (fd < 0) return ft_err("cannot create a temporary file for stdin");
        FILE *f = fdopen(fd, "wb");
        char buf[1 << 16];
        ssize_t k;
        while ((k = ft_reader_read(r, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)k, f);
        fclose(f);
        if (k < 0) { unlink(tmp); return -1; }
        src = tmp;
    }
    ftok_reader *fr = ftok_open(src);
    int rc = fr ? 0 : -1;
    ftok_record rec = {0};
    while (fr && (rc = ftok_next(fr, &rec)) == 1) {
        if (decode_write(t, w, rec.tokens, rec.n)) {
            ft_err_ctx("%s: record %llu", path, (unsigned long long)ftok_reader_count(fr));
            rc = -1;
            break;
        }
    }
    ftok_record_free(&rec);
    if (fr) ftok_close(fr);
    if (src == tmp) unlink(tmp);
    return rc < 0 ? -1 : 0;
}

static int decode_jsonl(const ft_tokenizer *t, ft_writer *w, ft_reader *r) {
    const char *name = ft_reader_name(r);
    char *line; size_t len, lineno = 0;
    int g;
    while ((g = ft_reader_getline(r, &line, &len, FT_JSONL_MAX_LINE_DEFAULT)) == 1) {
        lineno++;
        json_error_t e;
        json_t *o = json_loadb(line, len, 0, &e);
        json_t *ids = json_object_get(o, "input_ids");
        size_t n = json_array_size(ids);
        uint32_t *v = malloc((n + 1) * sizeof *v);
        int ok = json_is_array(ids) && v;
        for (size_t i = 0; ok && i < n; i++) {
            json_t *x = json_array_get(ids, i);
            if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > UINT32_MAX) ok = 0;
            else v[i] = (uint32_t)json_integer_value(x);
        }
        json_decref(o);
        if (!ok) ft_err("%s:%zu: expected a JSON object with \"input_ids\": an array of token ids", name, lineno);
        else if (decode_write(t, w, v, n)) { ft_err_ctx("%s:%zu", name, lineno); ok = 0; }
        free(v);
        if (!ok) return -1;
    }
    return g < 0 ? -1 : 0;
}

static int decode_main(const ft_tokenizer *t, char **files, int nfiles, const char *out) {
    ft_writer *w = ft_writer_open(out);
    if (!w) return ft_cli_fail(PROG, FT_EXIT_DATA);
    const char *stdin_only[] = {"-"};
    if (nfiles == 0) { files = (char **)stdin_only; nfiles = 1; }
    for (int f = 0; f < nfiles; f++) {
        ft_reader *r = ft_reader_open(files[f]);
        if (!r) goto fail;
        char magic[4] = {0};
        ssize_t got = ft_reader_peek(r, magic, 4);
        int rc;
        if (got < 0) rc = -1;
        else if (got == 4 && !memcmp(magic, "FTOK", 4)) {
            if (strcmp(files[f], "-")) { ft_reader_close(r); r = NULL; }
            rc = decode_ftok(t, w, files[f], r);
        } else rc = decode_jsonl(t, w, r);
        if (r) ft_reader_close(r);
        if (rc) goto fail;
    }
    if (ft_writer_commit(w)) return ft_cli_fail(PROG, FT_EXIT_DATA);
    return 0;
fail:
    ft_writer_abort(w);
    return ft_cli_fail(PROG, FT_EXIT_DATA);
}

int main(int argc, char **argv) {
    ft_cli_log_install(PROG);   // the library's warnings (e.g. an unknown GGUF pre-tokenizer), on stderr
    const char *tokpath = NULL, *field = "text", *out = "-";
    int jsonl = 0, decode = 0, info = 0, skip_bad = 0, bos = -1, eos = -1;
    long threads = 1;
    char *files_mem[argc], **files = files_mem;
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEEDARG() do { if (i + 1 >= argc) return ft_cli_usage(PROG, "option '%s' needs a value", a); } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        else if (!strcmp(a, "--version")) { ft_cli_version(PROG); return 0; }
        else if (!strcmp(a, "-q")) ft_verbosity = 0;
        else if (!strcmp(a, "-v")) ft_verbosity = 2;
        else if (!strcmp(a, "--tokenizer")) { NEEDARG(); tokpath = argv[++i]; }
        else if (!strcmp(a, "--field")) { NEEDARG(); field = argv[++i]; }
        else if (!strcmp(a, "-o")) { NEEDARG(); out = argv[++i]; }
        else if (!strcmp(a, "-j") || !strcmp(a, "--threads")) {
            NEEDARG();
            if (ft_parse_long(a, argv[++i], 1, 256, &threads)) return ft_cli_usage(PROG, "%s", ft_errmsg());
        }
        else if (!strcmp(a, "--jsonl")) jsonl = 1;
        else if (!strcmp(a, "--decode")) decode = 1;
        else if (!strcmp(a, "--info")) info = 1;
        else if (!strcmp(a, "--skip-bad")) skip_bad = 1;
        else if (!strcmp(a, "--add-bos")) bos = 1;
        else if (!strcmp(a, "--no-add-bos")) bos = 0;
        else if (!strcmp(a, "--add-eos")) eos = 1;
        else if (!strcmp(a, "--no-add-eos")) eos = 0;
        else if (a[0] == '-' && a[1]) return ft_cli_usage(PROG, "unknown option '%s'", a);
        else files[nfiles++] = argv[i];
    }
    if (!tokpath) return ft_cli_usage(PROG, "--tokenizer is required");
    ft_tokenizer *tok = ft_tokenizer_load(tokpath);
    if (!tok) return ft_cli_fail(PROG, FT_EXIT_DATA);
    if (info) { print_info(tok); ft_tokenizer_free(tok); return 0; }
    if (decode) { int rc = decode_main(tok, files, nfiles, out); ft_tokenizer_free(tok); return rc; }

    int flags = 0;
    if (bos < 0) bos = ft_tokenizer_add_bos_default(tok);
    if (eos < 0) eos = ft_tokenizer_add_eos_default(tok);
    if (bos == ft_tokenizer_add_bos_default(tok) && eos == ft_tokenizer_add_eos_default(tok) && (bos || eos))
        flags = FT_TOK_DEFAULT_SPECIAL;
    else flags = (bos ? FT_TOK_BOS : 0) | (eos ? FT_TOK_EOS : 0);

    // the FTOK header is written with the first record, which says whether the file holds pairs
    ftok_header h = {FTOK_VERSION, FTOK_FLAG_MASK, ft_tokenizer_vocab_size(tok), ft_tokenizer_id(tok)};
    ftok_writer *fw = NULL;
    ft_writer *jw = NULL;
    int kind = -1;   // -1 no record yet, 0 plain records, 1 preference pairs
    if (jsonl && !(jw = ft_writer_open(out))) { ft_tokenizer_free(tok); return ft_cli_fail(PROG, FT_EXIT_DATA); }

    job jb = {.tok = tok, .field = field, .flags = flags, .jsonl = jsonl};
    pthread_mutex_init(&jb.mu, NULL);
    jb.recs = calloc(BATCH, sizeof *jb.recs);
    const char *stdin_only[] = {"-"};
    if (nfiles == 0) { files = (char **)stdin_only; nfiles = 1; }
    int rc = 0;
    size_t nrec = 0, nbad = 0, ntok = 0;
    ft_progress pg;   // on a TTY only: lines done of all the inputs' (when each is a plain file)
    uint64_t total_lines = 0, lines_before = 0;
    for (int f = 0; f < nfiles; f++) {
        uint64_t c = ft_progress_count_lines(files[f]);
        if (!c) { total_lines = 0; break; }
        total_lines += c;
    }
    ft_progress_start(&pg, "tokenize", total_lines);
    for (int f = 0; f < nfiles && rc == 0; f++) {
        ft_reader *r = ft_reader_open(files[f]);
        if (!r) { rc = -1; break; }
        jb.name = ft_reader_name(r);
        size_t lineno = 0;
        int eof = 0;
        while (!eof && rc == 0) {
            jb.n = 0;
            size_t bytes = 0;
            while (jb.n < BATCH && bytes < BATCH_BYTES) {
                char *line; size_t len;
                int g = ft_reader_getline(r, &line, &len, FT_JSONL_MAX_LINE_DEFAULT);
                if (g == 0) { eof = 1; break; }
                if (g < 0) { ft_err_ctx("%s:%zu", jb.name, lineno + 1); rc = -1; break; }
                lineno++;
                rec *x = &jb.recs[jb.n++];
                if (x->cap < len + 1) {
                    free(x->line);
                    x->cap = len + 1 > 256 ? len + 1 : 256;
                    if (!(x->line = malloc(x->cap))) { rc = ft_err("out of memory"); break; }
                }
                memcpy(x->line, line, len); x->line[len] = 0;
                bytes += len;
                x->len = len; x->lineno = lineno; x->rc = -1;
                free(x->msg); x->msg = NULL; free(x->json); x->json = NULL;
            }
            if (rc) break;
            run_batch(&jb, (int)threads);
            for (size_t i = 0; i < jb.n && rc == 0; i++) {
                rec *x = &jb.recs[i];
                if (x->rc == -2 && skip_bad) { nbad++; ft_cli_info(PROG, 2, "skipped: %s", x->msg); continue; }
                if (x->rc) { ft_err("%s", x->msg ? x->msg : "error"); rc = -1; break; }
                int xk = x->pair ? 1 : x->label >= 0 ? 2 : 0;
                static const char *KIND[] = {"plain records", "preference pairs", "labelled records"}, *ONE[] = {"a plain record", "a preference pair", "a labelled record"};
                if (kind >= 0 && kind != xk) {
                    rc = ft_err("%s:%zu: %s among %s: a file holds one kind of record (plain, preference pairs or labelled)", jb.name,
                                x->lineno, ONE[xk], KIND[kind]);
                    break;
                }
                if (kind < 0) {
                    kind = xk;
                    if (kind == 1) h.flags |= FTOK_FLAG_PAIRS;
                    if (kind == 2) h.flags |= FTOK_FLAG_LABELS;
                    if (!jsonl && !(fw = ftok_writer_open(out, &h))) { rc = -1; break; }
                }
                nrec++; ntok += x->ids.n;
                if (jsonl) { if (!x->json || ft_writer_printf(jw, "%s\n", x->json)) rc = -1; }
                else if (x->ids.n > UINT32_MAX) rc = ft_err("record too long");
                else if (x->pair ? ftok_write_pair(fw, x->ids.ids, x->mask, (uint32_t)x->ids.n, (uint32_t)x->split)
                         : x->label >= 0 ? ftok_write_labeled(fw, x->ids.ids, x->mask, (uint32_t)x->ids.n, (uint32_t)x->label)
                                         : ftok_write(fw, x->ids.ids, x->mask, (uint32_t)x->ids.n)) rc = -1;
            }
            char extra[48];
            snprintf(extra, sizeof extra, "%zu tokens", ntok);
            ft_progress_update(&pg, lines_before + lineno, extra);
        }
        lines_before += lineno;
        ft_reader_close(r);
    }
    ft_progress_end(&pg);
    for (size_t i = 0; i < BATCH; i++) {
        free(jb.recs[i].line); free(jb.recs[i].msg); free(jb.recs[i].json); free(jb.recs[i].mask);
        ft_tok_ids_free(&jb.recs[i].ids);
    }
    free(jb.recs);
    for (int i = 0; i < 256; i++) ft_tok_ws_free(jb.ws[i]);
    pthread_mutex_destroy(&jb.mu);
    if (rc == 0 && !jsonl && !fw && !(fw = ftok_writer_open(out, &h))) rc = -1;   // no record: a header alone
    if (rc == 0) rc = jsonl ? ft_writer_commit(jw) : ftok_writer_commit(fw);
    else if (jsonl) ft_writer_abort(jw);
    else if (fw) ftok_writer_abort(fw);
    ft_tokenizer_free(tok);
    if (rc) return ft_cli_fail(PROG, FT_EXIT_DATA);
    if (nbad) ft_cli_info(PROG, 1, "skipped %zu bad records", nbad);
    ft_cli_info(PROG, 2, "%zu records, %zu tokens", nrec, ntok);
    return 0;
}
