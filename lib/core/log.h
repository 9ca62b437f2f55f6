// log.h — the library never prints: what it has to say while it works (informational lines,
// progress of a long loop) goes to hooks the tool installs (tools/common/cli.c prints them on
// stderr as "prog: ..." and draws the progress bar). With no hooks installed, nothing is said.
// Errors are not messages: they go through ft_err (err.h) and the tool prints them.
// Also the monotonic clock used for timings and progress.
#ifndef FT_LOG_H
#define FT_LOG_H

#include <stdint.h>

// level: 0 = shown even with -q (warnings), 1 = default, 2 = -v only. msg has no newline.
typedef void (*ft_log_fn)(void *ctx, int level, const char *msg);

enum { FT_PROGRESS_START, FT_PROGRESS_UPDATE, FT_PROGRESS_END };
// START: a loop of `total` items (0 = unknown) called label begins; UPDATE: `done` items are
// finished, extra is a short status ("loss 1.23 ..."); END: the loop is over. Called on
// every item: the hook throttles.
typedef void (*ft_progress_fn)(void *ctx, int event, const char *label, uint64_t done, uint64_t total,
                               const char *extra);

typedef struct {
    ft_log_fn info;
    ft_progress_fn progress;
    void *ctx;
} ft_log_hooks;

// Install the hooks (copied; NULL = none). Process-wide: set once, before any threads.
void ft_log_set(const ft_log_hooks *h);
// What the library calls.
void ft_log_info(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ft_log_progress(int event, const char *label, uint64_t done, uint64_t total, const char *extra);

double ft_now(void);   // monotonic seconds

#endif
