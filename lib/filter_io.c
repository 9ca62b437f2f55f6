// filter_io.c — ft-filter's inputs: format sniffing (FTOK vs JSONL) and the text of a JSONL
// record (see filter.h).
#include "filter.h"
#include "err.h"
#include "io.h"
#include "jsonl.h"

#include <stdlib.h>
#include <string.h>

int ft_fstream_open(ft_fstream *s, const char *path) {
    memset(s, 0, sizeof *s);
    ft_reader *in = ft_reader_open(path);
    if (!in) return -1;
    uint8_t magic[4];
    ssize_t k = ft_reader_peek(in, magic, 4);
    if (k < 0) { ft_reader_close(in); return -1; }
    if (k == 4 && memcmp(magic, "FTOK", 4) == 0) {
        s->kind = FT_KIND_FTOK;
        s->ft = ftok_open_reader(in);
        return s->ft ? 0 : -1;
    }
    s->kind = FT_KIND_JSONL;
    s->js = ft_jsonl_open_reader(in, 0);
    return s->js ? 0 : -1;
}

const char *ft_fstream_name(const ft_fstream *s) {
    return s->ft ? ftok_reader_name(s->ft) : s->js ? ft_jsonl_name(s->js) : "?";
}

void ft_fstream_close(ft_fstream *s) {
    if (s->ft) ftok_close(s->ft);
    if (s->js) ft_jsonl_close(s->js);
    memset(s, 0, sizeof *s);
}

int ft_record_text(json_t *obj, const char *field, const char **s, size_t *n, char **owned) {
    *owned = NULL;
    json_t *v = json_object_get(obj, field ? field : "text");
    if (json_is_string(v)) {
        *s = json_string_value(v);
        *n = json_string_length(v);
        return 1;
    }
    json_t *segs = json_object_get(obj, "segments");
    if (!json_is_array(segs)) return 0;
    size_t total = 0, i;
    json_t *seg;
    json_array_foreach(segs, i, seg) {
        json_t *t = json_object_get(seg, "text");
        if (!json_is_string(t)) return 0;
        total += json_string_length(t);
    }
    char *buf = ft_malloc(total + 1);
    if (!buf) return -1;
    size_t off = 0;
    json_array_foreach(segs, i, seg) {
        json_t *t = json_object_get(seg, "text");
        memcpy(buf + off, json_string_value(t), json_string_length(t));
        off += json_string_length(t);
    }
    buf[off] = 0;
    *owned = buf;
    *s = buf;
    *n = off;
    return 1;
}
