# metrics-porter.sh — lib/eval/porter.c against nltk's PorterStemmer() (what rouge-score uses) on
# ~11,000 words: every suffix rule on many roots, the irregular forms, random letter strings.
source "$FT_ROOT/tests/lib.sh"
need_py
"$FT_PY" -c 'import nltk' 2>/dev/null || skip "nltk not installed in the venv"
unit="${FT_UNIT:-$FT_ROOT/build/tests}/test_metrics"
[ -x "$unit" ] || skip "no $unit (build the unit tests first)"
ref="$FT_ROOT/tests/parity/metrics_ref.py"
"$FT_PY" "$ref" porter-words words.txt
"$unit" --porter <words.txt >stems.txt
"$FT_PY" "$ref" porter words.txt stems.txt || fail "Porter stems differ from nltk"
