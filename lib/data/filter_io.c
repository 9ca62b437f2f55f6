// filter_io.c — ft-filter's inputs: format sniffing (FTOK vs JSONL) and the text of a JSONL
// record (see filter.h).
#include "data/filter.h"
#include "core/err.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "format/segments.h"

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
    if (!segs) return 0;
    ft_segments sg;
    int e = ft_segments_parse(segs, &sg);
    if (e == -2) { ft_err_clear(); return 0; }   // not a segment record: no text
    if (e) return -1;
    char *buf = sg.text;
    size_t off = sg.len;
    sg.text = NULL;
    ft_segments_free(&sg);
    *owned = buf;
    *s = buf;
    *n = off;
    return 1;
}
