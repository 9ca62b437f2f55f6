# ft-train writes OUT/train_config.json last, with the results: a run that fails (here a NaN in
# the base: non-finite loss at step 1) leaves no train_config.json and no adapter; a --resume
# that fails leaves the earlier run's adapter and config untouched (the config still describes
# the files beside it); a run stopped by SIGTERM saves and writes its config (resume with it).
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 60
mkdir nanm && cp tiny/* nanm/
"$FT_PY" - <<'PY'
from safetensors.numpy import load_file, save_file
t = load_file("nanm/model.safetensors")
t["model.norm.weight"][0] = float("nan")
save_file(t, "nanm/model.safetensors", metadata={"format": "pt"})
PY
args=(--data train.tok --seq-len 64 --batch 2 --seed 3)
# 1. a failing fresh run: nothing is left that looks like a result
expect_exit 1 ft-train "${args[@]}" --model nanm -o failed --max-steps 5
expect_in "step 1: non-finite loss" err
[ ! -e failed/train_config.json ] || fail "a failed run left failed/train_config.json"
[ ! -e failed/adapter_model.safetensors ] && [ ! -e failed/adapter_config.json ] || fail "a failed run left an adapter"
[ ! -e failed ] || [ -z "$(ls -A failed)" ] || fail "a failed run left files: $(ls -A failed)"
# 2. a failing --resume into a finished run's dir keeps that run's files, config included
ft-train "${args[@]}" --model tiny -o run --max-steps 6 --save-every 3 -q
jq -e '."max-steps" == 6 and .model == "tiny"' run/train_config.json >/dev/null || fail "run/train_config.json: $(cat run/train_config.json)"
cp run/train_config.json cfg.before && cp run/adapter_model.safetensors ad.before
expect_exit 1 ft-train "${args[@]}" --model nanm -o run --max-steps 12 --save-every 3 --resume
expect_in "non-finite loss" err
cmp run/train_config.json cfg.before || fail "a failed --resume replaced the earlier run's train_config.json"
cmp run/adapter_model.safetensors ad.before || fail "a failed --resume replaced the earlier run's adapter"
# 3. SIGTERM: checkpoint, adapter and config are saved; --config OUT/train_config.json --resume finishes
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" long.tok 1 2000
ft-train --data long.tok --seq-len 64 --batch 2 --seed 3 --model tiny -o term --max-steps 3000 --log term.jsonl -q &
pid=$!
for _ in $(seq 1 500); do
  [ -f term.jsonl ] && [ "$(wc -l <term.jsonl)" -ge 3 ] && break
  sleep 0.01
done
kill -TERM $pid
wait $pid || fail "SIGTERM: ft-train exited $?"
[ "$(wc -l <term.jsonl)" -lt 3000 ] || skip "the run finished before SIGTERM arrived"
[ -f term/adapter_model.safetensors ] || fail "SIGTERM: no adapter"
jq -e '."max-steps" == 3000' term/train_config.json >/dev/null || fail "SIGTERM: no train_config.json for the stopped run"
