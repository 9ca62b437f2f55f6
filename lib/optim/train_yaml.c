// train_yaml.c — ft-train --config FILE.yaml (libyaml): one YAML mapping whose keys are the flag
// names (as in the JSON config, lib/optim/train_opts.c). Each value is typed as YAML's core
// schema types a plain scalar (null/~/empty, true/false, integers, floats such as 1e-3 or
// .inf), a quoted scalar is always a string, and then applied as the JSON config applies its
// values: the same types are required (a quoted "1e-3" for --lr is an error), so the same
// options give the same run, bit for bit. String options take any plain scalar as its text
// (model: 2024 is the directory "2024"). Every error names FILE:LINE; unknown keys, duplicate
// keys, lists, nested mappings, anchors/aliases, tags and several documents are errors.
#include "optim/train_opts.h"
#include "core/err.h"

#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

// YAML 1.2 core schema resolution of a plain scalar.
static int matches(const char *re, const char *s) {
    regex_t r;
    if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB)) return 0;
    int ok = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

static json_t *plain_value(const char *s) {
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")) return json_null();
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) return json_true();
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) return json_false();
    if (matches("^[-+]?[0-9]+$", s)) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno == 0) return json_integer(v);
        return json_real(strtod(s, NULL));
    }
    if (matches("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$", s)) return json_real(strtod(s, NULL));
    return json_string(s);   // .inf and .nan too: no option takes them
}

static const char *event_what(yaml_event_type_t t) {
    switch (t) {
    case YAML_SEQUENCE_START_EVENT: return "a list";
    case YAML_MAPPING_START_EVENT: return "a mapping";
    case YAML_ALIAS_EVENT: return "an alias";
    default: return "a scalar";
    }
}

static void norm(char *dst, size_t cap, const char *s) {
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) dst[i] = s[i] == '_' ? '-' : s[i];
    dst[i] = 0;
}

int ft_train_load_yaml(ft_train_opts *o, const char *path, void **keep) {
    *keep = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return ft_err("%s: %s", path, strerror(errno));
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        return ft_err("%s: cannot start the YAML parser (out of memory)", path);
    }
    yaml_parser_set_input_file(&p, f);
    json_t *all = json_object(), *lines = json_object();   // every value (kept), and where each key is
    *keep = all;
    int rc = 0, state = 0;   // 0 before the mapping, 1 expecting a key, 2 expecting a value, 3 after it
    char key[128] = "", nkey[128];
    size_t key_line = 0;
    while (rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = ft_err("%s:%zu: YAML: %s%s%s", path, p.problem_mark.line + 1, p.problem ? p.problem : "syntax error",
                        p.context ? " " : "", p.context ? p.context : "");
            break;
        }
        size_t line = ev.start_mark.line + 1;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_END_EVENT) {
            // nothing to do
        } else if (t == YAML_DOCUMENT_START_EVENT) {
            if (state == 3) rc = ft_err("%s:%zu: a second YAML document: put every option in one mapping", path, line);
        } else if (state == 0) {
            if (t == YAML_MAPPING_START_EVENT && !ev.data.mapping_start.anchor) state = 1;
            else if (t == YAML_SCALAR_EVENT && ev.data.scalar.length == 0 && ev.data.scalar.plain_implicit) state = 3;   // empty file
            else rc = ft_err("%s:%zu: expected a mapping of options (key: value lines), got %s", path, line, event_what(t));
        } else if (state == 1) {
            if (t == YAML_MAPPING_END_EVENT) {
                state = 3;
            } else if (t != YAML_SCALAR_EVENT) {
                rc = ft_err("%s:%zu: expected an option name, got %s", path, line, event_what(t));
            } else {
                snprintf(key, sizeof key, "%s", (const char *)ev.data.scalar.value);
                key_line = line;
                norm(nkey, sizeof nkey, key);
                json_t *prev = json_object_get(lines, nkey);
                if (!ft_train_opt_known(key) && strcmp(key, "config"))   // "config" is skipped, as in JSON
                    rc = ft_err("%s:%zu: unknown option \"%s\"", path, line, key);
                else if (prev)
                    rc = ft_err("%s:%zu: option \"%s\" given twice (first at line %lld)", path, line, key,
                                (long long)json_integer_value(prev));
                else
                    json_object_set_new(lines, nkey, json_integer((json_int_t)line));
                state = 2;
            }
        } else if (state == 2) {
            char where[600];
            snprintf(where, sizeof where, "%s:%zu", path, key_line);
            if (t != YAML_SCALAR_EVENT) {
                rc = ft_err("%s: key \"%s\": expected a single value, got %s", where, key, event_what(t));
            } else if (ev.data.scalar.anchor || (ev.data.scalar.tag && !ev.data.scalar.plain_implicit &&
                                                 !ev.data.scalar.quoted_implicit)) {
                rc = ft_err("%s: key \"%s\": YAML anchors and tags are not supported", where, key);
            } else {
                const char *s = (const char *)ev.data.scalar.value;
                int plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                json_t *v = plain ? plain_value(s) : json_string(s);
                if (plain && v && !json_is_null(v) && !json_is_string(v) && ft_train_opt_is_string(key)) {
                    json_decref(v);   // a string option takes the plain scalar's text
                    v = json_string(s);
                }
                json_t *one = json_object();
                if (!v || !one) {
                    rc = ft_err("%s: out of memory", where);
                    json_decref(v);
                } else {
                    json_object_set_new(all, key, v);          // kept: string options point into it
                    json_object_set(one, key, v);
                    rc = ft_train_apply_json(o, where, one);   // the JSON config's checks and types
                }
                json_decref(one);
            }
            state = 1;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    fclose(f);
    json_decref(lines);
    return rc;
}
