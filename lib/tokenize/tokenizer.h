// tokenizer.h — BPE tokenizers with ids identical to HF `tokenizers`: HF tokenizer.json
// (byte-level BPE as GPT-2/Llama 3/Qwen2/SmolLM/StarCoder, SentencePiece-style BPE with byte
// fallback as Llama 2/Mistral/Phi-3) and GGUF vocabularies (tokenizer.ggml.*, "gpt2" and
// "llama" models, pre-tokenizer chosen by tokenizer.ggml.pre).
//
// A loaded tokenizer is read-only and may be shared by threads; encode/decode take a
// per-thread ft_tok_ws work space (or NULL for a temporary one).
#ifndef FT_TOKENIZER_H
#define FT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct ft_tokenizer ft_tokenizer;
typedef struct ft_tok_ws ft_tok_ws;     // per-thread scratch + word cache

// Load tokenizer.json, a model directory holding tokenizer.json (+ tokenizer_config.json for the
// BOS/EOS/PAD names) or else exactly one .gguf, or a .gguf file (any file starting with "GGUF").
// NULL + message "PATH: what is wrong" on error.
ft_tokenizer *ft_tokenizer_load(const char *path);
void ft_tokenizer_free(ft_tokenizer *t);

// ---- encoding ------------------------------------------------------------------------------
// Flags for encode. Special/added tokens written in the text are always recognised (HF
// semantics). BOS/EOS: FT_TOK_DEFAULT_SPECIAL adds them as the tokenizer's post-processor /
// add_bos_token / add_eos_token say; FT_TOK_BOS / FT_TOK_EOS force them on.
enum {
    FT_TOK_DEFAULT_SPECIAL = 1,   // add BOS/EOS per tokenizer defaults
    FT_TOK_BOS = 2,               // add BOS (when the tokenizer has one)
    FT_TOK_EOS = 4,               // add EOS (when the tokenizer has one)
};

// Result of an encode: ids and, for each id, the byte offset in the input text where the
// token starts (added BOS/EOS get offset 0 and len respectively). Buffers are reused.
typedef struct {
    uint32_t *ids;    // (n,)
    uint32_t *offs;   // (n,) start byte of each token in the input
    size_t n, cap;
} ft_tok_ids;
void ft_tok_ids_free(ft_tok_ids *o);

ft_tok_ws *ft_tok_ws_new(void);
void ft_tok_ws_free(ft_tok_ws *ws);

// Encode text[0..len) into out (out->n reset first). 0 ok, -1 error (e.g. invalid UTF-8).
int ft_tokenizer_encode_ws(const ft_tokenizer *t, ft_tok_ws *ws, const char *text, size_t len,
                           int flags, ft_tok_ids *out);

// Convenience: *ids malloc'd (caller frees). add_special: 1 = FT_TOK_DEFAULT_SPECIAL, 0 = none.
int ft_tokenizer_encode(const ft_tokenizer *t, const char *text, size_t len, int add_special,
                        uint32_t **ids, size_t *n);

// ---- decoding ------------------------------------------------------------------------------
// Decode ids to text as HF decode(ids, skip_special_tokens=skip_special) does. *text is
// malloc'd and NUL-terminated (may contain invalid UTF-8 only where the ids do: HF would show
// U+FFFD there, ft keeps the bytes). Unknown ids are an error.
int ft_tokenizer_decode(const ft_tokenizer *t, const uint32_t *ids, size_t n, char **text, size_t *len);
int ft_tokenizer_decode_ex(const ft_tokenizer *t, const uint32_t *ids, size_t n, int skip_special,
                           char **text, size_t *len);

// Bytes one token contributes in the middle of a stream (for streaming generation):
// byte-level tokens give their raw bytes, "▁" becomes a space, "<0x41>" the byte 0x41,
// special tokens their content. Writes up to cap bytes; returns the full length or -1.
// (A leading space a SentencePiece decoder strips at the very start is not stripped here.)
int ft_tokenizer_token_bytes(const ft_tokenizer *t, uint32_t id, char *buf, size_t cap);

// ---- vocabulary ----------------------------------------------------------------------------
uint32_t ft_tokenizer_vocab_size(const ft_tokenizer *t);   // max id + 1 (incl. added tokens)
int32_t ft_tokenizer_bos(const ft_tokenizer *t);            // -1 when none
int32_t ft_tokenizer_eos(const ft_tokenizer *t);            // -1 when none
int32_t ft_tokenizer_pad(const ft_tokenizer *t);            // -1 when none
int32_t ft_tokenizer_unk(const ft_tokenizer *t);            // -1 when none
// Ids that end a generation: EOS plus end-of-turn tokens (<|eot_id|>, <|im_end|>, <|end|>,
// <end_of_turn>, <|eom_id|>, <|endoftext|> ...) present in the vocabulary. Returns the count.
size_t ft_tokenizer_stop_ids(const ft_tokenizer *t, const uint32_t **ids);
int ft_tokenizer_add_bos_default(const ft_tokenizer *t);
int ft_tokenizer_add_eos_default(const ft_tokenizer *t);
// 64-bit id of the vocabulary: FNV-1a over the model kind, the vocab strings in id order
// and, for byte-level BPE, the merges in rank order (SentencePiece-style vocabularies hash
// the strings only, since GGUF carries scores where tokenizer.json carries merges). Never 0.
// The same model loaded from tokenizer.json or from its GGUF gives the same id.
uint64_t ft_tokenizer_id(const ft_tokenizer *t);
// The vocabulary string of a token as stored ("Ġhello", "▁the", "<0x0A>", "<|im_end|>");
// NULL for an id out of range or a hole in the vocabulary.
const char *ft_tokenizer_piece(const ft_tokenizer *t, uint32_t id, size_t *len);
// Id of a vocabulary string (exact match on the stored form), -1 when absent.
int32_t ft_tokenizer_lookup(const ft_tokenizer *t, const char *piece, size_t len);
int ft_tokenizer_is_special(const ft_tokenizer *t, uint32_t id);   // added token marked special
// "bpe-bytelevel" or "bpe-spm".
const char *ft_tokenizer_kind(const ft_tokenizer *t);
// A warning from loading that the tool should show (e.g. a GGUF tokenizer.ggml.pre that is
// missing or unknown, so llama.cpp's default pre-tokenizer is used); NULL when none.
const char *ft_tokenizer_warning(const ft_tokenizer *t);

// Write the tokenizer of GGUF file gguf_path as Hugging Face files into dir (lib/tokenize/
// tok_gguf_hf.c): tokenizer.json ("gpt2" vocabularies: ids = GGUF indices), tokenizer_config.json
// (special tokens, chat template, model_max_length when > 0) and special_tokens_map.json. A GGUF
// without tokenizer metadata writes nothing (0). -1 with a message naming the file.
int ft_tokenizer_gguf_write_hf(const char *gguf_path, const char *dir, int model_max_length);

#endif
