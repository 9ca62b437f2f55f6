// segments.c — segment records into (text, per-token train mask) (see segments.h).
#include "format/segments.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

void ft_segments_free(ft_segments *s) {
    free(s->text);
    free(s->end);
    free(s->train);
    memset(s, 0, sizeof *s);
}

int ft_segments_parse(const json_t *segs, ft_segments *s) {
    memset(s, 0, sizeof *s);
    if (!json_is_array(segs)) return ft_err("\"segments\" must be an array"), -2;
    size_t n = json_array_size(segs), total = 0, i;
    const json_t *e;
    json_array_foreach(segs, i, e) {
        const json_t *tx = json_object_get(e, "text"), *tr = json_object_get(e, "train");
        if (!json_is_string(tx)) return ft_err("segments[%zu]: \"text\" must be a string", i), -2;
        if (tr && !json_is_boolean(tr)) return ft_err("segments[%zu]: \"train\" must be true or false", i), -2;
        total += json_string_length(tx);
    }
    s->text = ft_malloc(total + 1);
    s->end = ft_malloc((n ? n : 1) * sizeof *s->end);
    s->train = ft_malloc(n ? n : 1);
    if (!s->text || !s->end || !s->train) { ft_segments_free(s); return -1; }
    json_array_foreach(segs, i, e) {
        const json_t *tx = json_object_get(e, "text");
        size_t l = json_string_length(tx);
        memcpy(s->text + s->len, json_string_value(tx), l);
        s->len += l;
        s->end[i] = s->len;
        s->train[i] = json_is_true(json_object_get(e, "train"));
    }
    s->text[s->len] = 0;
    s->n = n;
    return 0;
}

int ft_segments_train_at(const ft_segments *s, size_t off) {
    // the first segment ending after off (ends are non-decreasing): binary search
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->end[mid] > off) hi = mid;
        else lo = mid + 1;
    }
    return lo < s->n ? s->train[lo] : 0;
}

void ft_segments_mask(const ft_segments *s, const uint32_t *offs, size_t n, uint8_t *mask) {
    for (size_t i = 0; i < n; i++) mask[i] = (uint8_t)ft_segments_train_at(s, offs[i]);
}

size_t ft_segments_prompt_len(const ft_segments *s) {
    for (size_t i = 0; i < s->n; i++)
        if (s->train[i]) return i ? s->end[i - 1] : 0;
    return s->len;
}
