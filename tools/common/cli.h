// cli.h — helpers shared by the tools (not part of libft): messages, exit codes, version,
// the progress bar, and the hooks through which the library's messages and progress reach
// stderr (lib/core/log.h). These print (to stderr) but never exit: tools decide their exit code.
// The number parsers (lib/core/parse.h) and the clock (lib/core/log.h) come from the library.
#ifndef FT_CLI_H
#define FT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "core/log.h"
#include "core/parse.h"

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
// Install the library's hooks (lib/core/log.h) for this tool: its messages as ft_cli_info(prog, ...)
// lines, its progress as the progress bar below (ft_verbosity is read at each call).
void ft_cli_log_install(const char *prog);

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
// The bar's line: "label [####....] done/total  rate/s  extra  ETA 1m05s", or without a total
// "label done  extra  rate/s  elapsed". Lines of a regular, uncompressed file (its last line
// counted without a '\n'): a total for a JSONL input; 0 (unknown) for stdin, zstd, or when
// no bar is drawn (not a TTY, -q), so pipes pay nothing.
uint64_t ft_progress_count_lines(const char *path);

#endif
