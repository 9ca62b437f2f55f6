// lora_internal.h — what lora.c and lora_io.c share (not for other files).
#ifndef FT_LORA_INTERNAL_H
#define FT_LORA_INTERNAL_H

#include "peft/lora.h"

struct json_t;
// Each selected hook's rank and alpha: r / alpha unless rank_pattern / alpha_pattern of c has a
// key for its module (PEFT's get_pattern_key). hr/ha get 0 where sel is 0.
int ft_lora_plan(const struct json_t *c, const char *file, int L, int r, float alpha, const unsigned char *sel,
                 int *hr, float *ha);
// Lay out the hooks and the flat buffer for cfg on model m (A, B, mag, bias zero): hook i gets
// rank hr[i] (0: not adapted) and alpha ha[i].
int ft_lora_alloc(ft_adapter *a, ft_model *m, const ft_lora_cfg *cfg, const int *hr, const float *ha);
// Recompute the frozen DoRA row norms of every hook attached to m.
int ft_lora_refresh_norms(ft_model *m);
// "q_proj" ... "down_proj" for linear role j.
const char *ft_lora_peft_name(int j);

#endif
