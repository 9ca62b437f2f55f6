#!/usr/bin/env bash
# guard-eval.sh — ft-eval ppl (with --per-record and --dump-logits, packed rows and windows),
# choice and generate (greedy and seeded sampling, decoding over the KV cache) on the guard backend
# (--device guard: the CPU kernels behind device buffers the host cannot touch, so any host
# access of model memory would kill the run with SIGSEGV) give the CPU backend's outputs byte
# for byte, on a base model and with a LoRA adapter; an unknown device is refused with the
# reason. (DoRA, bottleneck, prompt, prefix and NF4: guard-eval-peft.sh.)
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} OMP_NUM_THREADS=2
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf m --hidden 32 --intermediate 64 --layers 2 --vocab 300 --seed 3
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" d.tok 1 60
ft-train --model m --data d.tok --method lora --lora-targets all-linear -o ad --seq-len 32 --batch 4 --max-steps 3 \
  --lr 1e-2 -q
printf '%s\n' '{"context":"the weather","choices":[" is nice"," the end"],"label":0}' \
  '{"context":"abc","choices":["d","xyz","the"],"label":2}' >c.jsonl
printf '%s\n' '{"id":1,"prompt":"the weather in"}' '{"id":2,"prompt":"a b c d e f g h i j k l m n o p"}' >p.jsonl
# each device writes the same file names in its own directory (reports name their files)
for dev in cpu guard; do
  for ad in "" "--adapter ../ad"; do
    o=$dev${ad:+-lora}
    mkdir "$o"
    (
      cd "$o"
      # shellcheck disable=SC2086
      ft-eval --model ../m $ad --device $dev ppl --per-record per --dump-logits logits -o ppl ../d.tok ||
        fail "ppl on $dev $ad"
      # shellcheck disable=SC2086
      ft-eval --model ../m $ad --device $dev ppl --max-len 8 -o win ../d.tok || fail "ppl windows on $dev $ad"
      # shellcheck disable=SC2086
      ft-eval --model ../m $ad --device $dev choice --per-record cper -o choice ../c.jsonl || fail "choice on $dev $ad"
      # shellcheck disable=SC2086
      ft-eval --model ../m $ad --device $dev generate --max-new-tokens 12 -o greedy ../p.jsonl ||
        fail "generate on $dev $ad"
      # shellcheck disable=SC2086
      ft-eval --model ../m $ad --device $dev generate --temperature 1 --top-k 20 --seed 4 --max-new-tokens 12 \
        -o sample ../p.jsonl || fail "sampling on $dev $ad"
    )
  done
done
[ "$(stat -c %s cpu/logits)" -gt 1000 ] || fail "no logits dumped"
for tag in "" -lora; do
  for f in ppl per logits win choice cper greedy sample; do
    cmp cpu$tag/$f guard$tag/$f || fail "guard$tag/$f differs from the CPU backend's"
  done
done
cmp -s cpu/logits cpu-lora/logits && fail "the adapter changed nothing (the comparison would prove little)"
expect_exit 1 ft-eval --model m --device tpu ppl d.tok
expect_in "unknown device 'tpu'" err
