// tok_record.c — a segments or text record into ids + target mask (see tok_record.h).
#include "tokenize/tok_record.h"
#include "core/err.h"
#include "format/segments.h"

#include <stdlib.h>
#include <string.h>

static int mask_grow(uint8_t **mask, size_t *cap, size_t n) {
    if (*cap >= n && *mask) return 0;
    uint8_t *m = ft_realloc(*mask, n ? n : 1);
    if (!m) return -1;
    *mask = m;
    *cap = n;
    return 0;
}

int ft_tok_record(const ft_tokenizer *tok, ft_tok_ws *ws, const json_t *rec, const char *field, int flags,
                  ft_tok_ids *ids, uint8_t **mask, size_t *mask_cap) {
    const json_t *segs = json_object_get(rec, "segments");
    ft_segments sg = {0};
    const char *text;
    size_t len;
    if (segs) {
        int e = ft_segments_parse(segs, &sg);
        if (e) return e;
        text = sg.text;
        len = sg.len;
        flags = 0;   // chat-template semantics: the template wrote any BOS/EOS itself
    } else {
        const json_t *tx = json_object_get(rec, field);
        if (!json_is_string(tx)) return ft_err("no string \"%.60s\" field (and no \"segments\")", field), -2;
        text = json_string_value(tx);
        len = json_string_length(tx);
    }
    int rc = -2;   // an encoding error is the record's (e.g. text the tokenizer cannot take)
    if (ft_tokenizer_encode_ws(tok, ws, text, len, flags, ids) == 0) {
        rc = mask_grow(mask, mask_cap, ids->n);
        if (rc == 0 && segs) ft_segments_mask(&sg, ids->offs, ids->n, *mask);
        else if (rc == 0) memset(*mask, 1, ids->n);
    }
    ft_segments_free(&sg);
    return rc;
}
