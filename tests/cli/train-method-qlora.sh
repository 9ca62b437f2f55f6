# ft-train --method qlora on a tiny model: the frozen base is NF4 — ft-train's step-0 eval_loss
# equals ft-eval --quantize nf4 on the base, and that is close to (but not) the f32 base's;
# the loss goes down; ft-eval --quantize nf4 --adapter reproduces the trained model.
. "$FT_ROOT/tests/cli/train_methods.sh.inc"
# q,k,v,o at r=8: per layer 8*(64+64) + 2*8*(64+32) + 8*(64+64)
check_run $((2 * (8 * 128 * 2 + 8 * 96 * 2))) "--quantize nf4" --method qlora --lr 1e-2
step0_is_base "--quantize nf4"
ft-eval --model tiny ppl val.tok >f32.json
"$FT_PY" - <<'PY'
import json
nf4, f32 = json.load(open("base.json"))["loss"], json.load(open("f32.json"))["loss"]
# 4-bit weights move the loss, but only by quantization noise
assert nf4 != f32 and abs(nf4 - f32) < 0.05 * f32, (nf4, f32)
PY
grep -q "NF4" train.err || { cat train.err >&2; fail "qlora run does not say its base is NF4"; }
