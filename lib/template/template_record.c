// template_record.c — input records to segment JSONL: shape detection (messages, ShareGPT,
// Alpaca, prompt/completion, raw text), validation with clear reasons, --system, held-out
// references for --generation-prompt, and loss spans derived from the rendering itself:
// each assistant content is located in the full rendering (after the prompt rendered with
// add_generation_prompt when that is a prefix) and extended by the closing marker the
// template writes after it (the text common to "what follows in the conversation" and
// "what follows when the conversation ends there").
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/jsonl.h"
#include "template/jinja_int.h"
#include "template/template.h"

int ft_template_parse_format(const char *s) {
    static const char *names[] = {"auto", "messages", "sharegpt", "alpaca", "completion", "text", NULL};
    for (int i = 0; names[i]; i++) if (!strcmp(s, names[i])) return i;
    return -1;
}

static json_t *msg(const char *role, json_t *content) {
    json_t *m = json_object();
    json_object_set_new(m, "role", json_string(role));
    json_object_set(m, "content", content);
    return m;
}

static int detect(const json_t *rec) {
    if (json_object_get(rec, "messages")) return FT_FMT_MESSAGES;
    if (json_object_get(rec, "conversations")) return FT_FMT_SHAREGPT;
    if (json_object_get(rec, "instruction")) return FT_FMT_ALPACA;
    if (json_object_get(rec, "prompt")) return FT_FMT_COMPLETION;
    if (json_object_get(rec, "text")) return FT_FMT_TEXT;
    return -1;
}

static int need_str(const json_t *rec, const char *key, int optional) {
    json_t *v = json_object_get(rec, key);
    if (!v) return optional ? 0 : ft_err("missing field \"%s\"", key);
    if (!json_is_string(v)) return ft_err("field \"%s\" must be a string", key);
    return 0;
}

// Validated messages array (new reference) from any conversational shape.
static json_t *to_messages(const json_t *rec, int fmt) {
    json_t *out = json_array();
    if (fmt == FT_FMT_MESSAGES || fmt == FT_FMT_SHAREGPT) {
        int sg = fmt == FT_FMT_SHAREGPT;
        const char *key = sg ? "conversations" : "messages", *rk = sg ? "from" : "role", *ck = sg ? "value" : "content";
        json_t *arr = json_object_get(rec, key);
        if (!arr) { ft_err("missing field \"%s\"", key); goto bad; }
        if (!json_is_array(arr) || !json_array_size(arr)) { ft_err("\"%s\" must be a non-empty array", key); goto bad; }
        size_t i; json_t *m;
        json_array_foreach(arr, i, m) {
            if (!json_is_object(m)) { ft_err("%s[%zu] is not an object", key, i); goto bad; }
            json_t *role = json_object_get(m, rk), *content = json_object_get(m, ck);
            if (!json_is_string(role) || !json_string_length(role)) { ft_err("%s[%zu].%s must be a non-empty string", key, i, rk); goto bad; }
            if (!content && !json_object_get(m, "tool_calls")) { ft_err("%s[%zu] has no \"%s\"", key, i, ck); goto bad; }
            if (content && !json_is_string(content) && !json_is_null(content) && !json_is_array(content)) {
                ft_err("%s[%zu].%s must be a string", key, i, ck);
                goto bad;
            }
            if (!sg) { json_array_append(out, m); continue; }   // shared: the record outlives msgs
            json_t *nm = json_copy(m);
            {
                const char *r = json_string_value(role);
                const char *mapped = !strcmp(r, "human") || !strcmp(r, "user") ? "user"
                                   : !strcmp(r, "gpt") || !strcmp(r, "assistant") || !strcmp(r, "model") ? "assistant"
                                   : !strcmp(r, "system") ? "system" : !strcmp(r, "tool") || !strcmp(r, "function") || !strcmp(r, "observation") ? "tool" : r;
                json_object_del(nm, "from");
                json_object_del(nm, "value");
                json_object_set_new(nm, "role", json_string(mapped));
                json_object_set(nm, "content", content);
            }
            json_array_append_new(out, nm);
        }
        return out;
    }
    if (fmt == FT_FMT_ALPACA) {
        if (need_str(rec, "instruction", 0) || need_str(rec, "input", 1) || need_str(rec, "output", 1) || need_str(rec, "system", 1)) goto bad;
        const char *ins = json_string_value(json_object_get(rec, "instruction"));
        const char *inp = json_string_value(json_object_get(rec, "input"));
        json_t *user;
        if (inp && *inp) {
            size_t n = strlen(ins) + strlen(inp) + 3;
            char *s = malloc(n);
            if (!s) { ft_err("out of memory"); goto bad; }
            snprintf(s, n, "%s\n\n%s", ins, inp);
            user = json_string(s);
            free(s);
        } else user = json_string(ins);
        if (json_object_get(rec, "system")) json_array_append_new(out, msg("system", json_object_get(rec, "system")));
        json_array_append_new(out, msg("user", user));
        json_decref(user);
        if (json_object_get(rec, "output")) json_array_append_new(out, msg("assistant", json_object_get(rec, "output")));
        return out;
    }
    if (fmt == FT_FMT_COMPLETION) {
        if (need_str(rec, "prompt", 0) || need_str(rec, "completion", 1)) goto bad;
        json_array_append_new(out, msg("user", json_object_get(rec, "prompt")));
        if (json_object_get(rec, "completion")) json_array_append_new(out, msg("assistant", json_object_get(rec, "completion")));
        return out;
    }
    ft_err("unknown record format");
bad:
    json_decref(out);
    return NULL;
}

static const char *role_of(const json_t *m) { return json_string_value(json_object_get(m, "role")); }
static int is_assistant(const json_t *m) { const char *r = role_of(m); return r && !strcmp(r, "assistant"); }

static json_t *slice(const json_t *arr, size_t n) {
    json_t *o = json_array();
    for (size_t i = 0; i < n; i++) json_array_append(o, json_array_get(arr, i));
    return o;
}

static int render_prefix(ft_template *t, const json_t *msgs, size_t n, const json_t *extra, int gen, char **out, size_t *len) {
    json_t *p = slice(msgs, n);
    int rc = ft_template_render(t, p, extra, gen, out, len);
    json_decref(p);
    return rc;
}

static int starts(const char *s, size_t n, const char *p, size_t m) { return m <= n && memcmp(s, p, m) == 0; }

static const char *find(const char *h, size_t hn, size_t from, const char *nd, size_t nn) {
    if (from > hn) return NULL;
    if (!nn) return h + from;
    return memmem(h + from, hn - from, nd, nn);
}

// The two continuations diverged after mk bytes: never end a marker inside a special-token
// tag such as "<|user|>" or "[INST]" whose opening they happen to share.
static size_t tag_boundary(const char *s, size_t mk) {
    for (size_t i = mk; i-- > 0;) {
        if (s[i] == '>' || s[i] == ']') return mk;
        if (s[i] == '<' || s[i] == '[') return i;
        if (s[i] == '\n' || s[i] == ' ') return mk;
    }
    return mk;
}

int ft_template_spans(ft_template *t, const json_t *msgs, const json_t *extra, char **text, size_t *len,
                      ft_span **spans, size_t *nspans, int *n_unlocated) {
    *spans = NULL; *nspans = 0;
    if (ft_template_has_generation(t)) {   // the template marks its assistant text itself (HF's mask)
        size_t *marks, nm;
        if (ft_template_render_marked(t, msgs, extra, 0, text, len, &marks, &nm)) return -1;
        for (size_t i = 0; i < nm; i++) {
            size_t s0 = marks[2 * i], e0 = marks[2 * i + 1];
            if (e0 <= s0) continue;
            if (*nspans && s0 <= (*spans)[*nspans - 1].end) {   // adjacent blocks: one span
                if (e0 > (*spans)[*nspans - 1].end) (*spans)[*nspans - 1].end = e0;
                continue;
            }
            ft_span *p = realloc(*spans, (*nspans + 1) * sizeof *p);
            if (!p) { free(marks); free(*spans); *spans = NULL; free(*text); *text = NULL; return ft_err("out of memory"); }
            *spans = p;
            (*spans)[(*nspans)++] = (ft_span){s0, e0};
        }
        free(marks);
        return 0;
    }
    if (ft_template_render(t, msgs, extra, 0, text, len)) return -1;
    const char *full = *text;
    size_t flen = *len, cursor = 0, n = json_array_size(msgs), cap = 0;
    for (size_t k = 0; k < n; k++) {
        const json_t *m = json_array_get(msgs, k);
        if (!is_assistant(m)) continue;
        char *prompt = NULL, *upto = NULL;
        size_t plen = 0, ulen = 0;
        if (render_prefix(t, msgs, k, extra, 1, &prompt, &plen) || render_prefix(t, msgs, k + 1, extra, 0, &upto, &ulen)) {
            // a template may reject a prefix (e.g. "must end with an assistant turn"): search only
            ft_err_clear();
            free(prompt); prompt = NULL; plen = 0;
        }
        size_t base = cursor;
        int prompt_prefix = prompt && starts(full, flen, prompt, plen) && plen >= cursor;
        if (prompt_prefix) base = plen;
        else if (k > 0) {   // after the preceding message's content, when it is there
            const json_t *pc = json_object_get(json_array_get(msgs, k - 1), "content");
            const char *hit = json_is_string(pc) && json_string_length(pc)
                                  ? find(full, flen, cursor, json_string_value(pc), json_string_length(pc)) : NULL;
            if (hit) base = (size_t)(hit - full) + json_string_length(pc);
        }
        long s = -1, e = -1;
        const json_t *c = json_object_get(m, "content");
        if (json_is_string(c)) {
            const char *cs = json_string_value(c);
            size_t cn = json_string_length(c);
            const char *hit = cn ? find(full, flen, base, cs, cn) : NULL;
            if (!hit && cn) {   // templates that trim the content
                while (cn && strchr(" \t\n\r\f\v", *cs)) { cs++; cn--; }
                while (cn && strchr(" \t\n\r\f\v", cs[cn - 1])) cn--;
                if (cn) hit = find(full, flen, base, cs, cn);
            }
            if (!cn && prompt_prefix) hit = full + base;
            if (hit) { s = hit - full; e = s + (long)cn; }
            // when this turn's own text is known (both prefix renderings are prefixes of the
            // full one), the content must lie inside it: a rewritten answer is not "found"
            // in a later message that happens to repeat it
            if (s >= 0 && prompt_prefix && upto && starts(full, flen, upto, ulen) && (size_t)e > ulen) s = e = -1;
        }
        if (s >= 0) {
            // closing marker: common prefix of what follows in the full text and in the
            // rendering that ends with this message
            const char *tail = full + e, *ut = NULL;
            size_t tn = flen - (size_t)e, mk = 0, un = 0, cl = (size_t)(e - s);
            if (upto && (size_t)e <= ulen && memcmp(upto, full, (size_t)e) == 0) {
                ut = upto + e; un = ulen - (size_t)e;
            } else if (upto && cl) {   // the renderings differ earlier (e.g. tools moved): last occurrence
                const char *last = NULL, *p = upto;
                while ((p = find(upto, ulen, (size_t)(p - upto), full + s, cl))) { last = p; p++; }
                if (last) { ut = last + cl; un = ulen - (size_t)(ut - upto); }
            }
            if (ut) {
                while (mk < tn && mk < un && tail[mk] == ut[mk]) mk++;
                if (mk < tn && mk < un) mk = tag_boundary(tail, mk);
            }
            e += (long)mk;
        } else if (!json_is_string(c) && prompt_prefix && upto && starts(full, flen, upto, ulen) && ulen > plen) {
            s = (long)plen; e = (long)ulen;   // non-string content (tool calls): the turn's own text
        }
        free(prompt); free(upto);
        if (s < 0) { if (n_unlocated) (*n_unlocated)++; continue; }
        if (*nspans == cap) {
            cap = cap ? cap * 2 : 8;
            ft_span *p = realloc(*spans, cap * sizeof *p);
            if (!p) { free(*spans); *spans = NULL; free(*text); *text = NULL; return ft_err("out of memory"); }
            *spans = p;
        }
        (*spans)[(*nspans)++] = (ft_span){(size_t)s, (size_t)e};
        cursor = (size_t)e;
    }
    return 0;
}

static void add_seg(json_t *segs, const char *s, size_t n, int train) {
    if (!n) return;
    json_t *o = json_object();
    json_object_set_new(o, "text", json_stringn(s, n));
    json_object_set_new(o, "train", json_boolean(train));
    json_array_append_new(segs, o);
}

static const char *CONSUMED[] = {"messages", "conversations", "instruction", "input", "output", "prompt", "completion",
                                 "text", "tools", "documents", "segments", NULL};

int ft_template_record(ft_template *t, const ft_template_opts *o, const json_t *rec, json_t **out, int *n_unlocated) {
    *out = NULL;
    if (o->format == FT_FMT_AUTO && ft_template_is_pair(rec)) return ft_template_pair(t, o, rec, out);
    int fmt = o->format == FT_FMT_AUTO ? detect(rec) : o->format;
    if (fmt < 0) return ft_err("no \"messages\", \"conversations\", \"instruction\", \"prompt\" or \"text\" field"), -2;
    json_t *res = json_object(), *segs = json_array();
    json_object_set_new(res, "segments", segs);
    const char *k; json_t *v;
    json_object_foreach((json_t *)rec, k, v) {
        int skip = 0;
        for (int i = 0; CONSUMED[i]; i++) skip |= !strcmp(k, CONSUMED[i]);
        if (fmt == FT_FMT_ALPACA && !strcmp(k, "system")) skip = 1;
        if (!skip) json_object_set(res, k, v);
    }
    if (fmt == FT_FMT_TEXT) {
        json_t *tx = json_object_get(rec, "text");
        if (!json_is_string(tx)) { json_decref(res); return ft_err(tx ? "field \"text\" must be a string" : "missing field \"text\""), -2; }
        add_seg(segs, json_string_value(tx), json_string_length(tx), !o->generation_prompt);
        *out = res;
        return 0;
    }
    json_t *msgs = to_messages(rec, fmt);
    if (!msgs) { json_decref(res); return -2; }
    if (o->system) {
        const json_t *m0 = json_array_get(msgs, 0);
        json_t *sys = json_string(o->system);
        if (m0 && role_of(m0) && !strcmp(role_of(m0), "system")) {
            json_t *copy = json_copy((json_t *)m0);   // messages are shared with the record: copy before changing
            json_object_set(copy, "content", sys);
            json_array_set_new(msgs, 0, copy);
        } else json_array_insert_new(msgs, 0, msg("system", sys));
        json_decref(sys);
    }
    json_t *extra = json_object();
    if (json_object_get(rec, "tools")) json_object_set(extra, "tools", json_object_get(rec, "tools"));
    if (json_object_get(rec, "documents")) json_object_set(extra, "documents", json_object_get(rec, "documents"));
    int rc = 0;
    char *text = NULL; size_t len = 0;
    if (o->generation_prompt) {
        size_t n = json_array_size(msgs);
        if (n && is_assistant(json_array_get(msgs, n - 1))) {
            json_t *ref = json_object_get(json_array_get(msgs, n - 1), "content");
            json_object_set(res, "reference", ref ? ref : json_null());
            json_array_remove(msgs, n - 1);
        }
        if (ft_template_render(t, msgs, extra, 1, &text, &len)) rc = -2;
        else add_seg(segs, text, len, 0);
    } else {
        ft_span *sp = NULL; size_t ns = 0;
        if (o->train_on_inputs) {
            if (ft_template_render(t, msgs, extra, 0, &text, &len)) rc = -2;
            else add_seg(segs, text, len, 1);
        } else if (ft_template_spans(t, msgs, extra, &text, &len, &sp, &ns, n_unlocated)) rc = -2;
        else {
            size_t pos = 0, first = o->last_turn_only && ns ? ns - 1 : 0;
            for (size_t i = first; i < ns; i++) {
                add_seg(segs, text + pos, sp[i].start - pos, 0);
                add_seg(segs, text + sp[i].start, sp[i].end - sp[i].start, 1);
                pos = sp[i].end;
            }
            add_seg(segs, text + pos, len - pos, 0);
        }
        free(sp);
    }
    free(text);
    json_decref(msgs);
    json_decref(extra);
    if (rc) { json_decref(res); return rc; }
    *out = res;
    return 0;
}

// ---- output -----------------------------------------------------------------------------
// Output buffer and JSON string escaping: the Jinja interpreter's (jinja_int.h).

char *ft_template_dump(const json_t *rec) {
    jbuf b = {0};
    const char *k; json_t *v;
    int first = 1;
    jb_put(&b, "{", 1);
    json_object_foreach((json_t *)rec, k, v) {
        if (!first) jb_put(&b, ",", 1);
        first = 0;
        jb_json_str(&b, k, strlen(k));
        jb_put(&b, ":", 1);
        if (!strcmp(k, "segments") && json_is_array(v)) {   // the bulk of the output: written directly
            size_t i; json_t *seg;
            jb_put(&b, "[", 1);
            json_array_foreach(v, i, seg) {
                json_t *t = json_object_get(seg, "text");
                const char *open = i ? ",{\"text\":" : "{\"text\":";
                const char *close = json_is_true(json_object_get(seg, "train")) ? ",\"train\":true}" : ",\"train\":false}";
                jb_put(&b, open, strlen(open));
                jb_json_str(&b, json_string_value(t), json_string_length(t));
                jb_put(&b, close, strlen(close));
            }
            jb_put(&b, "]", 1);
        } else {
            char *d = ft_json_dumps(v);
            if (!d) { free(b.p); return NULL; }
            jb_put(&b, d, strlen(d));
            free(d);
        }
    }
    jb_put(&b, "}", 1);
    if (b.oom) { free(b.p); ft_err("out of memory"); return NULL; }
    return b.p;
}
