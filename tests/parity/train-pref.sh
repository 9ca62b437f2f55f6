# Preference objectives against the NumPy reference of TRL's formulas (tests/parity/pref_ref.py)
# on a tiny random model, full fine-tuning: for DPO sigmoid, ipo, hinge and robust, SimPO,
# ORPO and KTO (unpaired, with its per-micro-batch KL estimate), the loss and every logged metric
# of step 1 (policy = reference for DPO) and of step 2
# (policy moved by step 1) equal the reference, and ft's gradient of each step — recovered
# from the update of an AdamW with beta1 = beta2 = 0, eps = 1, constant lr (p -= lr g / (|g| + 1)) —
# equals central finite differences of the reference loss. Data: 4 pairs with a shared prompt,
# 2 micro-batches of packed rows (gradient accumulation, document masks). DPO sigmoid at step
# 1 is ln 2 with rewards exactly 0, for the frozen reference copy, --precompute-ref and LoRA
# (the reference = the adapter switched off); a wrong reference formula is told apart.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
ref="$FT_PY $FT_ROOT/tests/parity/pref_ref.py"
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf base --seed 3 >/dev/null
$ref write-pairs d.tok 1 4 300
common="--model base --data d.tok --method full --schedule constant --clip 0 --adam-beta1 0 --adam-beta2 0 \
        --adam-eps 1 --no-shuffle --grad-accum 2 --seq-len 32 -q"
run() {  # run NAME OBJ LOSS_TYPE BETA EPS GAMMA [LR]: two runs (1 and 2 steps), both steps checked
  local n=$1 obj=$2 lt=$3 beta=$4 eps=$5 gamma=$6 lr=${7:-1} r=base extra="--lr ${7:-1}"
  [ "$obj" = dpo ] && extra="$extra --loss-type $lt" || r=-
  [ "$eps" != 0 ] && extra="$extra --label-smoothing $eps"
  [ "$obj" = simpo ] && extra="$extra --simpo-gamma $gamma"
  for s in 1 2; do
    ft-train $common --batch 1 --objective $obj $extra --beta $beta --max-steps $s -o $n$s --log $n$s.jsonl || fail "ft-train $n"
  done
  $ref check $obj $lt $beta $eps $gamma base $r d.tok ${n}1.jsonl 1 base ${n}1 $lr || fail "$n step 1 differs from the reference"
  $ref check $obj $lt $beta $eps $gamma ${n}1 $r d.tok ${n}2.jsonl 2 ${n}1 ${n}2 $lr || fail "$n step 2 differs from the reference"
}
run sig dpo sigmoid 0.1 0 0
run ipo dpo ipo 0.1 0 0
run hin dpo hinge 0.1 0 0 0.05   # a smaller step keeps some pairs inside the hinge's margin at step 2
run rob dpo robust 0.1 0.2 0
run sim simpo sigmoid 2.0 0 0.5
run orp orpo sigmoid 0.1 0 0
# KTO: 6 labelled records, micro-batches of 3 in file order (each its own KL estimate), 2 per step
$ref write-labeled k.tok 2 6 300
for s in 1 2; do
  ft-train ${common/--data d.tok/--data k.tok} --no-pack --batch 3 --objective kto --lr 1 --max-steps $s -o kto$s \
    --log kto$s.jsonl || fail "ft-train kto"
done
$ref check kto - 0.1 0 0 base base k.tok kto1.jsonl 1 base kto1 1 3 || fail "kto step 1 differs from the reference"
$ref check kto - 0.1 0 0 kto1 base k.tok kto2.jsonl 2 kto1 kto2 1 3 || fail "kto step 2 differs from the reference"
tail -1 kto2.jsonl | grep -q '"kl": 0.000000' && fail "kto step 2: the KL estimate is 0 (the test would not see it)"
# ln 2 and zero rewards at step 1 whatever the reference is
$ref ln2 sig1.jsonl || fail "dpo step 1 (frozen copy) is not ln 2"
ft-train $common --batch 1 --lr 1 --objective dpo --precompute-ref --max-steps 2 -o pre --log pre.jsonl || fail "--precompute-ref"
$ref ln2 pre.jsonl || fail "dpo step 1 (--precompute-ref) is not ln 2"
strip() { sed 's/, "tokens_per_s".*//' "$1"; }
[ "$(strip pre.jsonl)" = "$(strip sig2.jsonl)" ] || fail "--precompute-ref and the frozen copy log different steps"
ft-train ${common/--method full/--method lora} --batch 1 --objective dpo --max-steps 1 -o lora --log lora.jsonl || fail "lora dpo"
$ref ln2 lora.jsonl || fail "dpo step 1 (lora, adapter off) is not ln 2"
# the check tells a wrong formula apart: the sigmoid run against the ipo reference fails
$ref check dpo ipo 0.1 0 0 sig1 base d.tok sig2.jsonl 2 sig1 sig2 >wrong.out 2>&1 && fail "ipo reference accepted a sigmoid run"
expect_in "loss: ft" wrong.out
exit 0
