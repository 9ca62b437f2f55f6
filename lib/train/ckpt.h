// ckpt.h — training checkpoints. A checkpoint is a directory ROOT/step-NNNNNNNN holding
//   state.bin   "FTCK" | u32 version | u64 n | params f32[n] | adam m f32[n] | adam v f32[n]
//               | u64 checksum (FNV-1a 64 of everything before it)
//   state.json  step, data position, RNG state, optimizer step and whatever the trainer adds
// It is written as ROOT/.tmp-step-NNNNNNNN-PID (files fsynced), then renamed into place, so
// a crash at any moment leaves either the complete new checkpoint or none; leftovers of an
// interrupted save are ignored (and removed by the next save).
#ifndef FT_CKPT_H
#define FT_CKPT_H

#include <stddef.h>

// Save step `step`; keep at most `keep` checkpoints (older ones removed; keep <= 0: all).
// protect_step (>= 0) is never removed (e.g. the best eval checkpoint). Returns 0/-1.
int ft_ckpt_save(const char *root, long step, const float *params, const float *m, const float *v, size_t n,
                 const char *state_json, int keep, long protect_step);
// Newest complete checkpoint directory under root (malloc'd), or NULL when there is none
// (not an error: ft_errmsg() is left empty). Directories whose state fails to verify are
// skipped with their reason in *skipped (malloc'd, may be NULL).
char *ft_ckpt_latest(const char *root, size_t n, char **skipped);
// Load a checkpoint written for n parameters: checks size, magic and checksum.
// *state_json receives the state.json text (malloc'd).
int ft_ckpt_load(const char *dir, float *params, float *m, float *v, size_t n, char **state_json);
// Step number of a checkpoint directory name ("step-00000012" -> 12), -1 otherwise.
long ft_ckpt_step_of(const char *dir);

#endif
