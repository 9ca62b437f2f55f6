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

int ft_tok_record_is_pair(const json_t *rec) {
    return json_object_get(rec, "chosen") != NULL || json_object_get(rec, "rejected") != NULL;
}

int ft_tok_record_pair(const ft_tokenizer *tok, ft_tok_ws *ws, const json_t *rec, ft_tok_ids *ids, uint8_t **mask,
                       size_t *mask_cap, size_t *split) {
    static const char *SIDE[2] = {"chosen", "rejected"};
    ft_tok_ids one = {0};
    int rc = 0;
    ids->n = 0;
    *split = 0;
    for (int s = 0; s < 2 && !rc; s++) {
        const json_t *side = json_object_get(rec, SIDE[s]);
        if (!json_is_object(side) || !json_is_array(json_object_get(side, "segments"))) {
            ft_err("\"%s\" must be an object with \"segments\" (a preference pair from ft-template)%s", SIDE[s],
                   side ? "" : ": the pair misses a side");
            rc = -2;
            break;
        }
        uint8_t *m1 = NULL;
        size_t cap1 = 0;
        if ((rc = ft_tok_record(tok, ws, side, "segments", 0, &one, &m1, &cap1))) {
            free(m1);
            if (rc == -2) ft_err_ctx("\"%s\"", SIDE[s]);
            break;
        }
        size_t trained = 0;
        for (size_t i = 1; i < one.n; i++) trained += m1[i] != 0;
        if (!trained) {
            free(m1);
            ft_err("\"%s\" has no trained token after its first (an empty completion?)", SIDE[s]);
            rc = -2;
            break;
        }
        size_t n = ids->n + one.n;
        if (n > ids->cap) {
            uint32_t *a = ft_realloc(ids->ids, n * sizeof *a), *o = a ? ft_realloc(ids->offs, n * sizeof *o) : NULL;
            if (a) ids->ids = a;
            if (o) ids->offs = o;
            if (!a || !o) { free(m1); rc = -1; break; }
            ids->cap = n;
        }
        if (mask_grow(mask, mask_cap, n)) { free(m1); rc = -1; break; }
        memcpy(ids->ids + ids->n, one.ids, one.n * sizeof *one.ids);
        memcpy(ids->offs + ids->n, one.offs, one.n * sizeof *one.offs);
        memcpy(*mask + ids->n, m1, one.n);
        ids->n = n;
        if (s == 0) *split = one.n;
        free(m1);
    }
    ft_tok_ids_free(&one);
    return rc;
}
