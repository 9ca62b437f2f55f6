// fuzz_filter.c — libFuzzer target for ft-filter's text handling: Gopher quality measures,
// word units and word counts on arbitrary bytes (invalid UTF-8 included), and the whole
// pipeline (exact dedup, quality, shuffle with spilling) on the input read as JSONL or FTOK.
#include "fuzz_common.h"
#include "data/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    double v[FT_Q_N];
    ft_quality_measure((const char *)data, size, v);
    uint64_t *u = NULL;
    size_t cap = 0;
    ft_text_units((const char *)data, size, &u, &cap);
    free(u);
    (void)ft_text_words((const char *)data, size);
    ft_filter_opts o;
    ft_filter_defaults(&o);
    const char *in[] = {fuzz_file(data, size, ".in")};
    o.inputs = in;
    o.n_inputs = 1;
    o.out = "/dev/null";
    o.skip_bad = 1;
    o.dedup = 1;
    o.use_quality = 1;
    o.shuffle = 1;
    o.mem_bytes = 4096;
    o.split_val = 0;
    json_t *st = NULL;
    ft_filter_run(&o, &st);
    json_decref(st);
    return 0;
}
