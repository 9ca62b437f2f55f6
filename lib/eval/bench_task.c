// bench_task.c — lm-evaluation-harness's task definitions (bench_task.h): each task's
// doc_to_text / doc_to_choice / doc_to_target and process_docs written out in C, with the
// Python string operations they use (strip, capitalize, HellaSwag's regex clean-up).
#include "eval/bench_task.h"
#include "core/err.h"
#include "eval/metrics.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

// A record that does not fit the task: the message, and -2.
#define BAD(...) (ft_err(__VA_ARGS__), -2)

enum { K_ARC, K_HELLASWAG, K_PIQA, K_WINOGRANDE, K_BOOLQ, K_SCIQ, K_OPENBOOKQA, K_MMLU };

static const ft_bench_task TASKS[] = {
    {"arc_easy", "arc_easy.jsonl", NULL, "validation", "test", "acc,acc_norm", 0, K_ARC},
    {"arc_challenge", "arc_challenge.jsonl", NULL, "validation", "test", "acc,acc_norm", 0, K_ARC},
    {"hellaswag", "hellaswag.jsonl", NULL, "validation", "validation", "acc,acc_norm", 0, K_HELLASWAG},
    {"piqa", "piqa.jsonl", NULL, "validation", "validation", "acc,acc_norm", 0, K_PIQA},
    {"winogrande", "winogrande.jsonl", NULL, "validation", "validation", "acc", 1, K_WINOGRANDE},
    {"boolq", "boolq.jsonl", NULL, "validation", "validation", "acc", 0, K_BOOLQ},
    {"sciq", "sciq.jsonl", NULL, "validation", "test", "acc,acc_norm", 0, K_SCIQ},
    {"openbookqa", "openbookqa.jsonl", NULL, "validation", "test", "acc,acc_norm", 0, K_OPENBOOKQA},
    {"mmlu", "mmlu.jsonl", "mmlu_dev.jsonl", "test", "test", "acc", 0, K_MMLU},
};
#define N_TASKS (sizeof TASKS / sizeof TASKS[0])

const ft_bench_task *ft_bench_task_at(size_t i) { return i < N_TASKS ? &TASKS[i] : NULL; }

const ft_bench_task *ft_bench_task_find(const char *name, const char **subject) {
    *subject = NULL;
    for (size_t i = 0; i < N_TASKS; i++)
        if (!strcmp(name, TASKS[i].name)) return &TASKS[i];
    if (!strncmp(name, "mmlu_", 5) && name[5]) {
        *subject = name + 5;
        return &TASKS[N_TASKS - 1];
    }
    char list[256] = "";
    for (size_t i = 0; i < N_TASKS; i++) {
        if (i) strcat(list, ", ");
        strcat(list, TASKS[i].name);
    }
    ft_err("unknown task '%s' (tasks: %s, mmlu_SUBJECT)", name, list);
    return NULL;
}

int ft_bench_doc_in_subject(const json_t *doc, const char *subject) {
    if (!subject) return 1;
    const char *s = json_string_value(json_object_get(doc, "subject"));
    return s && !strcmp(s, subject);
}

// ---- Python string operations ----------------------------------------------------------
void ft_py_strip(const char *s, size_t n, int left, int right, size_t *b, size_t *e) {
    size_t i = 0, start = n, end = 0;
    int seen = 0;
    while (i < n) {
        utf8proc_int32_t c;
        utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
        if (m <= 0) { c = 0xFFFD; m = 1; }
        if (!ft_py_isspace((uint32_t)c)) {
            if (!seen) start = i;
            seen = 1;
            end = i + (size_t)m;
        }
        i += (size_t)m;
    }
    if (!seen) { *b = *e = left && !right ? n : 0; return; }
    *b = left ? start : 0;
    *e = right ? end : n;
}

size_t ft_utf8_len(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = ft_realloc(b->s, cap);
        if (!p) { b->oom = 1; return; }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }
// The NUL-terminated result (an empty string when nothing was added); NULL on OOM.
static char *sb_take(sbuf *b) {
    if (!b->oom && !b->s) sb_add(b, "", 0);
    if (b->oom) { free(b->s); b->s = NULL; return NULL; }
    char *s = b->s;
    b->s = NULL;
    return s;
}

char *ft_py_capitalize(const char *s, size_t n) {
    sbuf b = {0};
    size_t i = 0;
    int first = 1;
    while (i < n) {
        utf8proc_int32_t c;
        utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
        if (m <= 0) { c = 0xFFFD; m = 1; }
        c = first ? utf8proc_totitle(c) : utf8proc_tolower(c);
        first = 0;
        utf8proc_uint8_t u[4];
        utf8proc_ssize_t k = utf8proc_encode_char(c, u);
        sb_add(&b, (const char *)u, (size_t)k);
        i += (size_t)m;
    }
    return sb_take(&b);
}

char *ft_hellaswag_preprocess(const char *s, size_t n) {
    size_t b0, e0;
    ft_py_strip(s, n, 1, 1, &b0, &e0);
    sbuf a = {0}, c = {0}, d = {0};
    // text.replace(" [title]", ". ")
    for (size_t i = b0; i < e0;) {
        if (e0 - i >= 8 && !memcmp(s + i, " [title]", 8)) { sb_add(&a, ". ", 2); i += 8; }
        else sb_add(&a, s + i++, 1);
    }
    char *t = sb_take(&a);
    if (!t) return NULL;
    // re.sub("\[.*?\]", "", text): a '[' up to the nearest ']' with no newline between
    size_t tn = strlen(t);
    for (size_t i = 0; i < tn;) {
        if (t[i] == '[') {
            size_t j = i + 1;
            while (j < tn && t[j] != ']' && t[j] != '\n') j++;
            if (j < tn && t[j] == ']') { i = j + 1; continue; }
        }
        sb_add(&c, t + i++, 1);
    }
    free(t);
    if (!(t = sb_take(&c))) return NULL;
    // text.replace("  ", " "): one left-to-right pass
    tn = strlen(t);
    for (size_t i = 0; i < tn;) {
        if (t[i] == ' ' && i + 1 < tn && t[i + 1] == ' ') { sb_add(&d, " ", 1); i += 2; }
        else sb_add(&d, t + i++, 1);
    }
    free(t);
    return sb_take(&d);
}

// ---- record fields ---------------------------------------------------------------------
static int str_field(const json_t *doc, const char *key, const char **s, size_t *n) {
    json_t *v = json_object_get(doc, key);
    if (!json_is_string(v)) return BAD("no string field '%s'", key);
    *s = json_string_value(v);
    *n = json_string_length(v);
    return 0;
}

// An array of n >= 1 strings (at path key, or key.sub when sub is given).
static int str_array(const json_t *doc, const char *key, const char *sub, json_t **arr) {
    json_t *v = json_object_get(doc, key);
    if (sub) v = json_object_get(v, sub);
    if (!json_is_array(v) || json_array_size(v) == 0)
        return BAD("field '%s%s%s' is not a non-empty array", key, sub ? "." : "", sub ? sub : "");
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)))
            return BAD("%s%s%s[%zu] is not a string", key, sub ? "." : "", sub ? sub : "", i);
    *arr = v;
    return 0;
}

// Integer label: a JSON integer, a string of digits (HellaSwag's "3") or a boolean (BoolQ's answer).
static int int_field(const json_t *doc, const char *key, long *out) {
    json_t *v = json_object_get(doc, key);
    if (json_is_integer(v)) { *out = (long)json_integer_value(v); return 0; }
    if (json_is_boolean(v)) { *out = json_is_true(v); return 0; }
    const char *s = json_string_value(v);
    if (s && *s) {
        char *end;
        long x = strtol(s, &end, 10);
        if (!*end && s[0] >= '0' && s[0] <= '9') { *out = x; return 0; }
    }
    return BAD("field '%s' is not an integer label", key);
}

// ---- items -----------------------------------------------------------------------------
void ft_bench_item_free(ft_bench_item *it) {
    if (it->ctx) {
        for (size_t k = 0; k < it->n; k++)
            if (k == 0 || it->ctx[k] != it->ctx[0]) free(it->ctx[k]);
    }
    if (it->cont)
        for (size_t k = 0; k < it->n; k++) free(it->cont[k]);
    free(it->ctx); free(it->cont); free(it->chars); free(it->bytes);
    memset(it, 0, sizeof *it);
}

void ft_bench_preds(const ft_bench_item *it, const double *ll, size_t pred[3]) {
    pred[0] = pred[1] = pred[2] = 0;
    for (size_t k = 1; k < it->n; k++) {
        if (ll[k] > ll[pred[0]]) pred[0] = k;
        if (ll[k] / (double)(it->chars[k] ? it->chars[k] : 1) >
            ll[pred[1]] / (double)(it->chars[pred[1]] ? it->chars[pred[1]] : 1))
            pred[1] = k;
        if (ll[k] / (double)(it->bytes[k] ? it->bytes[k] : 1) >
            ll[pred[2]] / (double)(it->bytes[pred[2]] ? it->bytes[pred[2]] : 1))
            pred[2] = k;
    }
}

static int item_alloc(ft_bench_item *it, size_t n) {
    memset(it, 0, sizeof *it);
    it->ctx = ft_calloc(n, sizeof *it->ctx);
    it->cont = ft_calloc(n, sizeof *it->cont);
    it->chars = ft_calloc(n, sizeof *it->chars);
    it->bytes = ft_calloc(n, sizeof *it->bytes);
    it->n = n;
    if (!it->ctx || !it->cont || !it->chars || !it->bytes) { ft_bench_item_free(it); return -1; }
    return 0;
}

static char *dup_n(const char *s, size_t n) {
    char *p = ft_malloc(n + 1);
    if (p) { memcpy(p, s, n); p[n] = 0; }
    return p;
}

// " " + choice (the harness's target_delimiter), malloc'd.
static char *delimited(const char *s, size_t n) {
    char *p = ft_malloc(n + 2);
    if (!p) return NULL;
    p[0] = ' ';
    memcpy(p + 1, s, n);
    p[n + 1] = 0;
    return p;
}

// One context shared by n choices (strings chs[k] of lens[k] bytes); takes ctx.
static int item_shared(ft_bench_item *it, char *ctx, const char *const *chs, const size_t *lens, size_t n, long gold) {
    if (!ctx) return -1;
    if (gold < 0 || (size_t)gold >= n) {
        free(ctx);
        return BAD("the gold label %ld is not an index into the %zu choices", gold, n);
    }
    if (item_alloc(it, n) < 0) { free(ctx); return -1; }
    for (size_t k = 0; k < n; k++) {
        it->ctx[k] = ctx;
        if (!(it->cont[k] = delimited(chs[k], lens[k]))) { ft_bench_item_free(it); return -1; }
        it->chars[k] = ft_utf8_len(chs[k], lens[k]);
        it->bytes[k] = lens[k];
    }
    it->gold = (size_t)gold;
    return 0;
}

static int item_from_array(ft_bench_item *it, char *ctx, const json_t *arr, long gold) {
    size_t n = json_array_size(arr);
    const char **chs = ft_malloc(n * sizeof *chs);
    size_t *lens = ft_malloc(n * sizeof *lens);
    int rc = -1;
    if (chs && lens) {
        for (size_t k = 0; k < n; k++) {
            chs[k] = json_string_value(json_array_get(arr, k));
            lens[k] = json_string_length(json_array_get(arr, k));
        }
        rc = item_shared(it, ctx, chs, lens, n, gold);
        ctx = NULL;
    }
    free(ctx);
    free(chs);
    free(lens);
    return rc;
}

// "Question: {{q}}\nAnswer:" (ARC, PIQA)
static char *question_answer(const char *q, size_t qn) {
    sbuf b = {0};
    sb_str(&b, "Question: ");
    sb_add(&b, q, qn);
    sb_str(&b, "\nAnswer:");
    return sb_take(&b);
}

// Index of the string key (klen bytes) in the array labels, or -1.
static long index_of(const json_t *labels, const char *key, size_t klen) {
    for (size_t i = 0; i < json_array_size(labels); i++) {
        json_t *l = json_array_get(labels, i);
        if (json_string_length(l) == klen && !memcmp(json_string_value(l), key, klen)) return (long)i;
    }
    return -1;
}

static int build_arc(const json_t *doc, int obqa, ft_bench_item *it) {
    const char *q, *key;
    size_t qn, kn;
    json_t *text, *labels;
    int e;
    if ((e = str_field(doc, obqa ? "question_stem" : "question", &q, &qn)) || (e = str_field(doc, "answerKey", &key, &kn)) ||
        (e = str_array(doc, "choices", "text", &text)) || (e = str_array(doc, "choices", "label", &labels)))
        return e;
    if (obqa) {   // choices.label.index(answerKey.lstrip())
        size_t b, en;
        ft_py_strip(key, kn, 1, 0, &b, &en);
        key += b;
        kn = en - b;
    }
    long gold = index_of(labels, key, kn);
    if (gold < 0) return BAD("answerKey '%.*s' is not one of choices.label", (int)kn, key);
    if (json_array_size(labels) != json_array_size(text))
        return BAD("choices.text and choices.label differ in length");
    char *ctx = obqa ? dup_n(q, qn) : question_answer(q, qn);   // OpenBookQA: doc_to_text is question_stem
    return item_from_array(it, ctx, text, gold);
}

static int build_hellaswag(const json_t *doc, ft_bench_item *it) {
    const char *al, *ca, *cb;
    size_t aln, can, cbn;
    json_t *ends;
    long gold;
    int e;
    if ((e = str_field(doc, "activity_label", &al, &aln)) || (e = str_field(doc, "ctx_a", &ca, &can)) ||
        (e = str_field(doc, "ctx_b", &cb, &cbn)) || (e = str_array(doc, "endings", NULL, &ends)) ||
        (e = int_field(doc, "label", &gold)))
        return e;
    // query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize())
    char *cap = ft_py_capitalize(cb, cbn);
    sbuf b = {0};
    sb_add(&b, al, aln);
    sb_str(&b, ": ");
    sb_add(&b, ca, can);
    sb_str(&b, " ");
    if (cap) sb_str(&b, cap); else b.oom = 1;
    free(cap);
    char *raw = sb_take(&b);
    char *ctx = raw ? ft_hellaswag_preprocess(raw, strlen(raw)) : NULL;
    free(raw);
    size_t n = json_array_size(ends);
    char **chs = ft_calloc(n, sizeof *chs);
    size_t *lens = ft_calloc(n, sizeof *lens);
    int rc = -1, ok = chs && lens && ctx;
    for (size_t k = 0; ok && k < n; k++) {
        json_t *s = json_array_get(ends, k);
        ok = (chs[k] = ft_hellaswag_preprocess(json_string_value(s), json_string_length(s))) != NULL;
        if (ok) lens[k] = strlen(chs[k]);
    }
    if (ok) { rc = item_shared(it, ctx, (const char *const *)chs, lens, n, gold); ctx = NULL; }
    free(ctx);
    for (size_t k = 0; chs && k < n; k++) free(chs[k]);
    free(chs);
    free(lens);
    return rc;
}

static int build_piqa(const json_t *doc, ft_bench_item *it) {
    const char *g, *s[2];
    size_t gn, sn[2];
    long gold;
    int e;
    if ((e = str_field(doc, "goal", &g, &gn)) || (e = str_field(doc, "sol1", &s[0], &sn[0])) ||
        (e = str_field(doc, "sol2", &s[1], &sn[1])) || (e = int_field(doc, "label", &gold)))
        return e;
    return item_shared(it, question_answer(g, gn), s, sn, 2, gold);
}

static int build_boolq(const json_t *doc, ft_bench_item *it) {
    const char *p, *q;
    size_t pn, qn;
    long gold;
    int e;
    if ((e = str_field(doc, "passage", &p, &pn)) || (e = str_field(doc, "question", &q, &qn))) return e;
    // super_glue's "label" (1 = True), or google/boolq's "answer" (true/false)
    if ((e = int_field(doc, json_object_get(doc, "label") ? "label" : "answer", &gold))) return e;
    sbuf b = {0};
    sb_add(&b, p, pn);
    sb_str(&b, "\nQuestion: ");
    sb_add(&b, q, qn);
    sb_str(&b, "?\nAnswer:");
    static const char *const yn[2] = {"no", "yes"};
    static const size_t yl[2] = {2, 3};
    return item_shared(it, sb_take(&b), yn, yl, 2, gold);
}

static int build_sciq(const json_t *doc, ft_bench_item *it) {
    static const char *const keys[4] = {"distractor1", "distractor2", "distractor3", "correct_answer"};
    const char *sup, *q, *c[4];
    size_t supn, qn, cn[4];
    int e;
    if ((e = str_field(doc, "support", &sup, &supn)) || (e = str_field(doc, "question", &q, &qn))) return e;
    for (int k = 0; k < 4; k++)
        if ((e = str_field(doc, keys[k], &c[k], &cn[k]))) return e;
    size_t b0, e0;
    ft_py_strip(sup, supn, 1, 0, &b0, &e0);   // {{support.lstrip()}}
    sbuf b = {0};
    sb_add(&b, sup + b0, e0 - b0);
    sb_str(&b, "\nQuestion: ");
    sb_add(&b, q, qn);
    sb_str(&b, "\nAnswer:");
    return item_shared(it, sb_take(&b), c, cn, 4, 3);
}

static int build_winogrande(const json_t *doc, ft_bench_item *it) {
    const char *s, *o[2], *ans;
    size_t sn, on[2], an;
    int e;
    if ((e = str_field(doc, "sentence", &s, &sn)) || (e = str_field(doc, "option1", &o[0], &on[0])) ||
        (e = str_field(doc, "option2", &o[1], &on[1])) || (e = str_field(doc, "answer", &ans, &an)))
        return e;
    const char *us = memchr(s, '_', sn);
    if (!us) return BAD("the sentence has no '_' blank");
    if (an != 1 || (ans[0] != '1' && ans[0] != '2')) return BAD("answer is not \"1\" or \"2\"");
    size_t idx = (size_t)(us - s), tb, te;
    ft_py_strip(s + idx + 1, sn - idx - 1, 1, 1, &tb, &te);   // sentence[idx+1:].strip()
    if (item_alloc(it, 2) < 0) return -1;
    for (int k = 0; k < 2; k++) {
        sbuf b = {0};
        sb_add(&b, s, idx);   // sentence[:idx] + option
        sb_add(&b, o[k], on[k]);
        if (!(it->ctx[k] = sb_take(&b)) || !(it->cont[k] = delimited(s + idx + 1 + tb, te - tb))) {
            ft_bench_item_free(it);
            return -1;
        }
        // acc_norm's len(choice): the choices of a multiple-input task are the contexts
        it->bytes[k] = idx + on[k];
        it->chars[k] = ft_utf8_len(it->ctx[k], it->bytes[k]);
    }
    it->gold = (size_t)(ans[0] - '1');
    return 0;
}

// "{{question.strip()}}\nA. {{choices[0]}}\nB. ...\nD. {{choices[3]}}\nAnswer:"
static int mmlu_question(sbuf *b, const json_t *doc, long *gold) {
    const char *q;
    size_t qn, qb, qe;
    json_t *chs;
    int e;
    if ((e = str_field(doc, "question", &q, &qn)) || (e = str_array(doc, "choices", NULL, &chs)) ||
        (e = int_field(doc, "answer", gold)))
        return e;
    if (json_array_size(chs) != 4) return BAD("MMLU has 4 choices, this record %zu", json_array_size(chs));
    if (*gold < 0 || *gold > 3) return BAD("the gold label %ld is not an index into the 4 choices", *gold);
    ft_py_strip(q, qn, 1, 1, &qb, &qe);
    sb_add(b, q + qb, qe - qb);
    for (int k = 0; k < 4; k++) {
        char head[5] = {'\n', (char)('A' + k), '.', ' ', 0};
        sb_str(b, head);
        sb_add(b, json_string_value(json_array_get(chs, k)), json_string_length(json_array_get(chs, k)));
    }
    sb_str(b, "\nAnswer:");
    return 0;
}

static int build_mmlu(const json_t *doc, const json_t *shots, int k, ft_bench_item *it) {
    const char *subj;
    size_t subn;
    long gold;
    int e;
    if ((e = str_field(doc, "subject", &subj, &subn))) return e;
    sbuf b = {0};
    // description: "The following are multiple choice questions (with answers) about {' '.join(subject.split('_'))}.\n\n"
    sb_str(&b, "The following are multiple choice questions (with answers) about ");
    for (size_t i = 0; i < subn; i++) sb_add(&b, subj[i] == '_' ? " " : subj + i, 1);
    sb_str(&b, ".\n\n");
    int got = 0;
    for (size_t i = 0; got < k && i < json_array_size(shots); i++) {   // first_n of the subject's dev docs
        const json_t *d = json_array_get(shots, i);
        const char *ds = json_string_value(json_object_get(d, "subject"));
        if (!ds || strlen(ds) != subn || memcmp(ds, subj, subn)) continue;
        long g;
        if ((e = mmlu_question(&b, d, &g))) { free(b.s); ft_err_ctx("few-shot example %zu", i + 1); return e; }
        char ans[4] = {' ', (char)('A' + g), 0};
        sb_str(&b, ans);
        sb_str(&b, "\n\n");
        got++;
    }
    if (got < k) {
        free(b.s);
        return BAD("%d-shot: the few-shot split has only %d examples of subject '%.*s'", k, got, (int)subn, subj);
    }
    if ((e = mmlu_question(&b, doc, &gold))) { free(b.s); return e; }
    static const char *const letters[4] = {"A", "B", "C", "D"};
    static const size_t ll[4] = {1, 1, 1, 1};
    return item_shared(it, sb_take(&b), letters, ll, 4, gold);
}

int ft_bench_item_build(const ft_bench_task *t, const json_t *doc, const json_t *shots, int k, ft_bench_item *it) {
    memset(it, 0, sizeof *it);
    if (k > 0 && !t->fewshot_file)
        return BAD("%s: no few-shot examples: lm-eval draws them from the train split, which the data does not ship",
                      t->name);
    switch (t->kind) {
    case K_ARC: return build_arc(doc, 0, it);
    case K_OPENBOOKQA: return build_arc(doc, 1, it);
    case K_HELLASWAG: return build_hellaswag(doc, it);
    case K_PIQA: return build_piqa(doc, it);
    case K_WINOGRANDE: return build_winogrande(doc, it);
    case K_BOOLQ: return build_boolq(doc, it);
    case K_SCIQ: return build_sciq(doc, it);
    case K_MMLU: return build_mmlu(doc, shots, k, it);
    }
    return ft_err("%s: no builder", t->name);
}
