// cli.h — helpers shared by the tools: messages, exit codes, number parsing, progress.
// These print (to stderr) but never exit: tools decide their exit code.
#ifndef FT_CLI_H
#define FT_CLI_H

#include <stdint.h>
#include <stdio.h>

#define FT_VERSION "0.1.0"

extern int ft_verbosity;   // 0 = -q, 1 = default, 2 = -v

// "prog (ft) 0.1.0" on stdout.
void ft_cli_version(const char *prog);
// "prog: <ft_errmsg()>" on stderr; returns code (usually FT_EXIT_DATA).
int ft_cli_fail(const char *prog, int code);
// "prog: <message>\nTry 'prog --help' for more information." on stderr; returns FT_EXIT_USAGE.
int ft_cli_usage(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Informational line on stderr when verbosity >= level ("prog: ...").
void ft_cli_info(const char *prog, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// Strict parsers: whole string, range-checked. 0 ok, -1 error (message set naming the flag).
int ft_parse_long(const char *flag, const char *s, long lo, long hi, long *out);
int ft_parse_u64(const char *flag, const char *s, uint64_t *out);
int ft_parse_double(const char *flag, const char *s, double lo, double hi, double *out);

// Progress bar on stderr, only when stderr is a TTY and verbosity >= 1.
typedef struct {
    int enabled;
    double t0, last;
    uint64_t total;
    const char *label;
} ft_progress;
void ft_progress_start(ft_progress *p, const char *label, uint64_t total);
void ft_progress_update(ft_progress *p, uint64_t done, const char *extra);   // throttled
void ft_progress_end(ft_progress *p);
double ft_now(void);   // monotonic seconds

#endif
