// rows.c — records into forward rows: positions, document ids, shifted targets and masks,
// windows of long records (see rows.h).
#include "data/rows.h"

#include <string.h>

ft_row ft_row_view(int32_t *ids, int32_t *targets, uint8_t *mask, int32_t *pos, int32_t *doc, int cap) {
    return (ft_row){ids, targets, mask, pos, doc, cap, 0, 0, 0};
}

void ft_row_reset(ft_row *r) { r->n = r->n_docs = 0; r->n_targets = 0; }

void ft_row_clear(ft_row *r) {
    size_t n = (size_t)r->cap;
    memset(r->ids, 0, n * sizeof *r->ids);
    memset(r->targets, 0, n * sizeof *r->targets);
    memset(r->mask, 0, n);
    if (r->pos) memset(r->pos, 0, n * sizeof *r->pos);
    if (r->doc)
        for (size_t i = 0; i < n; i++) r->doc[i] = -1;
    ft_row_reset(r);
}

uint64_t ft_row_add(ft_row *r, const uint32_t *tokens, const uint8_t *mask, size_t s, size_t e) {
    uint64_t t = 0;
    int d = r->n_docs++;
    for (size_t i = s; i < e; i++) {
        int k = r->n++;
        r->ids[k] = (int32_t)tokens[i];
        if (r->pos) r->pos[k] = (int32_t)(i - s);
        if (r->doc) r->doc[k] = d;
        int on = i + 1 < e && (!mask || mask[i + 1]);
        r->targets[k] = on ? (int32_t)tokens[i + 1] : 0;
        r->mask[k] = (uint8_t)on;
        t += (uint64_t)on;
    }
    r->n_targets += t;
    return t;
}

uint64_t ft_record_targets(const uint8_t *mask, size_t n) {
    uint64_t t = 0;
    for (size_t i = 1; i < n; i++) t += mask ? (mask[i] != 0) : 1;
    return t;
}

size_t ft_record_windows(size_t n, int cap) {
    if (n == 0) return 0;
    if (n <= (size_t)cap) return 1;
    size_t step = (size_t)cap - 1;
    return 1 + (n - (size_t)cap + step - 1) / step;   // last window ends at n
}

void ft_record_window(size_t n, int cap, size_t k, size_t *s, size_t *e) {
    *s = k * ((size_t)cap - 1);
    *e = *s + (size_t)cap < n ? *s + (size_t)cap : n;
}
