// tok_record.h — one JSONL training record into token ids and a per-token target mask, as
// ft-tokenize writes it to FTOK: a {"segments":[...]} record (lib/format/segments.h) is encoded as one
// string without added BOS/EOS (the chat template wrote them) and a token is a target when its
// first byte lies in a train segment; a plain record's `field` string is encoded with `flags`
// (BOS/EOS) and every token is a target.
#ifndef FT_TOK_RECORD_H
#define FT_TOK_RECORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenize/tokenizer.h"

// ids: reused encode buffer; *mask (capacity *mask_cap) grown as needed. 0 ok; -2 + ft_err for a
// bad record (the reason, without FILE:LINE); -1 + ft_err otherwise.
int ft_tok_record(const ft_tokenizer *tok, ft_tok_ws *ws, const json_t *rec, const char *field, int flags,
                  ft_tok_ids *ids, uint8_t **mask, size_t *mask_cap);

// A preference pair from ft-template ({"chosen":{"segments":[...]},"rejected":{"segments":[...]}}):
// 1 when rec is one (has "chosen" or "rejected").
int ft_tok_record_is_pair(const json_t *rec);
// Both sides encoded as segments records, concatenated into ids/mask (chosen first); *split =
// tokens of the chosen side. Each side must have a token and a target. Returns as ft_tok_record.
int ft_tok_record_pair(const ft_tokenizer *tok, ft_tok_ws *ws, const json_t *rec, ft_tok_ids *ids, uint8_t **mask,
                       size_t *mask_cap, size_t *split);

#endif
