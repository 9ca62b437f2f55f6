// rows.h — the one row packer: records' tokens into forward rows, shared by ft-train's batches
// (lib/data/batch.c), ft-eval ppl and ft-eval choice (lib/eval/eval_choice.c).
//
// A row has `cap` positions. A document is tokens [s, e) of a record placed at the next free
// positions: ids = the tokens, positions restarting at 0, the row's document index (0, 1, ...;
// attention stays within a document), and HF label shifting: position t predicts token t+1
// and counts in the loss when t+1 is inside the document and its mask bit is set (mask NULL:
// every token is a target). Where no loss is taken the target is 0. A record longer than the
// row is scored in windows that overlap by one token, so every target is predicted once.
#ifndef FT_ROWS_H
#define FT_ROWS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int32_t *ids;        // (cap,) input tokens (0 in padding)
    int32_t *targets;    // (cap,) next token where mask is set, else 0
    uint8_t *mask;       // (cap,) 1 = loss taken here
    int32_t *pos;        // (cap,) position within the document (0 in padding)
    int32_t *doc;        // (cap,) document index within the row (-1 in padding)
    int cap;             // positions
    int n;               // positions filled
    int n_docs;          // documents placed
    uint64_t n_targets;  // sum of mask
} ft_row;

// A row over caller-owned arrays of cap positions (any of pos/doc may be NULL: not filled).
ft_row ft_row_view(int32_t *ids, int32_t *targets, uint8_t *mask, int32_t *pos, int32_t *doc, int cap);
// Empty the row: every position padding.
void ft_row_clear(ft_row *r);
// Empty the row for reuse without writing the padding (positions >= n are then stale).
void ft_row_reset(ft_row *r);
// Free positions left.
static inline int ft_row_room(const ft_row *r) { return r->cap - r->n; }
// Append tokens[s, e) as the next document (e - s <= ft_row_room). Returns its targets.
uint64_t ft_row_add(ft_row *r, const uint32_t *tokens, const uint8_t *mask, size_t s, size_t e);

// Shifted targets of a whole record of n tokens (positions 0..n-2 predicting 1..n-1).
uint64_t ft_record_targets(const uint8_t *mask, size_t n);
// Windows of a record of n tokens in rows of cap >= 2 positions: [k*(cap-1), min(that+cap, n))
// for k = 0 .. ft_record_windows(n, cap)-1 (one window when n <= cap; none when n == 0).
size_t ft_record_windows(size_t n, int cap);
void ft_record_window(size_t n, int cap, size_t k, size_t *s, size_t *e);

#endif
