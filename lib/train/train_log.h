// train_log.h — the metrics log of a training run (JSON Lines, docs/formats.md section 7).
#ifndef FT_TRAIN_LOG_H
#define FT_TRAIN_LOG_H

#include <stdio.h>

// Open the metrics log: fresh (truncate) or, on resume, keep only lines with step <= keep_step.
FILE *ft_train_log_open(const char *path, int resume, long keep_step);

#endif
