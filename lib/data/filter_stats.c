// filter_stats.c — the --stats report of ft-filter: record and token counts, drops by reason,
// length percentiles (nearest rank) and a power-of-two length histogram of the main output.
#include "data/filter.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

static const char *drop_names[FT_DROP_N] = {
    [FT_DROP_QUALITY] = "quality", [FT_DROP_MIN_LEN] = "min_len", [FT_DROP_MAX_LEN] = "max_len",
    [FT_DROP_NO_TEXT] = "no_text", [FT_DROP_TRUNC_NO_TARGET] = "truncated_no_target",
    [FT_DROP_MIN_TRAINED] = "min_trained", [FT_DROP_CONTAM] = "contaminated",
    [FT_DROP_EXACT] = "duplicate_exact", [FT_DROP_NEAR] = "duplicate_near",
    [FT_DROP_SAMPLE] = "sample", [FT_DROP_HEAD] = "head", [FT_DROP_BAD] = "bad_record",
};

int ft_fstats_add_len(ft_fstats *s, uint32_t len) {
    if (s->out >= s->lens_cap) {
        size_t cap = s->lens_cap ? s->lens_cap * 2 : 4096;
        uint32_t *l = ft_realloc(s->lens, cap * sizeof *l);
        if (!l) return -1;
        s->lens = l;
        s->lens_cap = cap;
    }
    s->lens[s->out] = len;
    return 0;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

json_t *ft_fstats_json(const ft_fstats *s) {
    json_t *r = json_object();
    json_object_set_new(r, "records_in", json_integer((json_int_t)s->in));
    json_object_set_new(r, "records_out", json_integer((json_int_t)s->out));
    json_object_set_new(r, "records_val", json_integer((json_int_t)s->val));
    json_object_set_new(r, "tokens_in", json_integer((json_int_t)s->tokens_in));
    json_object_set_new(r, "tokens_out", json_integer((json_int_t)s->tokens_out));
    json_object_set_new(r, "trained_tokens_out", json_integer((json_int_t)s->trained_out));
    json_object_set_new(r, "truncated", json_integer((json_int_t)s->truncated));
    json_object_set_new(r, "not_in_shard", json_integer((json_int_t)s->not_in_shard));
    json_t *d = json_object();
    for (int i = 0; i < FT_DROP_N; i++)
        if (s->drop[i]) json_object_set_new(d, drop_names[i], json_integer((json_int_t)s->drop[i]));
    json_object_set_new(r, "dropped", d);
    if (s->out) {
        uint32_t *l = malloc(s->out * sizeof *l);
        if (l) {
            memcpy(l, s->lens, s->out * sizeof *l);
            qsort(l, s->out, sizeof *l, cmp_u32);
            json_t *p = json_object();
            static const int pct[] = {0, 5, 25, 50, 75, 95, 100};
            static const char *pn[] = {"min", "p5", "p25", "p50", "p75", "p95", "max"};
            for (int i = 0; i < 7; i++) {
                // nearest rank: the smallest value with at least pct% of values <= it
                size_t rank = (size_t)((pct[i] * (double)s->out + 99) / 100);
                if (rank < 1) rank = 1;
                json_object_set_new(p, pn[i], json_integer(l[rank - 1]));
            }
            double sum = 0;
            for (size_t i = 0; i < s->out; i++) sum += l[i];
            json_object_set_new(p, "mean", json_real(sum / (double)s->out));
            json_object_set_new(r, "length", p);
            // histogram: bin 0 = [0,1), bin k = [2^(k-1), 2^k)
            json_t *h = json_array();
            size_t i = 0;
            for (int k = 0; k <= 33 && i < s->out; k++) {
                uint64_t hi = (uint64_t)1 << k;
                size_t c = 0;
                while (i < s->out && l[i] < hi) { c++; i++; }
                if (!c) continue;
                json_t *e = json_object();
                json_object_set_new(e, "lo", json_integer(k ? (json_int_t)(hi >> 1) : 0));
                json_object_set_new(e, "hi", json_integer((json_int_t)hi));
                json_object_set_new(e, "count", json_integer((json_int_t)c));
                json_array_append_new(h, e);
            }
            json_object_set_new(r, "histogram", h);
            free(l);
        }
    }
    return r;
}

void ft_fstats_free(ft_fstats *s) {
    free(s->lens);
    memset(s, 0, sizeof *s);
}
