// batch.h — training data: an FTOK stream loaded into memory, and a loader that turns it
// into micro-batches of rows of --seq-len tokens, either packed (several records per row,
// attention kept within each record through doc ids, positions restarting per record) or
// one record per row with padding (--no-pack).
//
// Rows are filled by the row packer of lib/data/rows.h (shared with ft-eval ppl and choice).
// Targets follow HF's label shifting: position t of a record predicts token t+1 and counts
// in the loss when token t+1's mask bit is set (labels[t+1] != -100). Records with no
// target are skipped and counted; records longer than seq-len are truncated and counted.
// Records are visited in a seeded shuffled order per epoch; the position (epoch, cursor) is
// all a checkpoint needs to resume at the exact next row.
//
// Preference pairs (an FTOK_FLAG_PAIRS stream, lib/format/ftok.h): each pair is loaded as two
// consecutive records (2i the chosen side, 2i+1 the rejected one) and is one unit of the
// order: both sides land in the same micro-batch (packed: as two documents, in one row when
// they fit; --no-pack: a row each), and a micro-batch ends before a pair that does not fit.
// Every placed record is one "sequence" of the micro-batch (seq/seq_rec below), which is what
// a sequence-level objective (lib/train/objective.h) scores.
#ifndef FT_BATCH_H
#define FT_BATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t *tokens;      // (n_tokens,) every kept record, concatenated
    uint8_t *mask;         // (n_tokens,) 1 = token is a target (HF labels[i] = ids[i])
    uint64_t *off;         // (n_rec + 1,) record i = tokens[off[i] .. off[i+1])
    size_t n_rec;          // records kept (each has >= 1 target after shifting)
    uint64_t n_tokens;
    uint64_t n_targets;    // shifted targets over all kept records
    size_t n_read;         // records in the file
    size_t n_no_target;    // skipped: no target after shifting (and truncation)
    size_t n_truncated;    // longer than seq-len: cut to seq-len
    size_t n_empty;        // zero-length records (skipped)
    uint32_t vocab_size;   // from the header (0 = unknown)
    uint64_t tokenizer_id;
    uint32_t max_token;    // largest id seen
    int pairs;             // records 2i, 2i+1 are a preference pair (chosen, rejected)
    uint8_t *label;        // (n_rec,) a labelled stream's labels (KTO: 1 desirable), else NULL
    size_t n_units;        // units of the order: n_rec, or n_rec / 2 pairs
    char *name;
} ft_dataset;

// Load PATH ("-" = stdin), truncating records to seq_len tokens. -1 + message on error; a
// preference-pair stream is refused (naming the objectives that train on pairs).
int ft_dataset_load(ft_dataset *d, const char *path, int seq_len);
// kind FT_DATA_PAIRS: PATH must be a preference-pair stream; each side is truncated to seq_len
// and a pair with a side without targets is skipped (counted in n_no_target; n_read counts
// pairs). FT_DATA_LABELED: a labelled stream (FTOK_FLAG_LABELS), d->label set. FT_DATA_PLAIN:
// ft_dataset_load. A stream of another kind is refused, naming what it is.
enum { FT_DATA_PLAIN, FT_DATA_PAIRS, FT_DATA_LABELED };
int ft_dataset_open(ft_dataset *d, const char *path, int seq_len, int kind);
void ft_dataset_free(ft_dataset *d);

typedef struct {
    uint64_t epoch;        // 0-based
    uint64_t cursor;       // next index into this epoch's order
} ft_data_pos;

typedef struct {
    int B, T;              // rows capacity, seq-len
    int rows;              // rows filled (<= B); the rest is padding
    int32_t *ids;          // (B, T) input tokens (0 in padding)
    int32_t *targets;      // (B, T) next token (0 where no loss)
    uint8_t *mask;         // (B, T) 1 = loss taken at this position
    int32_t *pos;          // (B, T) position within its record
    int32_t *doc;          // (B, T) record index within the row (-1 = padding)
    uint64_t n_targets;    // sum of mask
    uint64_t n_tokens;     // non-padding positions
    int32_t *seq;          // (B, T) sequence (placed record) of each position in [0, n_seq), -1 = padding
    uint32_t *seq_rec;     // (n_seq) the dataset record of each sequence
    uint32_t *seq_targets; // (n_seq) its targets
    int n_seq, seq_cap;
} ft_batch;

int ft_batch_alloc(ft_batch *b, int B, int T);
void ft_batch_free(ft_batch *b);
// Build a batch by hand: ft_batch_clear empties it; ft_batch_add appends tokens[0, n) (n <= T)
// as the next sequence (packed: into the last row when it has room, else a new row; seq_rec
// set to rec). 0 = added, 1 = no row left.
void ft_batch_clear(ft_batch *b);
int ft_batch_add(ft_batch *b, const uint32_t *tokens, const uint8_t *mask, uint32_t n, int pack, uint32_t rec);

typedef struct {
    const ft_dataset *d;
    int T, pack, shuffle;
    uint64_t seed;
    ft_data_pos pos;
    uint32_t *order;       // (n_rec,) visiting order of pos.epoch
} ft_loader;

int ft_loader_init(ft_loader *l, const ft_dataset *d, int T, int pack, int shuffle, uint64_t seed);
void ft_loader_free(ft_loader *l);
// Jump to a saved position (rebuilds that epoch's order).
int ft_loader_seek(ft_loader *l, ft_data_pos pos);
// Fill up to b->B rows from the current epoch. Returns rows filled; 0 = the epoch is over
// (call ft_loader_next_epoch). A short count also means the epoch ended inside this batch.
int ft_loader_fill(ft_loader *l, ft_batch *b);
void ft_loader_next_epoch(ft_loader *l);
// 1 when the current epoch has no unit left.
int ft_loader_epoch_over(const ft_loader *l);
// Rows epoch `epoch` produces (simulates packing over that epoch's order).
uint64_t ft_loader_epoch_rows(const ft_loader *l, uint64_t epoch);
// Micro-batches of B rows epoch `epoch` produces.
uint64_t ft_loader_epoch_batches(const ft_loader *l, uint64_t epoch, int B);

#endif
