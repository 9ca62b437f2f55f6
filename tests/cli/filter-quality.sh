# --quality: Gopher rules on JSONL text. A plain prose document passes; each bad document is
# dropped by the rule it was built to break, and the per-rule counts in --stats say so.
source "$FT_ROOT/tests/lib.sh"
PY=$FT_PY; [ -x "$PY" ] || PY=$(command -v python3) || skip "no python3"
$PY - <<'PY'
import json
prose = ("The river runs past the old mill and the children walk to school along its bank. "
         "In spring the water rises with the melting snow, and farmers watch the fields with some worry. "
         "Most years the banks hold, and the town goes on with its markets, its quarrels and its small celebrations. "
         "Travellers who stop at the inn hear stories that have been told for generations by people who never left.")
docs = [
    ("good", prose),
    ("min-words", "Too short to be a document."),
    ("max-mean-word", " ".join(["incomprehensibilities"] * 5 + ["characteristically", "internationalization"] * 30) + " the and"),
    ("max-symbol-ratio", prose + " " + " ".join(["#tag"] * 20)),
    ("max-bullet-lines", "\n".join("- item number %d of the list with the usual words and stuff" % i for i in range(12))),
    ("max-ellipsis-lines", "\n".join(("and then the story goes on for a while ..." if i % 2 else "we walked to the river with the dog") for i in range(12))),
    ("min-alpha-words", prose + " " + " ".join(str(1000 + i) for i in range(200))),
    ("min-stopwords", " ".join("lorem%d ipsum dolor sit amet" % i for i in range(20))),
    ("max-dup-lines", "\n".join([prose] + ["the same line again and again with the words"] * 6)),
]
with open("in.jsonl", "w") as f:
    for name, text in docs:
        f.write(json.dumps({"want": name, "text": text}) + "\n")
PY
ft-filter --quality in.jsonl -o out.jsonl --stats-out st.json
[ "$(jq -r .want out.jsonl)" = good ] || fail "kept: $(jq -r .want out.jsonl | tr '\n' ' ')"
for r in min-words max-mean-word max-symbol-ratio max-bullet-lines max-ellipsis-lines min-alpha-words min-stopwords max-dup-lines; do
  [ "$(jq ".quality[\"$r\"].dropped" st.json)" = 1 ] || fail "rule $r: $(jq -c ".quality[\"$r\"]" st.json)"
done
[ "$(jq .dropped.quality st.json)" = 8 ] || fail "quality drops: $(jq -c .dropped st.json)"
# a rule can be switched off or moved: the short document then passes (it breaks nothing else)
ft-filter --q-min-words off --q-min-stopwords 0 --q-max-top-2gram off --q-max-top-3gram off --q-max-top-4gram off in.jsonl -o out2.jsonl
jq -r .want out2.jsonl | grep -qx min-words || fail "--q-min-words off did not keep the short document"
# FTOK input is refused
printf 'FTOK\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' >e.tok
expect_exit 1 ft-filter --quality e.tok
expect_in "JSONL text only" err
