// fuzz_common.h — shared by the libFuzzer targets: the readers take paths, so each input is
// written to a per-process temporary file first.
#ifndef FT_FUZZ_COMMON_H
#define FT_FUZZ_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *fuzz_file(const uint8_t *data, size_t size, const char *ext) {
    static char path[256];
    snprintf(path, sizeof path, "/tmp/ft-fuzz-%d%s", (int)getpid(), ext);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    return path;
}
#endif
