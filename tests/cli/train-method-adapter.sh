# ft-train --method adapter (bottleneck adapters) on a tiny model: step 0 is the base (the
# up-projections start at zero), the loss goes down, ft-eval --adapter reproduces the trained
# model, and ft-merge refuses to fold them into the weights.
. "$FT_ROOT/tests/cli/train_methods.sh.inc"
# d=8 at attn and mlp: per site down (8x64)+8, up (64x8)+64
check_run $((2 * 2 * (8 * 64 + 8 + 64 * 8 + 64))) "" --method adapter --adapter-dim 8 --lr 1e-2
step0_is_base
"$FT_PY" - <<'PY'
import json
cfg = json.load(open("out/adapter_config.json"))
assert cfg["peft_type"] == "BOTTLENECK", cfg
PY
mv out bn
expect_exit 1 ft-merge --model tiny --adapter bn -o merged
expect_in "bn" err
expect_in "ft-eval" err
[ ! -e merged ] || fail "ft-merge left output behind"
