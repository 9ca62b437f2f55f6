# --objective selects what a step minimises (lib/train/objective.h); sft is the default (the preference
# objectives have their own tests: tests/parity/train-pref.sh, tests/cli/pref-data.sh) and the only token-level
# row so far. Its step loss is the mean cross-entropy over the step's target tokens: step 1 of a
# run whose one step holds every record equals the NumPy reference's mean target-token loss of
# the base model on that data. --objective sft is the default bit for bit, train_config.json
# records it (and replays), and another name is refused with the list of objectives.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --vocab 300 --seed 8
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 9 6
common=(--model tiny --data train.tok --method lora --seq-len 64 --batch 6 --no-pack --no-shuffle --max-steps 2 --lr 1e-2 -q)
ft-train "${common[@]}" -o a --log a.jsonl || fail "default objective"
ft-train "${common[@]}" --objective sft -o b --log b.jsonl || fail "--objective sft"
cmp a/adapter_model.safetensors b/adapter_model.safetensors || fail "--objective sft differs from the default"
# same losses and grad norms (tokens_per_s and elapsed_s are timings)
"$FT_PY" - <<'PY' || fail "logs differ"
import json
a = [json.loads(l) for l in open("a.jsonl")]
b = [json.loads(l) for l in open("b.jsonl")]
assert [(x["loss"], x["grad_norm"]) for x in a] == [(x["loss"], x["grad_norm"]) for x in b], (a, b)
PY
"$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" ppl tiny train.tok >ref.json
"$FT_PY" - <<'PY' || fail "step-1 loss is not the mean target-token loss"
import json
ref = json.load(open("ref.json"))
assert ref["records"] == 6, ref
step1 = json.loads(open("a.jsonl").readline())
assert step1["step"] == 1, step1
print("step-1 loss", step1["loss"], "reference", ref["loss"])
assert abs(step1["loss"] - ref["loss"]) <= 2e-6 * ref["loss"] + 1e-6, (step1, ref)
cfg = json.load(open("a/train_config.json"))
assert cfg["objective"] == "sft", cfg
PY
ft-train --config a/train_config.json -o c -q || fail "train_config.json with objective does not replay"
cmp a/adapter_model.safetensors c/adapter_model.safetensors || fail "replay differs"
expect_exit 1 ft-train "${common[@]}" --objective ppo -o d
expect_in "--objective ppo: expected sft, dpo, simpo, orpo, kto" err
[ ! -e d ] || fail "a refused objective left its output directory"
# a preference objective on plain records is refused naming the file (tests/cli/pref-data.sh: the data path)
expect_exit 1 ft-train "${common[@]}" --objective dpo -o d
expect_in "not a preference-pair stream" err
[ ! -e d ] || fail "a refused objective left its output directory"
echo '{"objective": 3}' >cfg.json
expect_exit 1 ft-train --config cfg.json "${common[@]}" -o d
expect_in 'cfg.json: key "objective": expected a string' err
