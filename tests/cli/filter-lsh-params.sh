# The LSH bands/rows that ft-filter --dedup near chooses equal datasketch MinHashLSH's
# optimum (equal false-positive and false-negative weights) for several thresholds.
source "$FT_ROOT/tests/lib.sh"
need_py
command -v jq >/dev/null || skip "jq not installed"
$FT_PY -c 'import datasketch' 2>/dev/null || skip "datasketch not installed in the venv"
echo '{"text":"a b c"}' >in.jsonl
for t in 0.5 0.8 0.9; do
  for k in 128 256; do
    ft-filter --dedup near --threshold $t --num-perm $k in.jsonl -o /dev/null --stats-out st.json
    echo "$t $k $(jq -r '.dedup | "\(.bands) \(.rows)"' st.json)" >>ours.txt
  done
done
$FT_PY - <<'PY'
from datasketch.lsh import _optimal_param
with open("want.txt", "w") as f:
    for t in ("0.5", "0.8", "0.9"):
        for k in (128, 256):
            b, r = _optimal_param(float(t), k, 0.5, 0.5)
            f.write("%s %d %d %d\n" % (t, k, b, r))
PY
diff ours.txt want.txt >&2 || fail "bands/rows differ from datasketch (ours vs datasketch above)"
