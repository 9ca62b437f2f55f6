// jsonl.h — JSON Lines reader: one object per line, UTF-8, no BOM.
// Every problem is reported as "FILE:LINE: reason" (invalid UTF-8, BOM, blank line,
// non-object, invalid JSON, line over the cap). JSON values are jansson's json_t.
#ifndef FT_JSONL_H
#define FT_JSONL_H

#include <jansson.h>
#include <stddef.h>

#define FT_JSONL_MAX_LINE_DEFAULT ((size_t)64 << 20)   // 64 MiB

typedef struct ft_jsonl ft_jsonl;

ft_jsonl *ft_jsonl_open(const char *path, size_t max_line);   // "-"/NULL: stdin; 0: default cap
// Same on an already-open reader (e.g. one whose first bytes were peeked); takes ownership of `in`.
struct ft_reader;
ft_jsonl *ft_jsonl_open_reader(struct ft_reader *in, size_t max_line);
// Next object: 1 = *obj set (caller json_decref's it), 0 = end of input,
// -2 = bad record (message set, line consumed; a caller with --skip-bad may go on),
// -1 = fatal (I/O error, decompression error).
int ft_jsonl_next(ft_jsonl *j, json_t **obj);
size_t ft_jsonl_lineno(const ft_jsonl *j);        // line number of the last record returned
// The raw text of the record last returned (without '\n' or a trailing '\r'), valid until the
// next ft_jsonl_next; lets a filter pass records through byte for byte.
const char *ft_jsonl_line(const ft_jsonl *j, size_t *len);
const char *ft_jsonl_name(const ft_jsonl *j);
void ft_jsonl_close(ft_jsonl *j);

// Every object of a JSONL file as one json array (caller json_decref's it); NULL + message
// "FILE:LINE: reason" on the first bad record.
json_t *ft_jsonl_load_all(const char *path);

// Validate UTF-8 (no overlongs, no surrogates, <= U+10FFFF). Returns byte offset of the
// first bad byte, or -1 when the whole buffer is valid.
long ft_utf8_invalid_at(const char *s, size_t n);

// Serialize a value compactly with non-ASCII kept as UTF-8; caller frees.
char *ft_json_dumps(const json_t *v);

#endif
