# An output named by a symbolic link is written through it (docs/formats.md "Outputs"): the
# new content lands on the link's target, atomically (temporary beside the target, renamed
# onto it), and the link stays a link — for a file (relative, absolute, dangling, a chain)
# and for ft-merge's output directory; a merge through the link and one on the target share
# one lock.
. "$FT_ROOT/tests/lib.sh"
need_py
printf '{"text": "one two three"}\n{"text": "four five six"}\n' >in.jsonl
mkdir store d
echo old >store/a.jsonl
ln -s ../store/a.jsonl d/rel.jsonl                 # relative target, existing file
ln -s "$PWD/store/b.jsonl" abs.jsonl               # absolute target, not there yet (dangling)
ln -s d/rel.jsonl chain.jsonl                      # a link to a link
ft-filter in.jsonl -o d/rel.jsonl
[ -L d/rel.jsonl ] || fail "d/rel.jsonl was replaced by a regular file"
cmp in.jsonl store/a.jsonl || fail "the relative link's target does not hold the output"
ft-filter in.jsonl --head 1 -o abs.jsonl
[ -L abs.jsonl ] || fail "abs.jsonl was replaced by a regular file"
[ "$(cat store/b.jsonl)" = '{"text": "one two three"}' ] || fail "store/b.jsonl: $(cat store/b.jsonl 2>&1)"
ft-filter in.jsonl --head 1 -o chain.jsonl
[ -L chain.jsonl ] && [ -L d/rel.jsonl ] || fail "a link of the chain was replaced"
[ "$(cat store/a.jsonl)" = '{"text": "one two three"}' ] || fail "the chain's last target does not hold the output"
[ -z "$(ls store d | grep tmp)" ] || fail "temporaries left: $(ls store d)"
# ft-merge's output directory through a link (dangling: the directory does not exist yet)
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 2 --heads 4 \
  --kv-heads 2 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/parity/merge_ref.py" make-adapter lora tiny 1 2 4 0 q_proj
ln -s store/merged merged-link
ft-merge --model tiny --adapter lora --dtype f32 -o merged-link -q
[ -L merged-link ] || fail "merged-link was replaced by a directory"
[ -f store/merged/model.safetensors ] || fail "store/merged has no model.safetensors: $(ls -A store)"
"$FT_PY" "$FT_ROOT/tests/parity/merge_ref.py" expect-merge tiny store/merged lora 1 || fail "merge through the link differs"
# the lock follows the link: a merge through it and one on the target share .merged.ft-lock
mkdir slow && mkfifo slow/adapter_config.json
ln -s store/m2 m2-link
ft-merge --model tiny --adapter slow -o m2-link 2>/dev/null & pid=$!
for _ in $(seq 1 200); do [ "$(cat store/.m2.ft-lock 2>/dev/null)" = "$pid" ] && break; sleep 0.05; done
expect_exit 1 ft-merge --model tiny --adapter lora -o store/m2
expect_in "in use by another run (pid $pid" err
kill -KILL $pid; wait $pid 2>/dev/null || true
