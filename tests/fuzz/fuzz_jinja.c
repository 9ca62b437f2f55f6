// fuzz_jinja.c — libFuzzer target for the Jinja interpreter, the span derivation and the
// record conversion, with the rendering budget on (small limits, so every run is fast and
// a runaway template must stop with the budget's error). Input: the template, then
// optionally a NUL byte and the record as JSON (its keys are the template's variables:
// messages, tools, bos_token, ...; without one, or when it is not a JSON object, a small
// conversation with tools). When the template parses it is rendered on the record, its
// loss spans are derived from the record's messages, and the record goes through
// ft_template_record (the records-to-segments path of ft-template) with options picked
// from the input's length. Every outcome must be a clean success or a clean error.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "template/jinja.h"
#include "template/template.h"

static const char *VARS =
    "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"h\\u00e9 u\"},"
    " {\"role\": \"assistant\", \"content\": \"a1\", \"tool_calls\": [{\"id\": \"x\", \"function\": {\"name\": \"f\","
    " \"arguments\": {\"k\": [1, 2.5, null]}}}]}, {\"role\": \"user\", \"content\": \"u2\"},"
    " {\"role\": \"assistant\", \"content\": \" a2 \"}], \"tools\": [{\"type\": \"function\"}],"
    " \"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"add_generation_prompt\": false}";

static const ft_jinja_limits LIMITS = {
    .iterations = 4000, .output = 64 << 10, .items = 4000, .depth = 32, .memory = 8 << 20,
};

static void check_spans(const ft_span *sp, size_t n, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (sp[i].start > sp[i].end || sp[i].end > len || (i && sp[i].start < sp[i - 1].end)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static json_t *dflt;
    if (!dflt) dflt = json_loads(VARS, 0, NULL);
    const uint8_t *sep = memchr(data, 0, size);
    size_t tlen = sep ? (size_t)(sep - data) : size;
    json_t *vars = NULL;
    if (sep) {
        vars = json_loadb((const char *)sep + 1, size - tlen - 1, 0, NULL);
        if (vars && !json_is_object(vars)) { json_decref(vars); vars = NULL; }
    }
    if (!vars) vars = json_incref(dflt);   // no record, or not a JSON object

    ft_jinja *t = ft_jinja_parse((const char *)data, tlen, "fuzz");
    if (!t) { json_decref(vars); ft_err_clear(); return 0; }
    ft_jinja_set_limits(t, &LIMITS);
    char *out;
    size_t len, *marks, nmarks;
    if (ft_jinja_render_marked(t, vars, &out, &len, &marks, &nmarks) == 0) {
        if (strlen(out) > len || len > LIMITS.output) abort();
        for (size_t i = 0; i < nmarks; i++)
            if (marks[2 * i] > marks[2 * i + 1] || marks[2 * i + 1] > len) abort();
        free(out);
        free(marks);
    }
    ft_jinja_free(t);

    ft_template *tp = ft_template_from_string((const char *)data, tlen, "fuzz", "<s>", "</s>");
    if (!tp) { json_decref(vars); ft_err_clear(); return 0; }
    ft_template_set_limits(tp, &LIMITS);
    json_t *msgs = json_object_get(vars, "messages");
    if (json_is_array(msgs)) {
        char *text;
        ft_span *sp;
        size_t n;
        int unloc = 0;
        if (ft_template_spans(tp, msgs, vars, &text, &len, &sp, &n, &unloc) == 0) {
            check_spans(sp, n, len);
            free(text);
            free(sp);
        }
    }
    ft_template_opts o = {.format = FT_FMT_AUTO, .train_on_inputs = size % 3 == 1, .last_turn_only = size % 3 == 2,
                          .generation_prompt = size % 5 == 0, .system = size % 7 == 0 ? "sys" : NULL};
    json_t *rec = NULL;
    int unloc = 0;
    if (ft_template_record(tp, &o, vars, &rec, &unloc) == 0) {
        char *line = ft_template_dump(rec);
        if (!line) abort();
        free(line);
        json_decref(rec);
    }
    ft_template_free(tp);
    json_decref(vars);
    ft_err_clear();
    return 0;
}
