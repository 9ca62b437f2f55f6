// segments.h — the segment records of ft-template ({"segments":[{"text","train"}...]}) and
// what they mean for the loss: the texts are concatenated, and a token is a training target
// when the byte it starts at lies in a segment with "train": true. One implementation, used
// by ft-tokenize (token masks), ft-eval generate (the prompt before the first train segment)
// and ft-filter (the record's text).
#ifndef FT_SEGMENTS_H
#define FT_SEGMENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *text;        // the segment texts concatenated, NUL-terminated (may hold NULs)
    size_t len;        // bytes of text
    size_t n;          // segments
    size_t *end;       // (n,) segment i is text[end[i-1] .. end[i]) (end[-1] = 0)
    uint8_t *train;    // (n,) 1 = "train": true
} ft_segments;

// Parse the value of a record's "segments" key. 0 ok; -2 + ft_err for bad data (the reason,
// e.g. `segments[2]: "text" must be a string`, without FILE:LINE); -1 + ft_err out of memory.
// "train" may be missing (false) but when present must be a boolean.
int ft_segments_parse(const json_t *segs, ft_segments *s);
void ft_segments_free(ft_segments *s);

// Train flag of the segment holding byte `off` of text (empty segments hold no byte); 0 at or
// past the end of the text.
int ft_segments_train_at(const ft_segments *s, size_t off);
// mask[i] = ft_segments_train_at(s, offs[i]) for n tokens starting at byte offsets offs.
void ft_segments_mask(const ft_segments *s, const uint32_t *offs, size_t n, uint8_t *mask);
// Bytes of text before the first train segment (all of it when none trains): the prompt.
size_t ft_segments_prompt_len(const ft_segments *s);

#endif
