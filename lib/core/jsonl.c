// jsonl.c — JSON Lines reader with FILE:LINE diagnostics (see jsonl.h).
#include "core/jsonl.h"
#include "core/err.h"
#include "core/io.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ft_jsonl {
    ft_reader *r;
    size_t max_line;
    size_t lineno;
    const char *last;
    size_t last_len;
};

ft_jsonl *ft_jsonl_open(const char *path, size_t max_line) {
    ft_reader *in = ft_reader_open(path);
    return in ? ft_jsonl_open_reader(in, max_line) : NULL;
}

ft_jsonl *ft_jsonl_open_reader(ft_reader *in, size_t max_line) {
    ft_jsonl *j = ft_calloc(1, sizeof *j);
    if (!j) { ft_reader_close(in); return NULL; }
    j->r = in;
    j->max_line = max_line ? max_line : FT_JSONL_MAX_LINE_DEFAULT;
    return j;
}

long ft_utf8_invalid_at(const char *str, size_t n) {
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
        else return (long)i;
        if (i + len > n) return (long)i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return (long)i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return (long)i;
        i += len;
    }
    return -1;
}

int ft_jsonl_next(ft_jsonl *j, json_t **obj) {
    char *line;
    size_t len;
    *obj = NULL;
    int rc = ft_reader_getline(j->r, &line, &len, j->max_line);
    j->lineno++;
    if (rc == 0) return 0;
    if (rc < 0) {
        if (strncmp(ft_errmsg(), "line longer", 11) == 0) {
            ft_err_ctx("%s:%zu", ft_reader_name(j->r), j->lineno);
            return -1;   // fatal: the rest of the line is still unread
        }
        return -1;
    }
    if (len && line[len - 1] == '\r') line[--len] = 0;
    const char *name = ft_reader_name(j->r);
    if (j->lineno == 1 && len >= 3 && (uint8_t)line[0] == 0xEF && (uint8_t)line[1] == 0xBB && (uint8_t)line[2] == 0xBF)
        return ft_err("%s:%zu: byte order mark at the start of the file (JSONL must be UTF-8 without BOM)", name, j->lineno), -2;
    long bad = ft_utf8_invalid_at(line, len);
    if (bad >= 0)
        return ft_err("%s:%zu: invalid UTF-8 at byte %ld of the line", name, j->lineno, bad + 1), -2;
    size_t k = 0;
    while (k < len && (line[k] == ' ' || line[k] == '\t')) k++;
    if (k == len) return ft_err("%s:%zu: blank line (expected one JSON object per line)", name, j->lineno), -2;
    json_error_t e;
    json_t *v = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
    if (!v) return ft_err("%s:%zu: invalid JSON at column %d: %s", name, j->lineno, e.column, e.text), -2;
    if (!json_is_object(v)) {
        json_decref(v);
        return ft_err("%s:%zu: expected a JSON object, got another JSON value", name, j->lineno), -2;
    }
    *obj = v;
    j->last = line;
    j->last_len = len;
    return 1;
}

size_t ft_jsonl_lineno(const ft_jsonl *j) { return j->lineno; }
const char *ft_jsonl_line(const ft_jsonl *j, size_t *len) {
    *len = j->last_len;
    return j->last;
}
const char *ft_jsonl_name(const ft_jsonl *j) { return ft_reader_name(j->r); }

void ft_jsonl_close(ft_jsonl *j) {
    if (!j) return;
    ft_reader_close(j->r);
    free(j);
}

json_t *ft_jsonl_load_all(const char *path) {
    ft_jsonl *j = ft_jsonl_open(path, 0);
    if (!j) return NULL;
    json_t *rows = json_array(), *o;
    int rc;
    while ((rc = ft_jsonl_next(j, &o)) == 1) json_array_append_new(rows, o);
    ft_jsonl_close(j);
    if (rc < 0) { json_decref(rows); return NULL; }
    return rows;
}

char *ft_json_dumps(const json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) ft_err("cannot serialize JSON");
    return s;
}
