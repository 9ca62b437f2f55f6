#!/usr/bin/env bash
# guard-train.sh — ft-train --device guard (the CPU kernels behind device buffers the host
# cannot touch: any host access of the parameters, gradients, optimizer state or activations
# kills the run with SIGSEGV) gives the CPU backend's results byte for byte, for full
# fine-tuning, LoRA (rsLoRA, dropout), QLoRA (NF4 base, dropout), DoRA, bottleneck adapters,
# prompt tuning and prefix tuning (with its projection MLP): with gradient accumulation,
# evaluation on --val, checkpoints, early stopping that restores the best checkpoint, and
# --resume from a checkpoint (the guard run resumes from the CPU run's checkpoint and the other
# way round).
# Compared: the output model/adapter files, train_config.json (but its "device"), every
# checkpoint's state.bin and state.json (but elapsed_s) and the metrics logs (but the timing
# fields).
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} OMP_NUM_THREADS=2
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf m --hidden 32 --intermediate 64 --layers 2 --vocab 300 --seed 3
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" d.tok 1 80
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" v.tok 2 16
common=(--model m --data d.tok --val v.tok --seq-len 32 --batch 2 --grad-accum 2 --max-steps 6 --eval-every 2
        --save-every 3 --save-total-limit 0 --warmup 1 --seed 7 -q)
declare -A margs=(
  [full]="--method full --lr 2e-3 --weight-decay 0.1"
  [lora]="--method lora --lora-targets all-linear --rslora --lora-dropout 0.2 --lr 2e-2 --weight-decay 0.01"
  [lora-es]="--method lora --lora-targets q,v --lr 0.5 --eval-every 1 --early-stop 2"
  [qlora]="--method qlora --lora-targets all-linear --lora-dropout 0.1 --lr 2e-2"
  [dora]="--method lora --dora --lora-targets q,v,down --lr 2e-2 --weight-decay 0.01"
  [adapter]="--method adapter --lr 2e-2"
  [prompt]="--method prompt --num-virtual-tokens 4 --lr 5e-2"
  [prefix]="--method prefix --num-virtual-tokens 4 --prefix-projection --prefix-hidden 16 --lr 5e-2"
)
# the files of a run without what depends on the clock or names the device
strip() {
  "$FT_PY" - "$1" <<'PY'
import json, sys
d = sys.argv[1]
def clean(p, drop):
    out = []
    for line in open(p):
        j = json.loads(line)
        for k in drop: j.pop(k, None)
        out.append(json.dumps(j, sort_keys=True))
    open(p + ".cmp", "w").write("\n".join(out) + "\n")
clean(d + ".jsonl", ("tokens_per_s", "elapsed_s"))
j = json.load(open(d + "/train_config.json"))
for k in ("device", "output", "log", "resume"): j.pop(k, None)
open(d + "/train_config.json.cmp", "w").write(json.dumps(j, sort_keys=True))
import glob
for s in glob.glob(d + "/checkpoints/*/state.json"):
    j = json.load(open(s)); j.pop("elapsed_s", None)
    open(s + ".cmp", "w").write(json.dumps(j, sort_keys=True))
PY
}
same() {   # same DIR_A DIR_B: every compared file of two runs is byte-identical
  local a=$1 b=$2 n=0 f
  cmp "$a.jsonl.cmp" "$b.jsonl.cmp" || fail "$b.jsonl differs from $a.jsonl"
  for f in "$a"/*.safetensors "$a"/*config.json.cmp "$a"/config.json "$a"/adapter_config.json \
           "$a"/checkpoints/*/state.bin "$a"/checkpoints/*/state.json.cmp; do
    [ -e "$f" ] || continue
    cmp "$f" "$b/${f#"$a"/}" || fail "$b/${f#"$a"/} differs from $f"
    n=$((n + 1))
  done
  [ "$n" -ge 5 ] || fail "only $n files compared in $a"
}
for meth in full lora lora-es qlora dora adapter prompt prefix; do
  for dev in cpu guard; do
    # shellcheck disable=SC2086
    ft-train "${common[@]}" ${margs[$meth]} --device $dev -o $meth-$dev --log $meth-$dev.jsonl -v 2>$meth-$dev.err ||
      { cat $meth-$dev.err >&2; fail "$meth on $dev"; }
    strip $meth-$dev
  done
  same $meth-cpu $meth-guard
  # --resume from step 3 on the other device: the same steps 4..6, outputs and checkpoints
  [ "$meth" = lora-es ] && continue
  for dev in cpu guard; do
    other=cpu; [ $dev = cpu ] && other=guard
    r=$meth-res-$dev
    mkdir -p $r/checkpoints
    cp -r $meth-$other/checkpoints/step-00000003 $r/checkpoints/
    head -n "$(grep -n '"step": 3,' $meth-$other.jsonl | tail -1 | cut -d: -f1)" $meth-$other.jsonl >$r.jsonl
    # shellcheck disable=SC2086
    ft-train "${common[@]}" ${margs[$meth]} --device $dev -o $r --log $r.jsonl --resume -v 2>$r.err ||
      { cat $r.err >&2; fail "$meth --resume on $dev"; }
    expect_in "resuming from" $r.err
    rm -rf $r/checkpoints/step-00000003   # copied: compared above
    cp -r $meth-$other/checkpoints/step-00000003 $r/checkpoints/
    strip $r
    same $meth-cpu $r
  done
done
# the runs did what they are meant to show
grep -q '"eval_loss"' full-guard.jsonl || fail "no evaluation logged"
expect_in "restored the best checkpoint" lora-es-guard.err
cmp -s m/model.safetensors full-guard/model.safetensors && fail "full fine-tuning changed nothing"
"$FT_PY" - <<'PY'
import json
l = [json.loads(x) for x in open("lora-guard.jsonl")]
assert sum("loss" in j for j in l) == 6 and all(j["grad_norm"] > 0 for j in l if "loss" in j), l
PY
# every PEFT method trained on the guard: gradients reached its device parameters
for meth in qlora dora adapter prompt prefix; do
  "$FT_PY" - $meth-guard.jsonl <<'PY'
import json, sys
l = [json.loads(x) for x in open(sys.argv[1])]
assert sum("loss" in j for j in l) == 6 and all(j["grad_norm"] > 0 for j in l if "loss" in j), (sys.argv[1], l)
PY
  c=$meth-guard/checkpoints
  [ -s $c/step-00000003/state.bin ] && [ -s $c/step-00000006/state.bin ] || fail "$meth: no checkpoints 3 and 6"
  cmp -s $c/step-00000003/state.bin $c/step-00000006/state.bin && fail "$meth: steps 4..6 changed nothing"
done
# LoRA dropout on the device changes the run (the masks reach the device's hooks)
ft-train "${common[@]}" --method lora --lora-targets all-linear --rslora --lr 2e-2 --weight-decay 0.01 \
  --device guard -o nodrop -q
cmp -s nodrop/adapter_model.safetensors lora-guard/adapter_model.safetensors && fail "--lora-dropout had no effect on guard"
expect_exit 1 ft-train --model m --data d.tok --max-steps 1 --device tpu -o no-tpu
expect_in "unknown device 'tpu'" err
