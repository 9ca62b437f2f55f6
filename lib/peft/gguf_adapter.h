// gguf_adapter.h — LoRA adapters in llama.cpp's GGUF adapter layout (`ft-merge
// --to-gguf-adapter`, loaded by llama.cpp's --lora). rsLoRA's alpha is stored as
// alpha * sqrt(r), since llama.cpp scales by alpha / r. DoRA has no such layout (the caller
// refuses it before loading).
#ifndef FT_GGUF_ADAPTER_H
#define FT_GGUF_ADAPTER_H

#include "peft/lora.h"
#include "model/model.h"

// Write adapter a (loaded for m) to path. 0 ok; -1 + ft_err.
int ft_adapter_save_gguf(ft_model *m, const ft_adapter *a, const char *path);

#endif
