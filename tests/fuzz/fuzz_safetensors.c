// fuzz_safetensors.c — libFuzzer target for the safetensors reader: open, then read the
// last byte of every tensor it reports.
#include "fuzz_common.h"
#include "format/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_set *s = st_open(fuzz_file(data, size, ".safetensors"));
    if (!s) return 0;
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < s->n_tensors; i++)
        if (s->tensors[i].nbytes) sink += s->tensors[i].data[s->tensors[i].nbytes - 1];
    (void)sink;
    st_close(s);
    return 0;
}
