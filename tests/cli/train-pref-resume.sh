# DPO (LoRA, reference = adapter off) through the training loop's machinery: a run of 4 steps
# equals 2 steps + --resume 2 more (log lines, adapter bytes), --early-stop on the held-out
# pairs' DPO loss restores the best step, and --device guard is refused with the reason.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf m --seed 2 >/dev/null
"$FT_PY" "$FT_ROOT/tests/parity/pref_ref.py" write-pairs d.tok 3 24 300
"$FT_PY" "$FT_ROOT/tests/parity/pref_ref.py" write-pairs v.tok 4 6 300
o="--model m --data d.tok --objective dpo --method lora --lr 1e-2 --schedule constant --batch 2 --seq-len 32 --save-every 1 -q"
ft-train $o --max-steps 4 --log a.jsonl -o a
ft-train $o --max-steps 2 --log b.jsonl -o b
ft-train $o --max-steps 4 --resume --log b.jsonl -o b
strip() { sed -E 's/, "tokens_per_s".*//' "$1"; }
[ "$(strip a.jsonl)" = "$(strip b.jsonl)" ] || { diff <(strip a.jsonl) <(strip b.jsonl) >&2; fail "resumed DPO run differs"; }
cmp a/adapter_model.safetensors b/adapter_model.safetensors || fail "resumed DPO adapter differs"
grep -q '"rewards/accuracies"' a.jsonl || fail "no DPO metrics in the log"
# eval lines carry the objective's metrics; early stopping keeps the best eval_loss
ft-train $o --val v.tok --eval-every 1 --early-stop 1 --max-steps 6 --lr 0.5 --log e.jsonl -o e
grep -q '"eval_rewards/accuracies"' e.jsonl || fail "no eval metrics"
head -1 e.jsonl | grep -q '"eval_loss": 0.693147' || fail "DPO eval at step 0 is not ln 2"
expect_exit 1 ft-train $o --max-steps 1 --device guard -o g
expect_in "runs on the CPU only" err
true
