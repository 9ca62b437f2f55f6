# Bad input: truncated FTOK, mismatched FTOK headers across --mix inputs, malformed JSONL and
# a truncated zstd stream each fail with exit 1, a message naming the file, and no output file.
source "$FT_ROOT/tests/lib.sh"
PY=$FT_PY; [ -x "$PY" ] || PY=$(command -v python3) || skip "no python3"
H="$FT_ROOT/tests/cli/filter-ftok.py"
printf '{"tokens":[1,2,3]}\n{"tokens":[4,5,6,7]}\n' | $PY "$H" write a.tok --vocab 50 --tokid 1
printf '{"tokens":[1,2,3]}\n' | $PY "$H" write b.tok --vocab 50 --tokid 2
printf '{"tokens":[1,2,3]}\n' | $PY "$H" write m.tok --vocab 50 --tokid 1 --mask
head -c $(( $(stat -c %s a.tok) - 2 )) a.tok >trunc.tok
no_output() { for f in "$@"; do [ ! -e "$f" ] || fail "partial output $f left behind"; done; ls | grep -q '\.tmp\.' && fail "temporary left: $(ls)"; return 0; }

expect_exit 1 ft-filter trunc.tok -o out.tok
expect_in "trunc.tok: record 2: truncated" err
no_output out.tok

expect_exit 1 ft-filter --mix a.tok:1 b.tok:1 -o out.tok
expect_in "b.tok: FTOK header" err
expect_in "cannot be mixed" err
no_output out.tok
expect_exit 1 ft-filter --mix a.tok:1 m.tok:1 -o out.tok   # mask flag differs
expect_in "m.tok" err
no_output out.tok
expect_exit 1 ft-filter a.tok b.tok -o out.tok               # concatenation checks too
expect_in "b.tok" err
no_output out.tok

printf '{"text":"a"}\n{"text":"b"}\n{"text": oops}\n{"text":"d"}\n' >bad.jsonl
expect_exit 1 ft-filter bad.jsonl -o out.jsonl --split val=0.5 --val-out val.jsonl
expect_in "bad.jsonl:3: invalid JSON" err
no_output out.jsonl val.jsonl
expect_exit 0 ft-filter bad.jsonl -o out.jsonl --skip-bad --stats
expect_in '"bad_record": 1' err
[ "$(wc -l <out.jsonl)" -eq 3 ] || fail "--skip-bad kept $(wc -l <out.jsonl) records, expected 3"

rm -f out.jsonl
# JSONL and FTOK cannot be mixed either
expect_exit 1 ft-filter --mix a.tok:1 bad.jsonl:1 -o x
expect_in "same kind" err
no_output x

# truncated zstd
seq 1 2000 | sed 's/.*/{"text":"record &"}/' | zstd -q -o big.jsonl.zst
head -c 200 big.jsonl.zst >cut.jsonl.zst
expect_exit 1 ft-filter cut.jsonl.zst -o out.jsonl
expect_in "cut.jsonl.zst" err
no_output out.jsonl

# usage errors exit 2
expect_exit 2 ft-filter --shard 4/4 a.tok
expect_exit 2 ft-filter --split val=0.1 a.tok
expect_exit 2 ft-filter --dedup fuzzy a.tok
expect_exit 2 ft-filter --q-no-such-rule 1 a.tok

# a JSONL record without the text field is bad data when an operation needs its text
printf '{"text":"a b"}\n{"messages":[]}\n' >nt.jsonl
expect_exit 1 ft-filter --min-len 1 nt.jsonl -o nt.out
expect_in 'nt.jsonl:2: record has no string field "text"' err
no_output nt.out
expect_exit 0 ft-filter --min-len 1 nt.jsonl -o nt.out --skip-bad --stats
expect_in '"no_text": 1' err
