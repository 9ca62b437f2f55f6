// ftok.h — FTOK token streams (DESIGN.md §3): a 32-byte header, then records of u32 token
// ids with an optional loss mask (bit i of byte i/8, LSB first = token i is a target).
// Streams are concatenable: an identical header may reappear between records.
// FTOK_FLAG_PAIRS: every record is a preference pair (ft-tokenize of {prompt, chosen,
// rejected}): the record header's second word (otherwise 0) is the length of its first side,
// so tokens [0, split) are prompt + chosen and [split, n) prompt + rejected, each side >= 1
// token. FTOK_FLAG_LABELS: every record carries a binary label in that word (KTO's unpaired
// {"prompt","completion","label"}: 1 desirable, 0 undesirable). Readers older than a flag refuse
// such a stream (unknown flag).
#ifndef FT_FTOK_H
#define FT_FTOK_H

#include <stdint.h>
#include <stddef.h>

#define FTOK_VERSION 1
#define FTOK_FLAG_MASK 1u
#define FTOK_FLAG_PAIRS 2u
#define FTOK_FLAG_LABELS 4u
#define FTOK_HEADER_SIZE 32

typedef struct {
    uint16_t version;
    uint16_t flags;          // FTOK_FLAG_MASK: records carry a loss mask; FTOK_FLAG_PAIRS: preference pairs
    uint32_t vocab_size;     // 0 = unknown
    uint64_t tokenizer_id;   // 0 = unknown
} ftok_header;

// One record in memory. mask holds one byte per token (0/1), or is NULL when the stream
// has no mask (every token is then a target).
typedef struct {
    uint32_t n;
    uint32_t *tokens;   // (n,)
    uint8_t *mask;      // (n,) or NULL
    uint32_t split;     // pair streams: tokens of the first side (chosen); else 0
    uint32_t label;     // labelled streams: 1 desirable, 0 undesirable; else 0
    size_t cap;
} ftok_record;

void ftok_record_free(ftok_record *r);
uint32_t ftok_record_trained(const ftok_record *r);   // number of target tokens

typedef struct ftok_reader ftok_reader;
// Opens and reads the header ("-"/NULL = stdin; zstd is detected). NULL + message on error.
ftok_reader *ftok_open(const char *path);
// Same on an already-open reader (e.g. one whose first bytes were peeked); takes ownership of `in`.
struct ft_reader;
ftok_reader *ftok_open_reader(struct ft_reader *in);
const ftok_header *ftok_reader_header(const ftok_reader *r);
// Next record into rec (buffers reused): 1 = record, 0 = end, -1 = error naming the record.
int ftok_next(ftok_reader *r, ftok_record *rec);
uint64_t ftok_reader_count(const ftok_reader *r);     // records returned so far
const char *ftok_reader_name(const ftok_reader *r);
void ftok_close(ftok_reader *r);

typedef struct ftok_writer ftok_writer;
// Writes to a temporary and renames on commit; ".zst" names are compressed.
ftok_writer *ftok_writer_open(const char *path, const ftok_header *h);
// mask may be NULL (all targets) even when the header has FTOK_FLAG_MASK.
int ftok_write(ftok_writer *w, const uint32_t *tokens, const uint8_t *mask, uint32_t n);
// A preference pair (FTOK_FLAG_PAIRS streams): tokens [0, split) the chosen side, the rest
// the rejected one (0 < split < n). ftok_write on a pair stream, or this on another, fails.
int ftok_write_pair(ftok_writer *w, const uint32_t *tokens, const uint8_t *mask, uint32_t n, uint32_t split);
// A labelled record (FTOK_FLAG_LABELS streams): label 0 or 1.
int ftok_write_labeled(ftok_writer *w, const uint32_t *tokens, const uint8_t *mask, uint32_t n, uint32_t label);
int ftok_writer_flush(ftok_writer *w);
int ftok_writer_commit(ftok_writer *w);
void ftok_writer_abort(ftok_writer *w);

// Encode/decode the 32-byte header. decode returns -1 with a message naming `name`.
void ftok_header_encode(const ftok_header *h, uint8_t out[FTOK_HEADER_SIZE]);
int ftok_header_decode(const uint8_t in[FTOK_HEADER_SIZE], ftok_header *h, const char *name);

#endif
