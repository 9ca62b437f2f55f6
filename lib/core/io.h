// io.h — byte streams for every tool: files or stdin/stdout ("-"), transparent zstd,
// and outputs written to a temporary name and renamed on success (never half a file).
#ifndef FT_IO_H
#define FT_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// ---- reading -------------------------------------------------------------------------
// A reader sniffs the zstd magic (28 B5 2F FD) and stream-decompresses; works on pipes.
typedef struct ft_reader ft_reader;

ft_reader *ft_reader_open(const char *path);            // "-" or NULL: stdin. NULL + ft_err on failure
// Up to n bytes; returns the count (0 at end of stream) or -1 on error.
ssize_t ft_reader_read(ft_reader *r, void *buf, size_t n);
// Exactly n bytes: 1 = read, 0 = clean end of stream before any byte, -1 = error or
// truncation (message "NAME: unexpected end of file (wanted N bytes, got M)").
int ft_reader_read_exact(ft_reader *r, void *buf, size_t n);
// Look at the next n bytes without consuming them (n <= 64); returns the count available or -1.
ssize_t ft_reader_peek(ft_reader *r, void *buf, size_t n);
// One line without its '\n' (a trailing '\r' is kept); *line points into an internal buffer
// valid until the next call. Returns 1 = line, 0 = end, -1 = error (incl. line > max_len).
int ft_reader_getline(ft_reader *r, char **line, size_t *len, size_t max_len);
const char *ft_reader_name(const ft_reader *r);         // "<stdin>" for stdin
int ft_reader_is_zstd(const ft_reader *r);
void ft_reader_close(ft_reader *r);

// Whole content of a file (decompressed if zstd), NUL-terminated; *len excludes the NUL.
int ft_read_all(const char *path, char **data, size_t *len);

// Read-only memory map of a whole file (for tensors). size 0 files map to data=NULL.
typedef struct {
    const uint8_t *data;
    size_t size;
} ft_map;
int ft_map_open(const char *path, ft_map *m);
void ft_map_close(ft_map *m);

// ---- writing -------------------------------------------------------------------------
// A writer to "PATH" writes "PATH.tmp.XXXXXX" in the same directory and renames it over
// PATH on commit; abort (or a failed commit) removes the temporary. "-" or NULL: stdout.
// When PATH is a symbolic link, the output goes through it: the temporary is made beside the
// link's target and renamed onto the target, so the link stays (see ft_output_target).
// An existing PATH that is not a regular file (/dev/null, a FIFO, /dev/stdout) is opened and
// written in place: never replaced.
// A name ending in ".zst" is zstd-compressed (level 3), also for stdout when forced.
typedef struct ft_writer ft_writer;

ft_writer *ft_writer_open(const char *path);
ft_writer *ft_writer_open_zstd(const char *path, int zstd);   // force compression on/off
int ft_writer_write(ft_writer *w, const void *buf, size_t n);
int ft_writer_printf(ft_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ft_writer_flush(ft_writer *w);                  // push buffered bytes (e.g. per record on pipes)
int ft_writer_commit(ft_writer *w);                 // finish, rename into place, free
void ft_writer_abort(ft_writer *w);                 // discard, remove temporary, free
const char *ft_writer_name(const ft_writer *w);

// Write a whole buffer to PATH atomically (temp + rename).
int ft_write_all(const char *path, const void *data, size_t len);

// The path an output named PATH really replaces: PATH, or, when PATH is a symbolic link (or a
// chain of them, dangling or not), the path the last link points to (a relative target is
// taken from the link's directory). malloc'd; NULL with a message when out of memory.
char *ft_output_target(const char *path);

// mkdir -p
int ft_mkdirs(const char *path);
// "dir/name", malloc'd (NULL with a message when out of memory).
char *ft_path_join(const char *dir, const char *name);

#endif
