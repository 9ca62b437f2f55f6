# ft-merge refuses (exit 1, nothing written) to write non-finite weights: an adapter holding a
# NaN (the adapter's tensor named), an adapter whose update overflows f32 (the merged tensor,
# row and column named), a second adapter that breaks an otherwise good merge (that adapter
# named), a merged weight beyond f16's range when storing f16 (finite in f32: merges), and a
# base holding NaN.
. "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --heads 4 \
  --kv-heads 2 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/parity/merge_ref.py" make-adapter lora tiny 1 2 4 0 q_proj,v_proj
# edit SRC DST PY_EXPR_ON_t: a copy of adapter SRC with its tensors t changed
edit() {
  cp -r "$1" "$2"
  "$FT_PY" - "$2" "$3" <<'PY'
import sys
import numpy as np
from safetensors.numpy import load_file, save_file
d, expr = sys.argv[1], sys.argv[2]
t = load_file(d + "/adapter_model.safetensors")
P = "base_model.model.model.layers.1.self_attn.v_proj."
exec(expr)
save_file(t, d + "/adapter_model.safetensors")
PY
}
edit lora nan 't[P + "lora_B.weight"][2, 1] = np.nan'
edit lora huge 't[P + "lora_A.weight"] *= np.float32(1e30); t[P + "lora_B.weight"] *= np.float32(1e30)'
edit lora big 't[P + "lora_B.weight"] *= np.float32(1e6)'
expect_exit 1 ft-merge --model tiny --adapter nan -o merged
expect_in "ft-merge: nan/adapter_model.safetensors: tensor base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight holds a non-finite value" err
[ ! -e merged ] || fail "a refused merge wrote merged/"
expect_exit 1 ft-merge --model tiny --adapter huge -o merged --dtype f32
expect_in "ft-merge: huge: merging it (weight 1) makes model.layers.1.self_attn.v_proj.weight non-finite" err
expect_in "nothing was written" err
[ ! -e merged ] || fail "a refused merge wrote merged/"
expect_exit 1 ft-merge --model tiny --adapter lora --adapter nan --weight 0.5 -o merged
expect_in "ft-merge: nan/adapter_model.safetensors: tensor " err
[ ! -e merged ] || fail "a refused merge wrote merged/"
expect_exit 1 ft-merge --model tiny --adapter big --dtype f16 -o merged
expect_in "ft-merge: big: merging it (weight 1) makes model.layers.1.self_attn.v_proj.weight " err
expect_in "beyond f16's range (|x| <= 65504)" err
[ ! -e merged ] || fail "a refused f16 merge wrote merged/"
ft-merge --model tiny --adapter big --dtype f32 -o merged32 -q || fail "a finite f32 merge was refused"
"$FT_PY" "$FT_ROOT/tests/parity/merge_ref.py" expect-merge tiny merged32 big 1
mkdir nanbase && cp tiny/* nanbase/
"$FT_PY" - <<'PY'
from safetensors.numpy import load_file, save_file
t = load_file("nanbase/model.safetensors")
t["model.layers.0.mlp.up_proj.weight"][0, 3] = float("inf")
save_file(t, "nanbase/model.safetensors", metadata={"format": "pt"})
PY
expect_exit 1 ft-merge --model nanbase --adapter lora -o merged
expect_in "ft-merge: nanbase: tensor model.layers.0.mlp.up_proj.weight holds inf at index 3" err
[ ! -e merged ] || fail "a refused merge wrote merged/"
