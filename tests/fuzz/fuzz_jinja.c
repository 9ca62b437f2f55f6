// fuzz_jinja.c — libFuzzer target for the Jinja interpreter and the span derivation: the
// input is a template; when it parses, it is rendered on a small conversation (with tools)
// and its loss spans are derived. Every outcome must be a clean success or a clean error.
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "jinja.h"
#include "template.h"

static const char *VARS =
    "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"h\\u00e9 u\"},"
    " {\"role\": \"assistant\", \"content\": \"a1\", \"tool_calls\": [{\"id\": \"x\", \"function\": {\"name\": \"f\","
    " \"arguments\": {\"k\": [1, 2.5, null]}}}]}, {\"role\": \"user\", \"content\": \"u2\"},"
    " {\"role\": \"assistant\", \"content\": \" a2 \"}], \"tools\": [{\"type\": \"function\"}],"
    " \"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"add_generation_prompt\": false}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static json_t *vars;
    if (!vars) vars = json_loads(VARS, 0, NULL);
    ft_jinja *t = ft_jinja_parse((const char *)data, size, "fuzz");
    if (!t) return 0;
    char *out;
    size_t len;
    if (ft_jinja_render(t, vars, &out, &len) == 0) free(out);
    ft_jinja_free(t);
    ft_template *tp = ft_template_from_string((const char *)data, size, "fuzz", "<s>", "</s>");
    if (!tp) return 0;
    char *text;
    ft_span *sp;
    size_t n;
    int unloc = 0;
    if (ft_template_spans(tp, json_object_get(vars, "messages"), vars, &text, &len, &sp, &n, &unloc) == 0) {
        for (size_t i = 0; i < n; i++)
            if (sp[i].start > sp[i].end || sp[i].end > len || (i && sp[i].start < sp[i - 1].end)) abort();
        free(text);
        free(sp);
    }
    ft_template_free(tp);
    ft_err_clear();
    return 0;
}
