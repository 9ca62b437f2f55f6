// bench_task.h — the benchmark tasks of `ft-eval bench` as lm-evaluation-harness defines them
// (lm_eval/tasks/{arc,hellaswag,piqa,winogrande,super_glue/boolq,sciq,openbookqa,mmlu/default}):
// from one record of the dataset (the JSONL that scripts/bench-data.sh converts, the dataset's
// own fields) to the harness's loglikelihood requests — context(s), continuations (target
// delimiter " " + choice), the gold index — and the lengths its acc_norm (len(choice): code
// points) and acc_bytes (UTF-8 bytes) divide by. WinoGrande is the harness's "multiple input"
// case: the candidate goes into the context and the shared rest of the sentence is scored.
// MMLU is the default letter format with its subject description, 0- or k-shot from the dev
// split (first k of the subject, the harness's first_n sampler).
#ifndef FT_BENCH_TASK_H
#define FT_BENCH_TASK_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    const char *name;          // "arc_easy"
    const char *file;          // data file in the data directory: "arc_easy.jsonl"
    const char *fewshot_file;  // where k-shot examples come from ("mmlu_dev.jsonl"), or NULL: 0-shot only
    const char *split;         // the split the file holds ("validation", "test")
    const char *lm_eval_split; // the split lm-eval scores the task on
    const char *metrics;       // what lm-eval's YAML reports: "acc,acc_norm" or "acc"
    int multiple_input;        // 1: one context per choice (WinoGrande)
    int kind;                  // internal: which builder
} ft_bench_task;

// One document's requests.
typedef struct {
    size_t n;                  // choices
    char **ctx;                // (n) context of each choice; all equal (the same string) unless multiple_input
    char **cont;               // (n) continuation of each choice: " " + choice (or " " + WinoGrande's target)
    size_t *chars;             // (n) len(choice) in code points: acc_norm's divisor
    size_t *bytes;             // (n) len(choice.encode()): acc_bytes's divisor
    size_t gold;
} ft_bench_item;

// The task table (NULL-terminated names through ft_bench_task_at); NULL when out of range.
const ft_bench_task *ft_bench_task_at(size_t i);
// A task by name. "mmlu_SUBJECT" (e.g. mmlu_anatomy) is MMLU restricted to one subject:
// *subject is set to "anatomy" (NULL for other names; points into name). NULL + ft_err.
const ft_bench_task *ft_bench_task_find(const char *name, const char **subject);

// Does the record belong to the subject (MMLU's "subject" field; always 1 when subject NULL)?
int ft_bench_doc_in_subject(const json_t *doc, const char *subject);

// Build the requests of doc. shots: the few-shot pool (the task's fewshot_file as an array,
// or NULL), k: number of examples (0: zero-shot). 0 ok; -2 + ft_err for a record that does not
// fit the task (a missing field, a gold label outside the choices); -1 otherwise.
int ft_bench_item_build(const ft_bench_task *t, const json_t *doc, const json_t *shots, int k, ft_bench_item *it);
void ft_bench_item_free(ft_bench_item *it);
// Predictions from the choices' log-likelihoods ll (it->n): pred[0] argmax ll (acc), pred[1]
// argmax ll / chars (acc_norm), pred[2] argmax ll / bytes (acc_bytes); ties to the first, as
// numpy's argmax.
void ft_bench_preds(const ft_bench_item *it, const double *ll, size_t pred[3]);

// Python's str.strip/lstrip/rstrip() (Unicode whitespace, str.isspace) on UTF-8: the byte
// range [*b, *e) of s[0..n) that remains.
void ft_py_strip(const char *s, size_t n, int left, int right, size_t *b, size_t *e);
// Number of code points of valid UTF-8.
size_t ft_utf8_len(const char *s, size_t n);
// HellaSwag's preprocess(): strip, " [title]" -> ". ", drop "[...]" (non-greedy, within a
// line), "  " -> " ". Malloc'd, NUL-terminated; NULL on allocation failure.
char *ft_hellaswag_preprocess(const char *s, size_t n);
// Python's str.capitalize(): the first code point title-cased, the rest lower-cased
// (utf8proc's simple case mappings). Malloc'd.
char *ft_py_capitalize(const char *s, size_t n);

#endif
