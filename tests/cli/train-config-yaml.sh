# ft-train --config FILE.yaml: the same options as flags, as a JSON config and as YAML give the
# same run, byte for byte (adapter and train_config.json); OUT/train_config.json rewritten as
# YAML replays it; flags override the file; YAML's types follow its core schema (a quoted
# "1e-3" is a string, refused for --lr as in JSON); errors name FILE:LINE (unknown and
# duplicate keys, wrong types, lists, syntax). Every examples/configs/*.yaml trains one step.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 30
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 2 8
ft-train --model tiny --data train.tok --val val.tok -o flags --max-steps 4 --lr 3e-3 --lora-r 4 --lora-alpha 8 \
  --lora-targets q,v --batch 2 --seq-len 32 --warmup 0.25 --schedule linear --seed 7 --no-shuffle --eval-every 2 -q
cat >run.yaml <<'EOF'
# the same run as the flags above
model: tiny
data: train.tok
val: val.tok
max-steps: 4
lr: 3e-3          # a float in YAML 1.2's core schema
lora_r: 4         # underscores as in the JSON config
lora-alpha: 8
lora-targets: q,v
batch: 2
seq-len: 32
warmup: 0.25
schedule: linear
seed: 7
no-shuffle: true
eval-every: 2
prompt-init: ~
EOF
ft-train --config run.yaml -o yaml -q
cmp flags/adapter_model.safetensors yaml/adapter_model.safetensors || fail "YAML config run differs from the flags' run"
"$FT_PY" - <<'PY'
import json
a, b = json.load(open("flags/train_config.json")), json.load(open("yaml/train_config.json"))
a.pop("output"); b.pop("output")
assert a == b, {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}
# train_config.json as YAML (plain scalars where YAML reads them back as the same value)
with open("replay.yaml", "w") as f:
    for k, v in json.load(open("yaml/train_config.json")).items():
        if k == "output": continue
        f.write(f"{k}: {'null' if v is None else str(v).lower() if isinstance(v, bool) else repr(v) if isinstance(v, float) else v}\n")
PY
ft-train --config replay.yaml -o replay -q
cmp yaml/adapter_model.safetensors replay/adapter_model.safetensors || fail "train_config.json as YAML does not replay"
ft-train --config yaml/train_config.json -o json -q
cmp yaml/adapter_model.safetensors json/adapter_model.safetensors || fail "the JSON config run differs"
# flags override the file
ft-train --config run.yaml --lr 1e-2 -o over -q
cmp -s yaml/adapter_model.safetensors over/adapter_model.safetensors && fail "--lr after --config was ignored"
[ "$(jq .lr over/train_config.json)" = 0.01 ] || fail "--lr 1e-2 not in train_config.json"

# errors name the file and line
bad() {   # bad 'YAML TEXT' 'MESSAGE'
  printf '%b\n' "$1" >b.yaml
  expect_exit 1 ft-train --config b.yaml --model tiny --data train.tok -o o
  expect_in "$2" err
  [ ! -e o ] || fail "a refused config left o/"
}
bad 'lr: 1e-3\nlrr: 2' 'b.yaml:2: unknown option "lrr"'
bad 'lr: "1e-3"' 'b.yaml:1: key "lr": expected a number, got a string ("1e-3")'
bad 'batch: 2.5' 'b.yaml:1: key "batch": expected an integer, got a number (2.5)'
bad 'seed: 1\nno-pack: yes' 'b.yaml:2: key "no-pack": expected true or false, got a string ("yes")'
bad 'lr: 1e-3\nlr: 2e-3' 'b.yaml:2: option "lr" given twice (first at line 1)'
bad 'lora_r: 4\nlora-r: 8' 'b.yaml:2: option "lora-r" given twice (first at line 1)'
bad 'lora-targets:\n  - q\n  - v' 'b.yaml:1: key "lora-targets": expected a single value, got a list'
bad 'lr: "abc' 'b.yaml:2: YAML: found unexpected end of stream while scanning a quoted scalar'
bad 'lr: !!float 1' 'b.yaml:1: key "lr": YAML anchors and tags are not supported'
bad '- lr: 1' 'b.yaml:1: expected a mapping of options (key: value lines), got a list'
bad 'lr: 1e-3\n---\nseed: 2' 'b.yaml:2: a second YAML document'
bad 'lr: &x 1e-3' 'b.yaml:1: key "lr": YAML anchors and tags are not supported'
bad 'lr: 20' 'b.yaml:1: --lr: '
expect_exit 1 ft-train --config missing.yaml --model tiny --data train.tok -o o
expect_in "missing.yaml: No such file or directory" err

# the example configs: one per method, each trains (a step, on the tiny model)
n=0
for c in "$FT_ROOT"/examples/configs/*.yaml; do
  ft-train --config "$c" --model tiny --data train.tok --val val.tok --max-steps 1 --seq-len 32 --batch 2 \
    --eval-every 0 -o "ex-$(basename "$c" .yaml)" -q || fail "$c does not train"
  n=$((n + 1))
done
for m in full lora qlora dora prompt prefix adapter; do
  [ -f "$FT_ROOT/examples/configs/$m.yaml" ] || fail "examples/configs/$m.yaml missing"
done
[ "$(jq -r .method ex-qlora/train_config.json)" = qlora ] || fail "qlora.yaml does not set --method qlora"
[ "$(jq -r .dora ex-dora/train_config.json)" = true ] || fail "dora.yaml does not set --dora"
