// train_log.c — the metrics log of a run (see train_log.h).
#include "train/train_log.h"
#include "core/err.h"
#include "core/io.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

FILE *ft_train_log_open(const char *path, int resume, long keep_step) {
    char *old = NULL;
    size_t len = 0;
    if (resume) {
        struct stat sb;
        if (!stat(path, &sb) && ft_read_all(path, &old, &len)) return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        free(old);
        ft_err("%s: cannot open the log for writing", path);
        return NULL;
    }
    if (old) {
        // keep the lines of steps the resumed run will not repeat
        char *save = NULL;
        for (char *line = strtok_r(old, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            json_t *j = json_loads(line, 0, NULL);
            json_t *s = j ? json_object_get(j, "step") : NULL;
            if (s && json_is_integer(s) && json_integer_value(s) <= keep_step) fprintf(f, "%s\n", line);
            json_decref(j);
        }
        free(old);
        fflush(f);
    }
    return f;
}
