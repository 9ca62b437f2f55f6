# Bad records fail with "ft-template: FILE:LINE: reason", exit 1 and no output file; with
# --skip-bad they are skipped, counted on stderr, and the good records are written.
source "$FT_ROOT/tests/lib.sh"
good='{"id":"ok","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}'
# one bad record at line 2 of each file, reason expected in the message
try() {   # try TEMPLATE 'BAD LINE (printf %b)' 'expected reason'
  { echo "$good"; printf '%b\n' "$2"; echo "$good"; } >in.jsonl
  rm -f out.jsonl
  expect_exit 1 ft-template -t "$1" -o out.jsonl in.jsonl
  expect_in "ft-template: in.jsonl:2: " err
  expect_in "$3" err
  [ ! -e out.jsonl ] || fail "partial output left for: $2"
  ls out.jsonl.tmp* >/dev/null 2>&1 && fail "temporary file left for: $2"
  expect_exit 0 ft-template -t "$1" --skip-bad -o out.jsonl in.jsonl
  [ "$(wc -l <out.jsonl)" -eq 2 ] || fail "--skip-bad wrote $(wc -l <out.jsonl) records, expected 2"
  expect_in "skipped 1 bad record" err
}
try chatml '{"id":1}' 'no "messages"'
try chatml '{"messages":"hi"}' '"messages" must be a non-empty array'
try chatml '{"messages":[]}' '"messages" must be a non-empty array'
try chatml '{"messages":[{"role":1,"content":"x"}]}' 'messages[0].role must be a non-empty string'
try chatml '{"messages":[{"role":"user","content":5}]}' 'messages[0].content must be a string'
try chatml '{"messages":[{"role":"user"}]}' 'messages[0] has no "content"'
try chatml '{"messages":["x"]}' 'messages[0] is not an object'
try chatml '{"conversations":[{"from":"human"}]}' 'conversations[0] has no "value"'
try chatml '{"instruction":3,"output":"x"}' 'field "instruction" must be a string'
try chatml '{"prompt":"p","completion":false}' 'field "completion" must be a string'
try chatml '{"text":["a"]}' 'field "text" must be a string'
try chatml '{"messages":[{"role":"user","content":"bad \xff byte"}]}' 'UTF-8'
try chatml '{"messages": [' 'in.jsonl:2'
try gemma '{"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}]}' 'System role not supported'
try mistral '{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}' 'conversation roles must alternate'
# stdout: failure exits 1 as well (records before the bad one may have been streamed)
{ echo "$good"; echo '{"id":2}'; } >in.jsonl
expect_exit 1 ft-template -t chatml in.jsonl
expect_in 'in.jsonl:2: no "messages"' err
# usage errors exit 2
expect_exit 2 ft-template in.jsonl
expect_exit 2 ft-template -t chatml --format nope in.jsonl
expect_exit 1 ft-template -t no-such-template in.jsonl
expect_in "not a built-in template" err
