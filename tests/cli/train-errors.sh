# ft-train refuses bad usage (exit 2) and bad data (exit 1, file named; a bad --config file too), and stops on a
# non-finite loss naming the step without writing a checkpoint (--skip-nonfinite N tolerates N).
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 20
expect_exit 2 ft-train --data train.tok -o out
expect_in "--model is required" err
expect_exit 2 ft-train --model tiny --data train.tok -o out --bogus 1
expect_in "unknown option '--bogus'" err
expect_exit 2 ft-train --model tiny --data train.tok -o out --lr abc
expect_in "--lr" err
expect_exit 2 ft-train --model tiny --data train.tok -o out --early-stop 2
expect_exit 1 ft-train --model tiny --data train.tok -o o --method bogus
expect_in "--method bogus: expected full, lora, qlora, prompt, prefix or adapter" err
printf 'FTOK\001\000' >bad.tok
expect_exit 1 ft-train --model tiny --data bad.tok -o o
expect_in "bad.tok" err
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" big.tok 1 20 --vocab 5000
"$FT_PY" - <<'PY'
import struct
# one record with token id 4000 >= the model's 300-token vocabulary
with open("oov.tok", "wb") as f:
    f.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 0, 5000, 0, 0, 0))
    f.write(struct.pack("<II3I", 3, 0, 1, 4000, 2))
PY
expect_exit 1 ft-train --model tiny --data oov.tok -o o
expect_in "oov.tok: token id 4000" err
echo '{"lr": "fast"}' >cfg.json
expect_exit 1 ft-train --config cfg.json --model tiny --data train.tok -o out
expect_in 'cfg.json: key "lr": expected a number, got a string ("fast")' err
echo '{"lr": 99}' >cfg.json
expect_exit 1 ft-train --config cfg.json --model tiny --data train.tok -o out
expect_in "cfg.json: --lr" err
# a NaN weight: the first step's loss is NaN
mkdir nanm && cp tiny/* nanm/
"$FT_PY" - <<'PY'
from safetensors.numpy import load_file, save_file
t = load_file("nanm/model.safetensors")
t["model.norm.weight"][0] = float("nan")
save_file(t, "nanm/model.safetensors", metadata={"format": "pt"})
PY
expect_exit 1 ft-train --model nanm --data train.tok -o nanout --method full --max-steps 5 --save-every 1
expect_in "step 1: non-finite loss" err
[ -z "$(ls nanout/checkpoints 2>/dev/null)" ] || fail "a checkpoint was written for a NaN run"
expect_exit 1 ft-train --model nanm --data train.tok -o nanout --method full --max-steps 5 --skip-nonfinite 2
expect_in "update skipped (2 of 2 allowed)" err
expect_in "step 3: non-finite loss" err
# a stream tokenized with another tokenizer (header tokenizer_id) is refused
echo '{"text": "hello world"}' | ft-tokenize --tokenizer tiny -o ok.tok
"$FT_PY" - <<'PY'
d = bytearray(open("ok.tok", "rb").read())
assert d[16:24] != bytes(8), "ft-tokenize wrote no tokenizer id"
d[16] ^= 0xFF
open("other.tok", "wb").write(bytes(d))
PY
ft-train --model tiny --data ok.tok -o tokok --max-steps 1 --seq-len 16 -q || fail "matching tokenizer refused"
expect_exit 1 ft-train --model tiny --data other.tok -o tokbad --max-steps 1 --seq-len 16
expect_in "other.tok: tokenized with tokenizer" err
