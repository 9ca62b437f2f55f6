// fuzz_train_config.c — libFuzzer target for ft-train --config (lib/optim/train_opts.c and
// train_yaml.c): the input's first byte picks YAML (even) or JSON (odd), the rest is the file.
// Every outcome must be a clean success or a clean error (no crash, leak or unbounded work).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "optim/train_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size) return 0;
    char path[128];
    snprintf(path, sizeof path, "/tmp/ft-fuzz-config-%d.%s", (int)getpid(), data[0] & 1 ? "json" : "yaml");
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    ft_train_opts o;
    ft_train_defaults(&o);
    void *keep = NULL;
    if (ft_train_load_config(&o, path, &keep) == 0) {
        char *js = ft_train_opts_json(&o);   // what a run would write: must serialise
        if (!js) abort();
        free(js);
    }
    ft_train_config_free(keep);
    unlink(path);
    return 0;
}
