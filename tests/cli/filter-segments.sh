# JSONL text comes from --field, else from the concatenated texts of "segments" (the output of
# ft-template): lengths in words are measured on that text, and records pass through unchanged.
source "$FT_ROOT/tests/lib.sh"
cat >in.jsonl <<'J'
{"segments":[{"text":"Hello ","train":false},{"text":"big world","train":true}],"id":1}
{"segments":[{"text":"Hi","train":false},{"text":" you","train":true}],"id":2}
{"body":"one two three four","id":3}
J
ft-filter --min-len 3 --skip-bad in.jsonl -o out.jsonl --stats-out st.json
[ "$(jq -c .id out.jsonl | tr '\n' ' ')" = "1 " ] || fail "segments: kept $(jq -c .id out.jsonl | tr '\n' ' ')"
[ "$(jq -c '[.dropped.min_len, .dropped.no_text]' st.json)" = "[1,1]" ] || fail "$(jq -c .dropped st.json)"
head -1 in.jsonl | cmp -s - out.jsonl || fail "record not passed through byte for byte"
ft-filter --field body --min-len 4 --skip-bad in.jsonl -o out2.jsonl
[ "$(jq -c .id out2.jsonl | tr '\n' ' ')" = "3 " ] || fail "--field body: kept $(jq -c .id out2.jsonl | tr '\n' ' ')"
