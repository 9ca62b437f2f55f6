// generate.c — `ft-eval --model M generate PROMPTS.jsonl`: for each record, build the prompt
// (segment JSONL from ft-template --generation-prompt, {"messages"} rendered with the model's
// chat template and generation prompt, or {"prompt"} raw text), generate with the KV cache
// (greedy by default; temperature / top-k / top-p with --seed), stop at EOS / end-of-turn
// tokens, --stop strings or --max-new-tokens, and write the record with "output" added.
// --batch N: N records decode together (continuous batching, run_batched), outputs in order.
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "core/io.h"
#include "template/jinja.h"
#include "core/jsonl.h"
#include "model/model.h"
#include "model_common.h"
#include "model/virtual.h"
#include "data/sample.h"
#include "format/segments.h"
#include "template/template.h"
#include "tokenize/tokenizer.h"

static const char *PROG = "ft-eval generate";
#define MAX_STOPS 16

static void help(void) {
    printf("Usage: ft-eval --model M [--adapter DIR]... generate [OPTIONS] [PROMPTS.jsonl]\n\n"
           "Generate an answer for every JSONL record (stdin when no file or '-') and write the record\n"
           "with \"output\" added. Prompts: {\"segments\":[{\"text\",\"train\"}...]} (the text before the first\n"
           "train segment, e.g. from ft-template --generation-prompt), {\"messages\":[...]} (rendered with\n"
           "the model's chat template and the generation prompt) or {\"prompt\": \"raw text\"} (BOS added\n"
           "when the tokenizer adds one). Generation stops at the model's EOS / end-of-turn tokens.\n\n"
           "Options:\n"
           "  --max-new-tokens N  at most N new tokens (default 256)\n"
           "  --temperature T     sampling temperature (default 0 = greedy)\n"
           "  --top-k K           sample among the K most likely tokens (default off)\n"
           "  --top-p P           nucleus sampling mass (default 1 = off)\n"
           "  --seed S            RNG seed (default 0); record i uses seed S + i\n"
           "  --stop STR          stop when the output contains STR (cut there; repeatable)\n"
           "  --max-len N         context length: prompt + output (default: the model's, at most 4096;\n"
           "                      above its max_position_embeddings: a warning)\n"
           "  --batch N           decode N records at once, a finished one's slot taken by the next\n"
           "                      (continuous batching; output order and greedy outputs as with 1;\n"
           "                      default 16 with native weights, else 1; prompt/prefix tuning: 1)\n"
           "  --skip-bad          skip (and count) bad records instead of failing\n"
           "  --template-limit K=V[,K=V...]\n"
           "                      the chat template's rendering budget (keys and defaults as\n"
           "                      ft-template's: iterations, output, items, depth, memory)\n"
           "%s\nExit status: 0 ok, 1 bad data or model, 2 usage.\n",
           ft_eval_common_help);
}

typedef struct {
    ft_model *m;
    ft_tokenizer *tok;
    ft_template *tpl;         // chat template (NULL when the model has none)
    char *bos_str, *eos_str;
    ft_kvcache kv;
    ft_sampler smp;
    float *logits;            // (V,)
    int32_t *ids;             // (ctx,)
    uint32_t *gen;            // (max_new,)
    int ctx, max_new;
    int tok_vocab;            // tokenizer's vocabulary size (<= model's)
    const char *stops[MAX_STOPS];
    int n_stops;
    int32_t stop_ids[64];
    int n_stop_ids;
    uint64_t seed;
} gen_state;

static char *token_str(const ft_tokenizer *t, int32_t id) {
    if (id < 0) return ft_strdup("");
    size_t len;
    const char *s = ft_tokenizer_piece(t, (uint32_t)id, &len);
    if (!s) return ft_strdup("");
    char *o = ft_malloc(len + 1);
    if (o) { memcpy(o, s, len); o[len] = 0; }
    return o;
}

// The prompt text of a record (malloc'd) and whether BOS should be added. -2 = bad record.
static int prompt_of(gen_state *g, json_t *rec, char **text, int *add_bos) {
    *add_bos = 0;
    json_t *segs = json_object_get(rec, "segments"), *msgs = json_object_get(rec, "messages"),
           *pr = json_object_get(rec, "prompt");
    if (segs) {   // the prompt: the text before the first train segment (the answer starts there)
        ft_segments sg;
        int e = ft_segments_parse(segs, &sg);
        if (e < 0) return e;
        sg.text[ft_segments_prompt_len(&sg)] = 0;
        *text = sg.text;
        sg.text = NULL;
        ft_segments_free(&sg);
        return 0;
    }
    if (json_is_array(msgs)) {
        if (!g->tpl) return ft_err("{\"messages\"} needs a chat template, and %s has none", g->m->path), -2;
        size_t len;
        return ft_template_render(g->tpl, msgs, NULL, 1, text, &len) < 0 ? -2 : 0;
    }
    if (json_is_string(pr)) {
        *text = ft_strdup(json_string_value(pr));
        *add_bos = ft_tokenizer_add_bos_default(g->tok) && ft_tokenizer_bos(g->tok) >= 0;
        return *text ? 0 : -1;
    }
    return ft_err("record has none of \"segments\", \"messages\", \"prompt\""), -2;
}

// Valid UTF-8 copy of s: each maximal invalid subpart becomes one U+FFFD, as Python's
// decode(errors="replace") and Rust's from_utf8_lossy (HF tokenizers' decoders) do.
static char *utf8_fix(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), i = 0;
    char *o = ft_malloc(3 * n + 1), *w = o;
    if (!o) return NULL;
    while (i < n) {
        unsigned c = s[i];
        int need = 0;
        unsigned lo = 0x80, hi = 0xBF;   // valid range of the second byte
        if (c < 0x80) { *w++ = (char)c; i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c >= 0xE0 && c <= 0xEF) { need = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        int k = 0;   // continuation bytes that fit
        while (need && k < need && i + 1 + k < n) {
            unsigned d = s[i + 1 + k];
            if (k == 0 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) break;
            k++;
        }
        if (need && k == need) { memcpy(w, s + i, (size_t)need + 1); w += need + 1; }
        else { memcpy(w, "\xEF\xBF\xBD", 3); w += 3; }
        i += (size_t)k + 1;
    }
    *w = 0;
    return o;
}

static int is_stop_id(const gen_state *g, int id) {
    for (int i = 0; i < g->n_stop_ids; i++)
        if (g->stop_ids[i] == id) return 1;
    return 0;
}

// The prompt's token ids into g->ids; their count, or -2 = bad record (too long / bad text).
static int encode_prompt(gen_state *g, const char *text, int add_bos) {
    uint32_t *pid = NULL;
    size_t np = 0;
    if (ft_tokenizer_encode(g->tok, text, strlen(text), 0, &pid, &np) < 0) return -2;
    size_t n = np + (add_bos ? 1 : 0);
    if (n == 0) { free(pid); return ft_err("empty prompt"), -2; }
    if (n + 1 > (size_t)g->ctx) {
        free(pid);
        return ft_err("prompt of %zu tokens does not fit the context of %d (--max-len)", n, g->ctx), -2;
    }
    size_t k = 0;
    if (add_bos) g->ids[k++] = ft_tokenizer_bos(g->tok);
    for (size_t i = 0; i < np; i++) g->ids[k++] = (int32_t)pid[i];
    free(pid);
    return (int)n;
}

// Generate for one prompt; *out malloc'd. -2 = bad record (prompt too long / bad text).
static int run_one(gen_state *g, const char *text, int add_bos, uint64_t seed, char **out) {
    int n = encode_prompt(g, text, add_bos);
    if (n < 0) return n;
    ft_kvcache_reset(&g->kv);
    g->smp.state = seed;
    if (ft_model_decode(g->m, &g->kv, g->ids, n, g->logits) < 0) return -1;
    int ng = 0;
    char *txt = NULL;
    size_t tl = 0;
    while (ng < g->max_new) {
        // a model's embedding may have more rows than the tokenizer has tokens: never pick those
        for (int i = g->tok_vocab; i < g->m->cfg.vocab_size; i++) g->logits[i] = -INFINITY;
        int next = ft_sample(&g->smp, g->logits);
        if (is_stop_id(g, next)) break;
        g->gen[ng++] = (uint32_t)next;
        if (g->n_stops) {
            free(txt);
            txt = NULL;
            if (ft_tokenizer_decode_ex(g->tok, g->gen, (size_t)ng, 1, &txt, &tl) < 0) return -1;
            int hit = 0;
            for (int s = 0; s < g->n_stops && !hit; s++) {
                char *at = strstr(txt, g->stops[s]);
                if (at) { *at = 0; hit = 1; }
            }
            if (hit) { *out = txt; return 0; }
        }
        if (g->kv.n + 1 > g->kv.max_T) break;   // context full (the cache also holds virtual tokens)
        int32_t t = next;
        if (ng < g->max_new && ft_model_decode(g->m, &g->kv, &t, 1, g->logits) < 0) { free(txt); return -1; }
    }
    free(txt);
    if (ft_tokenizer_decode_ex(g->tok, g->gen, (size_t)ng, 1, out, &tl) < 0) return -1;
    return 0;
}

// ---- continuous batching: --batch N sequences decode together ---------------------------------
// Each slot holds one record's sequence; every step runs the next token of all active slots as
// the rows of one forward (ft_model_decode_batch), a finished slot takes the next record at
// once (its prompt prefilled alone), and finished records are written in input order. A slot
// samples with its record's own RNG stream (seed + record number), so outputs equal the
// one-at-a-time path's: bit for bit with compact weights (a row's logits do not depend on the
// other rows: lib/model/model_kvbatch.c), up to f32 rounding of other matmul shapes otherwise.
typedef struct {
    int active;
    json_t *rec;
    size_t idx;               // record number (output order)
    uint64_t rng;
    int ng;
    uint32_t *gen;            // (max_new + 1)
    int32_t next;             // token fed at the next step
} gen_slot;

typedef struct {
    char **line;              // finished output lines by record number, from `base`
    size_t base, n, cap;
} out_queue;

// The record with "output" set, as a JSONL line (malloc'd); consumes rec and answer.
static char *finish_line(json_t *rec, char *answer) {
    char *fixed = utf8_fix(answer);
    free(answer);
    char *line = NULL;
    if (fixed && json_object_set_new(rec, "output", json_string(fixed)) == 0) line = ft_json_dumps(rec);
    free(fixed);
    json_decref(rec);
    if (!line) ft_err("out of memory");
    return line;
}

// Put line idx in the queue and write every line that is next in order.
static int queue_put(out_queue *q, ft_writer *out, size_t idx, char *line) {
    size_t at = idx - q->base;
    if (at >= q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 64;
        while (nc <= at) nc *= 2;
        char **l = ft_realloc(q->line, nc * sizeof *l);
        if (!l) { free(line); return -1; }
        memset(l + q->cap, 0, (nc - q->cap) * sizeof *l);
        q->line = l;
        q->cap = nc;
    }
    q->line[at] = line;
    size_t k = 0;
    while (k < q->cap && q->line[k]) {
        int bad = ft_writer_printf(out, "%s\n", q->line[k]) < 0;
        free(q->line[k]);
        q->line[k++] = NULL;
        if (bad) return -1;
    }
    if (k) {   // shift the rest down
        memmove(q->line, q->line + k, (q->cap - k) * sizeof *q->line);
        memset(q->line + q->cap - k, 0, k * sizeof *q->line);
        q->base += k;
        if (ft_writer_flush(out) < 0) return -1;
    }
    return 0;
}

// Slot sl sampled from logits: append, or finish the record (stop id, --stop string, max new
// tokens, full context). 1 = finished (its line queued), 0 = continues, -1 = error.
static int slot_step(gen_state *g, ft_kvbatch *kb, int s, gen_slot *sl, float *logits, out_queue *q, ft_writer *out) {
    for (int i = g->tok_vocab; i < g->m->cfg.vocab_size; i++) logits[i] = -INFINITY;
    g->smp.state = sl->rng;
    int next = ft_sample(&g->smp, logits);
    sl->rng = g->smp.state;
    char *txt = NULL;
    size_t tl;
    int fin = is_stop_id(g, next);
    if (!fin) {
        sl->gen[sl->ng++] = (uint32_t)next;
        if (g->n_stops) {
            if (ft_tokenizer_decode_ex(g->tok, sl->gen, (size_t)sl->ng, 1, &txt, &tl) < 0) return -1;
            for (int k = 0; k < g->n_stops && !fin; k++) {
                char *at = strstr(txt, g->stops[k]);
                if (at) { *at = 0; fin = 2; }
            }
            if (!fin) { free(txt); txt = NULL; }
        }
        if (!fin && (sl->ng >= g->max_new || kb->len[s] + 1 > kb->max_T)) fin = 1;
    }
    if (!fin) { sl->next = next; return 0; }
    if (!txt && ft_tokenizer_decode_ex(g->tok, sl->gen, (size_t)sl->ng, 1, &txt, &tl) < 0) return -1;
    char *line = finish_line(sl->rec, txt);
    sl->rec = NULL;
    sl->active = 0;
    if (!line || queue_put(q, out, sl->idx, line) < 0) return -1;
    return 1;
}

// The whole input through S slots. *nrec / *nbad counted as the one-at-a-time loop does.
static int run_batched(gen_state *g, ft_kvbatch *kb, ft_jsonl *in, ft_writer *out, int skip_bad, uint64_t *nrec,
                       uint64_t *nbad) {
    int S = kb->S, V = g->m->cfg.vocab_size, rc = -1, eof = 0;
    gen_slot *sl = ft_calloc((size_t)S, sizeof *sl);
    float *logits = ft_malloc((size_t)S * V * sizeof(float));
    int32_t *tok = ft_malloc((size_t)S * sizeof *tok), *slot = ft_malloc((size_t)S * sizeof *slot);
    int *rows = ft_malloc((size_t)S * sizeof *rows), *who = ft_malloc((size_t)S * sizeof *who);
    int32_t *pslot = ft_malloc((size_t)g->ctx * sizeof *pslot);
    out_queue q = {0};
    if (!sl || !logits || !tok || !slot || !rows || !who || !pslot) goto done;
    for (int s = 0; s < S; s++)
        if (!(sl[s].gen = ft_malloc(((size_t)g->max_new + 1) * sizeof(uint32_t)))) goto done;
    for (;;) {
        for (int s = 0; s < S && !eof; s++) {   // refill free slots with the next records
            while (!sl[s].active && !eof) {
                json_t *rec;
                int got = ft_jsonl_next(in, &rec);
                if (got == 0) { eof = 1; break; }
                if (got == -1) goto done;
                if (got == -2) {
                    if (!skip_bad) goto done;
                    ft_cli_info(PROG, 1, "skipped: %s", ft_errmsg());
                    (*nbad)++;
                    continue;
                }
                char *text = NULL;
                int add_bos, n = prompt_of(g, rec, &text, &add_bos);
                if (n == 0) n = encode_prompt(g, text, add_bos);
                free(text);
                if (n < 0) {
                    json_decref(rec);
                    ft_err_ctx("%s:%zu", ft_jsonl_name(in), ft_jsonl_lineno(in));
                    if (n == -2 && skip_bad) { ft_cli_info(PROG, 1, "skipped: %s", ft_errmsg()); (*nbad)++; continue; }
                    goto done;
                }
                sl[s] = (gen_slot){1, rec, (size_t)*nrec, g->seed + *nrec, 0, sl[s].gen, 0};
                (*nrec)++;
                ft_kvbatch_reset(kb, s);
                for (int i = 0; i < n; i++) pslot[i] = s;
                int last = n - 1;
                if (ft_model_decode_batch(g->m, kb, g->ids, pslot, n, logits, &last, 1) < 0 ||
                    slot_step(g, kb, s, &sl[s], logits, &q, out) < 0)
                    goto done;
            }
        }
        int na = 0;
        for (int s = 0; s < S; s++)
            if (sl[s].active) { tok[na] = sl[s].next; slot[na] = s; rows[na] = na; who[na++] = s; }
        if (!na) break;
        if (ft_model_decode_batch(g->m, kb, tok, slot, na, logits, rows, na) < 0) goto done;
        for (int r = 0; r < na; r++)
            if (slot_step(g, kb, who[r], &sl[who[r]], logits + (size_t)r * V, &q, out) < 0) goto done;
    }
    rc = 0;
done:
    for (int s = 0; sl && s < S; s++) { json_decref(sl[s].rec); free(sl[s].gen); }
    for (size_t k = 0; k < q.cap; k++) free(q.line[k]);
    free(q.line); free(sl); free(logits); free(tok); free(slot); free(rows); free(who); free(pslot);
    return rc;
}

int ft_eval_generate(int argc, char **argv) {
    ft_eval_common co = {0};
    gen_state g = {0};
    ft_kvbatch kb = {0};
    const char *input = NULL;
    long max_new = 256, top_k = 0, max_len = 0, batch = 0;
    double temp = 0, top_p = 1;
    uint64_t seed = 0;
    int skip_bad = 0;
    ft_jinja_limits lim;
    ft_jinja_limits_default(&lim);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = ft_eval_common_opt(&co, PROG, argc, argv, &i);
        if (c < 0) return FT_EXIT_USAGE;
        if (c) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { help(); return 0; }
        if (!strcmp(a, "--version")) { ft_cli_version("ft-eval"); return 0; }
        if (!strcmp(a, "--skip-bad")) { skip_bad = 1; continue; }
        if (!strcmp(a, "--template-limit")) {   // the chat template's rendering budget, as ft-template's
            if (i + 1 >= argc) return ft_cli_usage(PROG, "option %s needs a value", a);
            if (ft_jinja_limits_parse(argv[++i], &lim)) return ft_cli_usage(PROG, "--template-limit: %s", ft_errmsg());
            continue;
        }
        int val = !strcmp(a, "--max-new-tokens") || !strcmp(a, "--temperature") || !strcmp(a, "--top-k") ||
                  !strcmp(a, "--top-p") || !strcmp(a, "--seed") || !strcmp(a, "--stop") || !strcmp(a, "--max-len") ||
                  !strcmp(a, "--batch");
        if (val && i + 1 >= argc) return ft_cli_usage(PROG, "option %s needs a value", a);
        int bad = 0;
        if (!strcmp(a, "--max-new-tokens")) bad = ft_parse_long(a, argv[++i], 0, 1 << 20, &max_new);
        else if (!strcmp(a, "--temperature")) bad = ft_parse_double(a, argv[++i], 0, 100, &temp);
        else if (!strcmp(a, "--top-k")) bad = ft_parse_long(a, argv[++i], 0, 1 << 26, &top_k);
        else if (!strcmp(a, "--top-p")) bad = ft_parse_double(a, argv[++i], 1e-9, 1, &top_p);
        else if (!strcmp(a, "--seed")) bad = ft_parse_u64(a, argv[++i], &seed);
        else if (!strcmp(a, "--max-len")) bad = ft_parse_long(a, argv[++i], 2, 1 << 20, &max_len);
        else if (!strcmp(a, "--batch")) bad = ft_parse_long(a, argv[++i], 1, FT_QT_FUSED_MAX_N, &batch);
        else if (!strcmp(a, "--stop")) {
            if (g.n_stops == MAX_STOPS) return ft_cli_usage(PROG, "at most %d --stop strings", MAX_STOPS);
            if (!argv[i + 1][0]) return ft_cli_usage(PROG, "--stop needs a non-empty string");
            g.stops[g.n_stops++] = argv[++i];
        } else if (a[0] == '-' && a[1]) return ft_cli_usage(PROG, "unknown option '%s'", a);
        else if (input) return ft_cli_usage(PROG, "one input file at most");
        else input = a;
        if (bad < 0) return ft_cli_usage(PROG, "%s", ft_errmsg());
    }
    if (!co.model) return ft_cli_usage(PROG, "--model is required");
    ft_model *m = ft_eval_open_model(&co);
    if (!m) return ft_cli_fail(PROG, FT_EXIT_DATA);
    int rc = FT_EXIT_DATA;
    ft_jsonl *in = NULL;
    ft_writer *out = NULL;
    uint64_t nrec = 0, nbad = 0;
    g.m = m;
    g.max_new = (int)max_new;
    g.seed = seed;
    if (!m->tokenizer_path) { ft_err("%s: the model has no tokenizer (tokenizer.json)", m->path); goto done; }
    if (!(g.tok = ft_tokenizer_load(m->tokenizer_path))) goto done;
    g.tok_vocab = (int)ft_tokenizer_vocab_size(g.tok);
    if (g.tok_vocab > m->cfg.vocab_size) g.tok_vocab = m->cfg.vocab_size;
    const uint32_t *sid;
    size_t ns = ft_tokenizer_stop_ids(g.tok, &sid);
    for (size_t i = 0; i < ns && g.n_stop_ids < 64; i++) g.stop_ids[g.n_stop_ids++] = (int32_t)sid[i];
    for (int i = 0; i < m->cfg.n_eos && g.n_stop_ids < 64; i++) g.stop_ids[g.n_stop_ids++] = m->cfg.eos_ids[i];
    g.bos_str = token_str(g.tok, ft_tokenizer_bos(g.tok));
    g.eos_str = token_str(g.tok, ft_tokenizer_eos(g.tok));
    // the model's chat template as ft-template finds it (lib/template/template.h), with the bos_token /
    // eos_token of its tokenizer_config.json or GGUF (HF apply_chat_template's), else the
    // tokenizer's BOS/EOS strings
    if (ft_template_of_model(m->path, &g.tpl) < 0) goto done;
    if (g.tpl) ft_template_set_limits(g.tpl, &lim);
    if (g.tpl && (!g.bos_str || !g.eos_str ||
                  ft_template_set_tokens(g.tpl, ft_template_bos(g.tpl)[0] ? NULL : g.bos_str,
                                         ft_template_eos(g.tpl)[0] ? NULL : g.eos_str) < 0))
        goto done;
    // prompt/prefix tuning: the cache holds the virtual tokens in front of the ctx real ones
    int nv = ft_model_n_virtual(m);
    char warn[320];
    if (max_len && ft_config_ctx_warning(&m->cfg, max_len, nv, "--max-len", warn, sizeof warn))
        ft_cli_info(PROG, 0, "%s", warn);
    g.ctx = (int)(max_len ? max_len : ft_model_real_ctx(m, 4096));
    if (nv && g.ctx < 2) g.ctx = 2;
    if (!batch) batch = m->qtstore ? 16 : 1;
    if (m->virt) batch = 1;   // the virtual tokens run through ft_model_decode
    if (!g.bos_str || !g.eos_str ||
        (batch > 1 ? ft_kvbatch_init(&kb, m, (int)batch, g.ctx, g.ctx < 1024 ? g.ctx : 1024)
                   : ft_kvcache_init(&g.kv, m, g.ctx + nv, g.ctx < 1024 ? g.ctx : 1024)) < 0 ||
        ft_sampler_init(&g.smp, m->cfg.vocab_size, (float)temp, (int)top_k, (float)top_p, seed) < 0)
        goto done;
    g.logits = ft_malloc((size_t)m->cfg.vocab_size * sizeof(float));
    g.ids = ft_malloc((size_t)g.ctx * sizeof(int32_t));
    g.gen = ft_malloc(((size_t)g.max_new + 1) * sizeof(uint32_t));
    if (!g.logits || !g.ids || !g.gen) goto done;
    if (!(in = ft_jsonl_open(input, 0)) || !(out = ft_writer_open(co.out))) goto done;
    if (batch > 1 && run_batched(&g, &kb, in, out, skip_bad, &nrec, &nbad) < 0) goto done;
    json_t *rec;
    int got;
    while (batch == 1 && (got = ft_jsonl_next(in, &rec)) != 0) {
        if (got == -1) goto done;
        if (got == -2) {
            if (!skip_bad) goto done;
            ft_cli_info(PROG, 1, "skipped: %s", ft_errmsg());
            nbad++;
            continue;
        }
        char *text = NULL, *answer = NULL;
        int add_bos, r = prompt_of(&g, rec, &text, &add_bos);
        if (r == 0) r = run_one(&g, text, add_bos, seed + nrec, &answer);
        free(text);
        if (r < 0) {
            json_decref(rec);
            ft_err_ctx("%s:%zu", ft_jsonl_name(in), ft_jsonl_lineno(in));
            if (r == -2 && skip_bad) { ft_cli_info(PROG, 1, "skipped: %s", ft_errmsg()); nbad++; continue; }
            goto done;
        }
        char *fixed = utf8_fix(answer);
        free(answer);
        if (!fixed || json_object_set_new(rec, "output", json_string(fixed)) < 0) {
            free(fixed);
            json_decref(rec);
            ft_err("out of memory");
            goto done;
        }
        free(fixed);
        char *line = ft_json_dumps(rec);
        json_decref(rec);
        if (!line || ft_writer_printf(out, "%s\n", line) < 0 || ft_writer_flush(out) < 0) { free(line); goto done; }
        free(line);
        nrec++;
    }
    if (ft_writer_commit(out) < 0) { out = NULL; goto done; }
    out = NULL;
    ft_cli_info(PROG, 2, "%llu records generated, %llu skipped", (unsigned long long)nrec, (unsigned long long)nbad);
    if (nbad) ft_cli_info(PROG, 1, "%llu bad records skipped", (unsigned long long)nbad);
    rc = 0;
done:
    if (rc) ft_cli_fail(PROG, rc);
    if (out) ft_writer_abort(out);
    if (in) ft_jsonl_close(in);
    ft_template_free(g.tpl);
    if (g.tok) ft_tokenizer_free(g.tok);
    free(g.bos_str); free(g.eos_str); free(g.logits); free(g.ids); free(g.gen);
    if (g.kv.k) ft_kvcache_free(&g.kv);
    if (kb.k) ft_kvbatch_free(&kb);
    ft_sampler_free(&g.smp);
    ft_eval_close_model(&co, m);
    return rc;
}
