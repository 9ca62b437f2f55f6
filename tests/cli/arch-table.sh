# The architecture lives in one table (lib/model/arch.c, lib/model/arch.h): no code outside it compares
# architecture names (strcmp on an arch field or against "llama"/"qwen2"/"mistral"), and the
# model load/save/naming code has no literal linear count or stride (7 per layer) and no
# literal HF/GGUF tensor names (they come from the table's rows).
. "$FT_ROOT/tests/lib.sh"
cd "$FT_ROOT"
[ -f lib/model/arch.c ] || fail "lib/model/arch.c (the architecture table) is missing"
names='"(llama|qwen2|mistral|smollm|tinyllama)"'
# 1. no comparison of architecture names outside the table (lib/tokenize/tok_*.c compare GGUF
#    tokenizer.ggml.model, where "llama" names a SentencePiece vocabulary, not an architecture)
hits=$(grep -rnE "str(n?case)?cmp[^;]*(arch|$names)" lib tools kernels --include='*.c' --include='*.h' --include='*.cu' \
       | grep -vE '^lib/(model/arch|tokenize/tok_[a-z_]+)\.c:' || true)
[ -z "$hits" ] || fail "architecture names compared outside lib/model/arch.c:
$hits"
# 2. no literal linear count or stride in the code that lays out, loads, saves and names tensors
room="lib/model/model_load.c lib/model/model_save.c lib/model/model_config.c lib/model/qweight.c lib/model/linear.c tools/ft-merge.c"
hits=$(grep -nE '(\* *7|/ *7|% *7|< *7|== *7|\[7\]|\+ *7)\b' $room | grep -vE ':\s*//' || true)
[ -z "$hits" ] || fail "literal linear count/stride (7) outside lib/model/arch.h's FT_LIN_COUNT:
$hits"
grep -qE 'define FT_LORA_N_TARGETS FT_LIN_COUNT\b' lib/peft/lora.h || fail "lib/peft/lora.h: FT_LORA_N_TARGETS is not FT_LIN_COUNT"
# 3. no tensor names spelled outside the table in that code
hits=$(grep -nE '"[^"]*(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj|self_attn|layernorm|embed_tokens|lm_head|attn_q|attn_k|ffn_|token_embd|output_norm|blk\.)[^"]*"' $room || true)
[ -z "$hits" ] || fail "tensor names spelled outside lib/model/arch.c:
$hits"
echo "arch table: no arch-name strcmp, linear count or tensor name outside lib/model/arch.c"
