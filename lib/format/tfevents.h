// tfevents.h — TensorBoard event files of scalars (ft-train --tensorboard DIR), written by a
// small writer of our own: TFRecord framing (little-endian u64 length, masked CRC-32C of
// the length, the bytes, masked CRC-32C of the bytes) around hand-encoded protobuf messages
// of tensorflow/core/util/event.proto and summary.proto, only the fields used here:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// Why not a protobuf library: Debian's libprotobuf-c needs protoc-c code generation from the
// TensorFlow .proto files at build time for three messages and six fields, and still leaves
// the TFRecord framing and its CRC-32C to us; encoding them is ~60 lines (below), and the
// tests read the files back with an independent decoder and with TensorBoard's own reader.
// The file is appended and flushed event by event (TensorBoard reads it while it grows), so it
// is not written to a temporary name first.
#ifndef FT_TFEVENTS_H
#define FT_TFEVENTS_H

#include <stddef.h>
#include <stdint.h>

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), and TFRecord's mask of it:
// ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t ft_crc32c(const void *data, size_t n);
uint32_t ft_crc32c_mask(uint32_t crc);

typedef struct ft_tfevents ft_tfevents;

// Create DIR (mkdir -p) and DIR/events.out.tfevents.<unix seconds>.<host>.<pid>, and write the
// first event (file_version "brain.Event:2"). NULL + message on failure.
ft_tfevents *ft_tfevents_open(const char *dir);
const char *ft_tfevents_path(const ft_tfevents *w);
// One event at step with n scalars (tag, value), wall time now; flushed. 0 or -1.
int ft_tfevents_scalars(ft_tfevents *w, int64_t step, const char *const *tags, const double *values, int n);
// A metrics JSONL line ({"step": N, "loss": ..., ...}): every numeric key but "step" becomes
// a scalar of that name at that step. 0 or -1 (a line without a numeric step is an error).
int ft_tfevents_json_line(ft_tfevents *w, const char *line);
// Close (NULL is fine). 0 or -1 when the last writes failed.
int ft_tfevents_close(ft_tfevents *w);

#endif
