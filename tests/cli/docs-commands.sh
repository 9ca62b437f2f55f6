# Every ```sh block of README.md and examples/*/README.md runs as written, from the repository
# root, against a tiny random GGUF model (MODEL) with small sizes (STEPS, MAX_NEW; NGRAM=64
# because the toy tokenizer's tokens are single bytes; the pipelines' gates off) and a temporary work dir (W).
# Not run here: `make demo` (minutes on the real model; run by hand, see the issue notes) and
# the `make test/check/fuzz/bench` targets (this suite is part of `make test`; the others have
# their own runs) — those lines are skipped by name and listed on stderr.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --gguf tiny.gguf --gguf-type f32 --hidden 32 \
  --intermediate 64 --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seed 5
export MODEL="$PWD/tiny.gguf" STEPS=2 MAX_NEW=4 NGRAM=64 MIN_GAIN= MAX_REGRESSION=   # no gates: a random model gains nothing
tmp=$PWD
n=0
for doc in "$FT_ROOT/README.md" "$FT_ROOT"/examples/*/README.md; do
  # extract the sh blocks, one script per block
  awk -v out="$tmp/block" '/^```sh$/ { on = 1; k++; next } /^```$/ { on = 0; next }
       on { print > (out "-" k ".sh") }' "$doc"
  for b in "$tmp"/block-*.sh; do
    [ -f "$b" ] || continue
    n=$((n + 1))
    export W="$tmp/work-$n"
    grep -E '^make (demo|test|check|fuzz|bench)\b' "$b" >&2 && echo "  (skipped above: long-running make targets)" >&2
    sed -E 's/^make (demo|test|check|fuzz|bench)\b.*$/: &/' "$b" >"$b.run"
    (cd "$FT_ROOT" && PATH="$FT_BIN:$PATH" bash -euo pipefail "$b.run") >"$b.log" 2>&1 ||
      { cat "$b.log"; fail "$(basename "$doc") block $n failed: $(head -3 "$b")"; }
    rm -f "$b" "$b.run"
  done
done
[ $n -ge 3 ] || fail "only $n command blocks found"
git -C "$FT_ROOT" diff --quiet -- examples || fail "running the walk-throughs changed committed example files"
