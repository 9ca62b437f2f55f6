// template_pair.c — preference records for ft-template: {"prompt","chosen","rejected"} with
// strings (a user prompt, assistant answers), the conversational form (prompt a list of
// messages, chosen/rejected the assistant turn(s)) and the implicit-prompt form (chosen and
// rejected two whole conversations sharing their first messages, as TRL's extract_prompt).
// Each side is rendered with the chat template as prompt + side; the loss falls on the side's
// assistant messages only (and the marker closing each). Output:
//   {"chosen":{"segments":[...]},"rejected":{"segments":[...]}, passthrough fields}
// and, with --generation-prompt, the prompt rendered for generation with the chosen answer
// held out as "reference" (held-out prompts for ft-eval generate).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "template/template.h"

int ft_template_is_pair(const json_t *rec) {
    return json_object_get(rec, "chosen") != NULL || json_object_get(rec, "rejected") != NULL;
}

static json_t *msg(const char *role, json_t *content) {
    json_t *m = json_object();
    json_object_set_new(m, "role", json_string(role));
    json_object_set(m, "content", content);
    return m;
}

static int is_role(const json_t *m, const char *r) {
    const char *s = json_string_value(json_object_get(m, "role"));
    return s && !strcmp(s, r);
}

// A list of messages (each an object with a non-empty string role and a string content).
static int check_msgs(const json_t *a, const char *key) {
    if (!json_is_array(a)) return ft_err("\"%s\" must be a string or a list of messages", key);
    size_t i;
    json_t *m;
    json_array_foreach(a, i, m) {
        const json_t *r = json_object_get(m, "role"), *c = json_object_get(m, "content");
        if (!json_is_object(m)) return ft_err("%s[%zu] is not an object", key, i);
        if (!json_is_string(r) || !json_string_length(r)) return ft_err("%s[%zu].role must be a non-empty string", key, i);
        if (!json_is_string(c)) return ft_err("%s[%zu].content must be a string", key, i);
    }
    return 0;
}

// A side's answer: a string (one assistant message) or assistant turn(s); not empty.
static json_t *side_msgs(const json_t *v, const char *key) {
    if (json_is_string(v)) {
        if (!json_string_length(v)) { ft_err("\"%s\" is an empty completion", key); return NULL; }
        json_t *a = json_array();
        json_array_append_new(a, msg("assistant", (json_t *)v));
        return a;
    }
    if (check_msgs(v, key)) return NULL;
    size_t i, n_text = 0;
    json_t *m;
    json_array_foreach(v, i, m)
        if (is_role(m, "assistant")) n_text += json_string_length(json_object_get(m, "content"));
    if (!json_array_size(v) || !is_role(json_array_get(v, 0), "assistant") || !n_text) {
        ft_err(json_array_size(v) && is_role(json_array_get(v, 0), "assistant") ? "\"%s\" is an empty completion"
                                                                                 : "\"%s\" must start with an assistant message (the answer)", key);
        return NULL;
    }
    return json_copy((json_t *)v);
}

static void add_seg(json_t *segs, const char *s, size_t n, int train) {
    if (!n) return;
    json_t *o = json_object();
    json_object_set_new(o, "text", json_stringn(s, n));
    json_object_set_new(o, "train", json_boolean(train));
    json_array_append_new(segs, o);
}

static size_t count_assistant(const json_t *msgs, size_t upto) {
    size_t n = 0;
    for (size_t i = 0; i < upto; i++) n += is_role(json_array_get(msgs, i), "assistant");
    return n;
}

// {"segments": [...]} of prompt + side, the loss on the side's assistant messages.
static json_t *render_side(ft_template *t, const json_t *prompt, const json_t *side, const json_t *extra, const char *key) {
    json_t *msgs = json_copy((json_t *)prompt);
    json_array_extend(msgs, (json_t *)side);
    char *text = NULL;
    size_t len = 0, ns = 0;
    ft_span *sp = NULL;
    int lost = 0;
    json_t *out = NULL;
    size_t skip = count_assistant(msgs, json_array_size(prompt)), want = count_assistant(msgs, json_array_size(msgs));
    if (ft_template_spans(t, msgs, extra, &text, &len, &sp, &ns, &lost)) goto done;
    if (lost || ns != want) {
        ft_err("the chat template drops or rewrites an assistant message of \"%s\": its answer would get no loss", key);
        goto done;
    }
    out = json_object();
    json_t *segs = json_array();
    size_t pos = 0;
    for (size_t i = skip; i < ns; i++) {
        add_seg(segs, text + pos, sp[i].start - pos, 0);
        add_seg(segs, text + sp[i].start, sp[i].end - sp[i].start, 1);
        pos = sp[i].end;
    }
    add_seg(segs, text + pos, len - pos, 0);
    json_object_set_new(out, "segments", segs);
done:
    free(text);
    free(sp);
    json_decref(msgs);
    return out;
}

// The implicit form: the prompt is the messages both conversations start with.
static int split_implicit(const json_t *c, const json_t *r, json_t **prompt, json_t **cs, json_t **rs) {
    if (check_msgs(c, "chosen") || check_msgs(r, "rejected")) return -1;
    size_t nc = json_array_size(c), nr = json_array_size(r), k = 0;
    while (k < nc && k < nr && json_equal(json_array_get(c, k), json_array_get(r, k))) k++;
    if (k == nc && k == nr) return ft_err("\"chosen\" and \"rejected\" are the same conversation");
    if (k == 0)
        return ft_err("no \"prompt\", and \"chosen\" and \"rejected\" differ from their first message: the implicit prompt "
                      "(the messages both start with) is empty");
    for (int s = 0; s < 2; s++) {
        const json_t *a = s ? r : c;
        const json_t *m = json_array_get(a, k);
        if (!m) return ft_err("\"%s\" ends where the implicit prompt ends: an empty completion", s ? "rejected" : "chosen");
        if (!is_role(m, "assistant"))
            return ft_err("the implicit prompt differs between \"chosen\" and \"rejected\" at message %zu (a \"%s\" message): "
                          "only the assistant's answer may differ; give \"prompt\" explicitly otherwise",
                          k, json_string_value(json_object_get(m, "role")));
    }
    *prompt = json_array();
    for (size_t i = 0; i < k; i++) json_array_append(*prompt, json_array_get(c, i));
    *cs = json_array();
    *rs = json_array();
    for (size_t i = k; i < nc; i++) json_array_append(*cs, json_array_get(c, i));
    for (size_t i = k; i < nr; i++) json_array_append(*rs, json_array_get(r, i));
    return 0;
}

static const char *CONSUMED[] = {"prompt", "chosen", "rejected", "tools", "documents", "segments", NULL};

int ft_template_pair(ft_template *t, const ft_template_opts *o, const json_t *rec, json_t **out) {
    *out = NULL;
    const json_t *p = json_object_get(rec, "prompt"), *c = json_object_get(rec, "chosen"), *r = json_object_get(rec, "rejected");
    if (!c || !r)
        return ft_err("no \"%s\": a preference pair needs \"chosen\" and \"rejected\" (and \"prompt\", unless both are "
                      "conversations that start with it)", c ? "rejected" : "chosen"), -2;
    if (o->train_on_inputs || o->last_turn_only)
        return ft_err("%s does not apply to preference pairs (the loss is on each side's answer)",
                      o->train_on_inputs ? "--train-on-inputs" : "--last-turn-only"), -2;
    json_t *prompt = NULL, *cs = NULL, *rs = NULL, *res = NULL;
    int rc = -2;
    if (!p) {
        if (!json_is_array(c) || !json_is_array(r)) {
            ft_err("no \"prompt\": the implicit-prompt form needs \"chosen\" and \"rejected\" as conversations (lists of messages)");
            goto done;
        }
        if (split_implicit(c, r, &prompt, &cs, &rs)) goto done;
    } else {
        if (json_is_string(p)) {
            if (!json_string_length(p)) { ft_err("\"prompt\" is empty"); goto done; }
            prompt = json_array();
            json_array_append_new(prompt, msg("user", (json_t *)p));
        } else if (check_msgs(p, "prompt")) {
            goto done;
        } else if (!json_array_size(p)) {
            ft_err("\"prompt\" is an empty list of messages");
            goto done;
        } else {
            prompt = json_copy((json_t *)p);
        }
        if (!(cs = side_msgs(c, "chosen")) || !(rs = side_msgs(r, "rejected"))) goto done;
    }
    if (o->system) {
        json_t *sys = json_string(o->system);
        if (json_array_size(prompt) && is_role(json_array_get(prompt, 0), "system")) json_array_set_new(prompt, 0, msg("system", sys));
        else json_array_insert_new(prompt, 0, msg("system", sys));
        json_decref(sys);
    }
    json_t *extra = json_object();
    if (json_object_get(rec, "tools")) json_object_set(extra, "tools", json_object_get(rec, "tools"));
    if (json_object_get(rec, "documents")) json_object_set(extra, "documents", json_object_get(rec, "documents"));
    res = json_object();
    const char *k;
    json_t *v;
    if (o->generation_prompt) {   // the prompt for generation; the chosen answer is the reference
        char *text = NULL;
        size_t len = 0;
        json_t *segs = json_array();
        json_object_set_new(res, "segments", segs);
        if (ft_template_render(t, prompt, extra, 1, &text, &len)) {
            json_decref(extra);
            goto done;
        }
        add_seg(segs, text, len, 0);
        free(text);
        json_object_set(res, "reference", json_object_get(json_array_get(cs, 0), "content"));
    } else {
        json_t *sc = render_side(t, prompt, cs, extra, "chosen"), *sr = sc ? render_side(t, prompt, rs, extra, "rejected") : NULL;
        if (!sc || !sr) {
            json_decref(sc);
            json_decref(extra);
            goto done;
        }
        json_object_set_new(res, "chosen", sc);
        json_object_set_new(res, "rejected", sr);
    }
    json_decref(extra);
    json_object_foreach((json_t *)rec, k, v) {
        int skip = 0;
        for (int i = 0; CONSUMED[i]; i++) skip |= !strcmp(k, CONSUMED[i]);
        if (!skip && !json_object_get(res, k)) json_object_set(res, k, v);
    }
    *out = res;
    res = NULL;
    rc = 0;
done:
    json_decref(res);
    json_decref(prompt);
    json_decref(cs);
    json_decref(rs);
    return rc;
}
