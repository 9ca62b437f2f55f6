# Progress lines: on a terminal (stderr a pseudo-TTY, made here with Python's pty) every
# long-running tool draws one -- ft-tokenize, ft-eval generate/ppl/choice, ft-filter, ft-merge,
# ft-train -- with the items done, a rate and (when the total is known: a JSONL file's lines,
# ft-merge's stages, ft-train's steps) "done/total" and the time left; with stderr a file (as in
# pipes and logs), or with -q on a TTY, none of it: no carriage return, no escape sequence.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --gguf tiny.gguf --gguf-type f32 --hidden 32 --intermediate 64 \
  --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 30
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" big.tok 3 9000   # ft-filter reports every 4096 records
for i in 1 2 3 4 5; do echo "{\"id\":$i,\"prompt\":\"the weather $i\",\"text\":\"some text number $i\"}"; done >p.jsonl
printf '%s\n' '{"context":"the weather","choices":[" is nice"," the end"],"label":0}' \
  '{"context":"abc","choices":["d","xyz","the"],"label":2}' >c.jsonl
ft-train --model tiny --data train.tok -o lora --max-steps 1 -q
cat >onpty.py <<'PY'
# onpty.py OUT CMD...: run CMD with stderr on a pseudo-terminal, its bytes to OUT; exit as CMD
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=s)
os.close(s)
data = b""
while True:
    try: b = os.read(m, 65536)
    except OSError: break
    if not b: break
    data += b
open(sys.argv[1], "wb").write(data)
sys.exit(p.wait())
PY
# check NAME WANT... -- CMD...: on a TTY the output has "\r\e[K" and every WANT (extended regex);
# to a file, and with -q on a TTY, none of the bar
check() {
  local name=$1; shift
  local want=()
  while [ "$1" != -- ]; do want+=("$1"); shift; done
  shift
  "$FT_PY" onpty.py "$name.tty" "$@" || fail "$name failed on a TTY: $(cat "$name.tty")"
  grep -q $'\r\e\[K' "$name.tty" || fail "$name: no progress line on a TTY: $(cat -v "$name.tty")"
  for w in "${want[@]}"; do
    tr '\r' '\n' <"$name.tty" | sed 's/\x1b\[K//g' | grep -qE -- "$w" || fail "$name: '$w' not in its progress: $(cat -v "$name.tty")"
  done
  "$@" 2>"$name.file" || fail "$name failed"
  ! grep -q $'[\r\e]' "$name.file" || fail "$name drew its progress into a file: $(cat -v "$name.file")"
  "$FT_PY" onpty.py "$name.q" "$@" -q || fail "$name -q failed"
  ! grep -q $'[\r\e]' "$name.q" || fail "$name -q drew progress: $(cat -v "$name.q")"
}
rate='[0-9.]+/s'
check tokenize "^tokenize \[#+\] 5/5 $rate [0-9]+ tokens ETA 0s" -- ft-tokenize --tokenizer tiny -o t.tok p.jsonl
check generate "^generate \[[#.]+\] [0-5]/5 $rate  ETA [0-9]+s" "5/5" -- \
  ft-eval --model tiny generate --max-new-tokens 2 -o g.jsonl p.jsonl
check ppl "^ppl [0-9]+  $rate [0-9]+s" -- ft-eval --model tiny ppl -o ppl.json train.tok
check choice "^choice \[[#.]+\] [0-2]/2 $rate" -- ft-eval --model tiny choice -o ch.json c.jsonl
check filter "^ft-filter [0-9]+ records, [0-9]+ out $rate [0-9]+s" -- ft-filter --dedup exact -o f.tok big.tok
check merge "^merge \[[#.]+\] [0-3]/3 $rate .*ETA" "3/3 .* written" -- ft-merge --model tiny.gguf --adapter lora --format gguf -o merged.gguf
check train "^train \[[#.]+\] [0-3]/3 $rate loss" -- ft-train --model tiny --data train.tok -o tr --max-steps 3 --log tr.jsonl
