#!/usr/bin/env bash
# model-arch-lora.sh — LoRA on the newer rows (Qwen3, Gemma 3; tiny random models, HF and GGUF):
# ft-train's step-0 eval loss equals the base model's loss by the NumPy reference (the fresh
# adapter is the identity), the trained adapter lowers it, ft-merge writes HF and GGUF whose
# logits equal base + adapter (ft-eval --adapter), and the merged HF dir (Gemma's norms written
# back as HF's w of x * (1 + w)) equals the NumPy reference on it.
source "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mk() { "$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" "$@"; }
ref() { OPENBLAS_NUM_THREADS=1 "$FT_PY" "$FT_ROOT/tests/parity/model_ref.py" "$@"; }
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 120
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 2 24
ref write-ftok d.tok '[[5,17,99,200,3,4,250,251,10,11,12,13],[7,8,9,10,11,12,13,14]]'
run() {  # run NAME BASE
  local n=$1 base=$2
  ft-train --model "$base" --data train.tok --val val.tok --method lora --lora-targets all-linear -o "$n.ad" \
    --seq-len 32 --batch 4 --epochs 1 --lr 1e-2 --eval-every 10 --log "$n.log" -q || fail "$n: ft-train"
  ref ppl "$base" val.tok >"$n.ref.json"
  "$FT_PY" - "$n" <<'PY' || fail "$1: step-0 loss or training"
import json, sys
n = sys.argv[1]
ev = [j for j in map(json.loads, open(n + ".log")) if "eval_loss" in j]
ref = json.load(open(n + ".ref.json"))["loss"]
print(f"{n}: step-0 eval_loss {ev[0]['eval_loss']:.6f} reference {ref:.6f}, final {ev[-1]['eval_loss']:.4f}")
assert ev[0]["step"] == 0 and abs(ev[0]["eval_loss"] - ref) < 1e-4, (ev[0], ref)
assert ev[-1]["eval_loss"] < ref - 0.2, (ev[-1], ref)
PY
  ft-eval --model "$base" --adapter "$n.ad" ppl --dump-logits "$n.ad.f32" d.tok >/dev/null || fail "$n: eval --adapter"
  ft-merge --model "$base" --adapter "$n.ad" -o "$n.hf" --dtype f32 -q || fail "$n: merge to HF"
  ft-eval --model "$n.hf" ppl --dump-logits "$n.hf.f32" d.tok >/dev/null || fail "$n: eval merged HF"
  ref diff "$n.ad.f32" "$n.hf.f32" 1e-4 || fail "$n: merged HF logits differ from base + adapter"
  echo -n "$n merged HF vs NumPy: "; ref compare "$n.hf" d.tok "$n.hf.f32" 1e-4 || fail "$n: merged HF vs NumPy"
}
mk --hf q3 --gguf q3.gguf --arch qwen3 --seed 5 --head-dim 24 --kv-heads 2 --tie
run qwen3 q3
mk --hf g3 --gguf g3.gguf --arch gemma3 --seed 6 --layers 6 --kv-heads 1 --head-dim 32 --window 4 --tie
run gemma3 g3
# GGUF bases, merged back to GGUF (llama.cpp names and metadata carried over)
for pair in q3:qwen3 g3:gemma3; do
  n=${pair%%:*} ad=${pair#*:}.ad
  ft-eval --model $n.gguf --adapter $ad ppl --dump-logits $n.gad.f32 d.tok >/dev/null || fail "$n.gguf: eval --adapter"
  ref diff $n.gad.f32 ${pair#*:}.ad.f32 1e-4 || fail "$n: GGUF base + adapter differs from the HF base's"
  ft-merge --model $n.gguf --adapter $ad -o $n.m.gguf --dtype f32 -q || fail "$n: merge to GGUF"
  ft-eval --model $n.m.gguf ppl --dump-logits $n.mg.f32 d.tok >/dev/null || fail "$n: eval merged GGUF"
  ref diff $n.gad.f32 $n.mg.f32 1e-4 || fail "$n: merged GGUF logits differ from base + adapter"
  echo -n "$n merged GGUF vs NumPy: "; ref compare $n.m.gguf d.tok $n.mg.f32 1e-4 || fail "$n: merged GGUF vs NumPy"
done
