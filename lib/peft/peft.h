// peft.h — open any adapter directory ft-train writes (or PEFT writes, for the types ft knows)
// on a model, dispatching on adapter_config.json's "peft_type" through the PEFT kind table
// (lib/peft/peft_kind.h):
//   LORA (incl. use_dora)           lib/peft/lora.h     (a second one is merged into the base weights)
//   PROMPT_TUNING, PREFIX_TUNING    lib/model/virtual.h  (one per model)
//   BOTTLENECK                      lib/model/bottleneck.h (one per model)
// For ft-eval's repeatable --adapter and ft-merge. Also the adapter_config.json reader/writer
// the adapter types share.
#ifndef FT_PEFT_H
#define FT_PEFT_H

#include <stddef.h>
#include "model/model.h"

struct json_t;

// Read an adapter_config.json (path) as a JSON object, or NULL with "PATH:LINE: what".
struct json_t *ft_peft_config_read(const char *path);
// Write c to path as PEFT does (keys sorted, indent 2, final newline), atomically; consumes c.
int ft_peft_config_write(const char *path, struct json_t *c);
// Write an adapter dir: DIR/adapter_model.safetensors from w (with PEFT's "format": "pt"
// metadata), then DIR/adapter_config.json from config — each atomically, the config last so a
// failed save never leaves a dir that looks complete. Creates DIR; consumes config and w.
struct st_writer;
int ft_peft_save_dir(const char *dir, struct json_t *config, struct st_writer *w);

// Set c's "base_model_name_or_path" from the path ft trained on: the HF dir (absolute; a
// .safetensors file's directory; a name that is no path, as it is), else null (a GGUF file,
// which PEFT cannot load: ft-train --base-name names one, ft_peft_set_base_name; the path
// itself is in OUT/train_config.json's "model"; no key of ft's own is added, as PEFT warns on
// every key it does not know). A "tokenizer_name_or_path" equal to base_model follows.
void ft_peft_set_base(struct json_t *c, const char *base_model);
// Rewrite DIR/adapter_config.json's base_model_name_or_path (and a set tokenizer_name_or_path)
// to name: a hub id or dir PEFT can load the base from (ft-train --base-name).
int ft_peft_set_base_name(const char *dir, const char *name);

struct ft_peft_kind;
// The kind row of DIR's adapter_config.json peft_type, and that config in *config (the caller
// decrefs it); NULL with a message naming the file (unreadable, no peft_type, or a type ft
// does not know: the message lists the known ones, or with for_merge the mergeable ones).
const struct ft_peft_kind *ft_peft_kind_of_dir(const char *dir, struct json_t **config, int for_merge);

typedef struct ft_peft ft_peft;   // what was attached (NULL when it was merged)

// Attach (or, for a further LoRA, merge) the adapter in dir to m; *out receives what the
// caller must release with ft_peft_destroy after the model is done (may be NULL).
int ft_peft_apply(ft_model *m, const char *dir, ft_peft **out);
void ft_peft_destroy(ft_peft *p);   // NULL is fine

#endif
