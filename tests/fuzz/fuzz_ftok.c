// fuzz_ftok.c — libFuzzer target for the FTOK reader (plain and zstd-compressed streams):
// read every record and count its targets.
#include "fuzz_common.h"
#include "format/ftok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ftok_reader *r = ftok_open(fuzz_file(data, size, ".tok"));
    if (!r) return 0;
    ftok_record rec = {0};
    volatile uint64_t sink = 0;
    while (ftok_next(r, &rec) == 1) sink += ftok_record_trained(&rec) + (rec.n ? rec.tokens[rec.n - 1] : 0);
    (void)sink;
    ftok_record_free(&rec);
    ftok_close(r);
    return 0;
}
