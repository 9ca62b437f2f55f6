// fuzz_jsonl.c — libFuzzer target for the JSONL reader: read every record (bad records are
// skipped as --skip-bad would), with a small line cap so the cap is exercised too.
#include "fuzz_common.h"
#include "core/jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ft_jsonl *j = ft_jsonl_open(fuzz_file(data, size, ".jsonl"), 256);
    if (!j) return 0;
    json_t *o;
    int rc;
    while ((rc = ft_jsonl_next(j, &o)) != 0 && rc != -1)
        if (rc == 1) json_decref(o);
    ft_jsonl_close(j);
    return 0;
}
