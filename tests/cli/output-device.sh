# An output that exists and is not a regular file — a FIFO here, /dev/null or /dev/stdout in
# use — is opened and written in place, never replaced by a renamed temporary (which would
# turn a FIFO, or, run as root, /dev/null itself, into a regular file).
. "$FT_ROOT/tests/lib.sh"
printf '{"text": "one two three"}\n{"text": "four five six"}\n' >in.jsonl
mkfifo fifo
cat fifo >got & reader=$!
ft-filter in.jsonl -o fifo || { kill $reader 2>/dev/null; fail "ft-filter -o FIFO failed"; }
if [ ! -p fifo ]; then kill $reader 2>/dev/null; fail "the FIFO was replaced by a regular file"; fi
wait $reader
cmp in.jsonl got || fail "the FIFO's reader got other bytes"
ls | grep -q 'tmp' && fail "temporaries left: $(ls)"
# through a symlink to the FIFO: the same
ln -s fifo link
cat fifo >got2 & reader=$!
ft-filter in.jsonl --head 1 -o link || { kill $reader 2>/dev/null; fail "ft-filter -o LINK-TO-FIFO failed"; }
if [ ! -p fifo ] || [ ! -L link ]; then kill $reader 2>/dev/null; fail "the link or the FIFO was replaced"; fi
wait $reader
[ "$(cat got2)" = '{"text": "one two three"}' ] || fail "got2: $(cat got2)"
