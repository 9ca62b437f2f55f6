// err.h — error reporting for libft.
// libft never exits and never prints: a failing function records a message with
// ft_err() (which returns FT_ERR, i.e. -1) and the tool prints ft_errmsg() on stderr.
// Messages name the file and the cause, e.g. "model.gguf: tensor 3: offset past end of file".
#ifndef FT_ERR_H
#define FT_ERR_H

#include <stddef.h>

#define FT_OK 0
#define FT_ERR (-1)

// Exit codes of every tool (DESIGN.md §4).
enum { FT_EXIT_OK = 0, FT_EXIT_DATA = 1, FT_EXIT_USAGE = 2, FT_EXIT_GATE = 3 };

// Record an error message (printf-style); returns FT_ERR so callers can `return ft_err(...)`.
int ft_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Prepend context to the current message: ft_err_ctx("%s", path) turns "bad" into "path: bad".
int ft_err_ctx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// The current message of this thread ("" when none).
const char *ft_errmsg(void);
void ft_err_clear(void);

// Checked allocation helpers: on failure they set an error and return NULL.
void *ft_malloc(size_t n);
void *ft_calloc(size_t n, size_t size);
void *ft_realloc(void *p, size_t n);
char *ft_strdup(const char *s);
// a*b overflow check: returns 1 and stores the product when it fits in size_t.
int ft_mul_ok(size_t a, size_t b, size_t *out);

#endif
