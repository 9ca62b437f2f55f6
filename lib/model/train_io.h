// train_io.h — what the trainer writes besides checkpoints: the full fine-tuning output as
// an HF model dir (config.json, model.safetensors, tokenizer files), and the metrics log.
#ifndef FT_TRAIN_IO_H
#define FT_TRAIN_IO_H

#include <stdio.h>
#include "model/model.h"

// HF config.json text for cfg (LlamaForCausalLM / Qwen2ForCausalLM), malloc'd.
char *ft_train_config_json(const ft_config *c);
// Write DIR/config.json, DIR/model.safetensors (F32, lm_head omitted when tied) and copy
// the tokenizer files of the model's source dir when it has them.
int ft_train_save_hf(const ft_model *m, const char *dir);
// Open the metrics log: fresh (truncate) or, on resume, keep only lines with step <= keep_step.
FILE *ft_train_log_open(const char *path, int resume, long keep_step);

#endif
