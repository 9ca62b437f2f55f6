#!/usr/bin/env bash
# guard-eval-peft.sh — ft-eval ppl (with --per-record and --dump-logits), choice and generate
# (greedy and seeded sampling over the KV cache) on the guard backend (--device guard: the CPU
# kernels behind device buffers the host cannot touch, so a host access of model or adapter
# memory kills the run with SIGSEGV) give the CPU backend's outputs byte for byte with the
# adapters whose arithmetic is ops of their own (DoRA, a bottleneck adapter, prompt tuning,
# prefix tuning, each trained by ft-train on a tiny model) and on the NF4-quantized base of
# QLoRA (--quantize nf4, with its LoRA adapter); a device without those ops is refused by name.
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} OMP_NUM_THREADS=2
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf m --hidden 32 --intermediate 64 --layers 2 --vocab 300 --seed 5
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" d.tok 1 40
tr() { ft-train --model m --data d.tok --seq-len 32 --batch 4 --max-steps 3 --lr 1e-2 -q "$@"; }
tr --method lora --dora --lora-targets all-linear -o dora
tr --method adapter --adapter-dim 8 -o bn
tr --method prompt --num-virtual-tokens 5 -o prompt
tr --method prefix --num-virtual-tokens 4 -o prefix
tr --method qlora --lora-targets all-linear -o qlora
printf '%s\n' '{"context":"the weather","choices":[" is nice"," the end"],"label":0}' \
  '{"context":"abc","choices":["d","xyz","the"],"label":2}' >c.jsonl
printf '%s\n' '{"id":1,"prompt":"the weather in"}' '{"id":2,"prompt":"a b c d e f g h i j k l m n o p"}' >p.jsonl
cases="base dora bn prompt prefix nf4 qlora"
args() {
  case $1 in
  base) ;;
  nf4) echo "--quantize nf4" ;;
  qlora) echo "--quantize nf4 --adapter ../qlora" ;;
  *) echo "--adapter ../$1" ;;
  esac
}
for dev in cpu guard; do
  for k in $cases; do
    mkdir "$dev-$k"
    (
      cd "$dev-$k"
      a=$(args "$k")
      # shellcheck disable=SC2086
      ft-eval --model ../m $a --device $dev ppl --per-record per --dump-logits logits -o ppl ../d.tok ||
        fail "ppl on $dev $k"
      # shellcheck disable=SC2086
      ft-eval --model ../m $a --device $dev choice --per-record cper -o choice ../c.jsonl || fail "choice on $dev $k"
      # shellcheck disable=SC2086
      ft-eval --model ../m $a --device $dev generate --max-new-tokens 10 -o greedy ../p.jsonl ||
        fail "generate on $dev $k"
      # shellcheck disable=SC2086
      ft-eval --model ../m $a --device $dev generate --temperature 1 --top-k 20 --seed 4 --max-new-tokens 10 \
        -o sample ../p.jsonl || fail "sampling on $dev $k"
    )
  done
done
[ "$(stat -c %s cpu-base/logits)" -gt 1000 ] || fail "no logits dumped"
for k in $cases; do
  for f in ppl per logits choice cper greedy sample; do
    cmp "cpu-$k/$f" "guard-$k/$f" || fail "guard-$k/$f differs from the CPU backend's"
  done
  # each adapter (and the quantization) changed the model: the comparison is not of the base alone
  [ "$k" = base ] || ! cmp -s cpu-base/logits "cpu-$k/logits" || fail "$k changed nothing"
done
cmp -s cpu-nf4/logits cpu-qlora/logits && fail "the QLoRA adapter changed nothing"
# the CUDA table has none of these ops yet: the model is refused naming the op, not run
if ft-eval --model m --device cuda ppl d.tok >/dev/null 2>&1; then
  expect_exit 1 ft-eval --model m --adapter dora --device cuda ppl d.tok
  expect_in "device cuda has no div op" err
fi
exit 0
