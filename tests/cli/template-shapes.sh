# Record shapes (messages, ShareGPT, Alpaca, prompt/completion, raw text) detected per record
# or forced with --format, --system, passthrough fields, and reading zstd input from stdin.
source "$FT_ROOT/tests/lib.sh"
command -v jq >/dev/null || skip "jq not installed"
command -v zstd >/dev/null || skip "zstd not installed"
cat >in.jsonl <<'J'
{"id":"m","messages":[{"role":"user","content":"Q1"},{"role":"assistant","content":"A1"}],"source":"s1"}
{"id":"s","conversations":[{"from":"system","value":"S"},{"from":"human","value":"Q2"},{"from":"gpt","value":"A2"}]}
{"id":"a","instruction":"Do X","input":"on Y","output":"Done"}
{"id":"a0","instruction":"Do Z","input":"","output":"Ok"}
{"id":"c","prompt":"P","completion":"C"}
{"id":"t","text":"raw domain text"}
J
ft-template -t chatml in.jsonl >out.jsonl
texts() { jq -c --arg id "$1" 'select(.id == $id) | [.segments[] | [.text, .train]]' out.jsonl; }
[ "$(texts m)" = '[["<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\n",false],["A1<|im_end|>\n",true]]' ] || fail "messages: $(texts m)"
[ "$(jq -r 'select(.id == "m") | .source' out.jsonl)" = s1 ] || fail "passthrough field lost"
[ "$(texts s)" = '[["<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n",false],["A2<|im_end|>\n",true]]' ] || fail "sharegpt: $(texts s)"
[ "$(texts a)" = '[["<|im_start|>user\nDo X\n\non Y<|im_end|>\n<|im_start|>assistant\n",false],["Done<|im_end|>\n",true]]' ] || fail "alpaca: $(texts a)"
[ "$(texts a0)" = '[["<|im_start|>user\nDo Z<|im_end|>\n<|im_start|>assistant\n",false],["Ok<|im_end|>\n",true]]' ] || fail "alpaca, empty input: $(texts a0)"
[ "$(texts c)" = '[["<|im_start|>user\nP<|im_end|>\n<|im_start|>assistant\n",false],["C<|im_end|>\n",true]]' ] || fail "completion: $(texts c)"
[ "$(texts t)" = '[["raw domain text",true]]' ] || fail "text: $(texts t)"
[ "$(jq -r .id out.jsonl | tr '\n' ' ')" = "m s a a0 c t " ] || fail "records out of order"
# --system adds a system message, or replaces the existing one
ft-template -t chatml --system "Be kind." in.jsonl >sys.jsonl
[ "$(jq -j 'select(.id == "m") | .segments[0].text' sys.jsonl)" = "$(printf '<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\n')" ] || fail "--system add"
jq -j 'select(.id == "s") | .segments[0].text' sys.jsonl | grep -q 'system
Be kind.<|im_end|>' || fail "--system replace"
[ "$(jq -j 'select(.id == "s") | .segments[0].text' sys.jsonl | grep -c '<|im_start|>system')" -eq 1 ] || fail "--system added a second system message"
# --format forces a shape: a messages record read as text has no "text" field
expect_exit 1 ft-template -t chatml --format text in.jsonl
expect_in 'in.jsonl:1: missing field "text"' err
# zstd on stdin, output to a .zst file
zstd -q -c in.jsonl | ft-template -t chatml -o out.jsonl.zst
[ "$(zstd -dc out.jsonl.zst)" = "$(cat out.jsonl)" ] || fail "zstd stdin/output differ"
# --generation-prompt on alpaca: the output is the reference
ft-template -t chatml --generation-prompt in.jsonl >gen.jsonl
[ "$(jq -r 'select(.id == "a") | .reference' gen.jsonl)" = Done ] || fail "alpaca reference"
[ "$(jq -c 'select(.id == "a") | [.segments[].train]' gen.jsonl)" = '[false]' ] || fail "generation prompt must not train"
