# ft-report on make demo's pipeline (pipelines/sft.mk) run end to end on a tiny random GGUF
# model: the page has its sections, and its numbers are the input files' (the training log,
# the eval reports, filter.json, train_config.json), recomputed here from those files; the
# charts' points are the log's values (pixel positions an affine map of them); the HTML is
# well formed and has no script; the Markdown twin carries the same numbers and its charts
# are valid SVG files. Then hand-written inputs check the generations' order (differing
# outputs first, the largest per-record change first), the gates, and the errors.
. "$FT_ROOT/tests/lib.sh"
need_py
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --gguf tiny.gguf --gguf-type f32 --hidden 32 \
  --intermediate 64 --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seed 5
head -40 "$FT_ROOT/examples/json-extract/train.jsonl" >train.jsonl
head -6 "$FT_ROOT/examples/json-extract/eval.jsonl" >eval.jsonl
head -2 "$FT_ROOT/examples/general/general.jsonl" >general.jsonl
make -s -C "$FT_ROOT" -f pipelines/sft.mk FT="$FT_BIN/" MODEL="$PWD/tiny.gguf" OUT="$PWD/run" DATA="$PWD/train.jsonl" \
  EVAL="$PWD/eval.jsonl" GENERAL="$PWD/general.jsonl" STEPS=12 SEQ_LEN=128 MAX_NEW=6 MIN_GAIN= MAX_REGRESSION= NGRAM=64 \
  TRAIN_FLAGS=-q >log 2>&1 || { cat log; fail "pipeline failed"; }
expect_in "== report: $PWD/run/report.html" log
# the gates: ppl may not get 25% worse (passes: 12 steps barely move a random model), em must
# gain 10 points (fails: it stays 0) -> exit 3, the page written and showing both verdicts
expect_exit 3 ft-report --max-regression ppl=25% --min-gain em=10 --samples 4 run
expect_in "1 gate failed" err
"$FT_PY" - <<'PY'
import json, math, re, xml.etree.ElementTree as ET
from html.parser import HTMLParser

def fmt(v):   # the report's number format: %.4f, %.4g for very large or small
    return "%.4g" % v if abs(v) >= 1e6 or (v != 0 and abs(v) < 1e-3) else "%.4f" % v

html = open("run/report.html", encoding="utf-8").read()
md = open("run/report.md", encoding="utf-8").read()
for sid in ("run", "curves", "evaluation", "generations", "curation", "config"):
    assert f'<h2 id="{sid}">' in html, sid
assert "<script" not in html.lower()

# well-formed: every non-void element closed in order
class P(HTMLParser):
    VOID = {"meta", "br", "img", "hr", "input", "link"}
    def __init__(s): super().__init__(); s.stack = []
    def handle_starttag(s, t, a):
        if t not in s.VOID: s.stack.append(t)
    def handle_startendtag(s, t, a): pass
    def handle_endtag(s, t):
        assert s.stack and s.stack[-1] == t, (t, s.stack[-5:])
        s.stack.pop()
p = P(); p.feed(html); assert p.stack == [], p.stack

log = [json.loads(l) for l in open("run/train.log.jsonl")]
train = [j for j in log if "loss" in j]
ev = [j for j in log if "eval_loss" in j]
assert len(train) == 12 and [j["step"] for j in ev] == [0, 10, 12], ev
want = [f"{fmt(train[0]['loss'])} → {fmt(train[-1]['loss'])}",
        f"{fmt(ev[0]['eval_loss'])} (step 0) → {fmt(ev[-1]['eval_loss'])} (step 12)"]
best = min(ev, key=lambda j: j["eval_loss"])
want.append(f"{fmt(best['eval_loss'])} at step {best['step']}")
want.append("%.1f" % (sum(j["tokens_per_s"] for j in train) / len(train)))
# eval reports: values, deltas, relative change, CIs of each side
for name, metrics in (("ppl", ("loss", "ppl")), ("score", ("em", "f1"))):
    a, b = json.load(open(f"run/base.{name}.json")), json.load(open(f"run/tuned.{name}.json"))
    for m in metrics:
        d = b[m] - a[m]
        want += [fmt(a[m]), fmt(b[m]), ("+" if d >= 0 else "") + fmt(d)]
        if a[m]: want.append("%+.2f%%" % (100 * d / abs(a[m])))
        if "ci95" in a: want.append(f"{fmt(a[m])} [{fmt(a['ci95'][m][0])}, {fmt(a['ci95'][m][1])}]")
# curation counts and the configuration
f = json.load(open("run/filter.json"))
for k in ("records_in", "records_out", "records_val", "tokens_in", "tokens_out"):
    want.append(f"<td>{k}</td><td class=\"num\">{f[k]}</td>")
cfg = json.load(open("run/adapter/train_config.json"))
want += [f"<td>lora-r</td><td class=\"num\">{cfg['lora-r']}</td>", f"<td>method</td><td>{cfg['method']}</td>"]
for w in want:
    assert w in html, ("html", w)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", w)
    w_md = "| " + " | ".join(cells) + " |" if cells else w
    assert w_md.replace("[", "\\[").replace("]", "\\]").replace("_", "\\_") in md, ("md", w_md)

# the loss chart: one polyline point per training step, one dot per evaluation, and pixel
# positions an affine map of (step, value) -- the line drawn is the log's
svg = re.search(r'<svg[^>]*>(?:(?!</svg>).)*?>Loss</text>.*?</svg>', html, re.S).group(0)
root = ET.fromstring(svg)
ns = "{http://www.w3.org/2000/svg}"
groups = {g.get("data-name"): g for g in root.iter(ns + "g")}
pts = [tuple(map(float, p.split(","))) for p in groups["loss"].find(ns + "polyline").get("points").split()]
assert len(pts) == 12, len(pts)
dots = [(float(c.get("cx")), float(c.get("cy"))) for c in groups["eval_loss"].iter(ns + "circle")]
assert len(dots) == 3
vals = [(j["step"], j["loss"]) for j in train] + [(j["step"], j["eval_loss"]) for j in ev]
pix = pts + dots
def affine(u, v):
    n = len(u); mu, mv = sum(u) / n, sum(v) / n
    k = sum((a - mu) * (b - mv) for a, b in zip(u, v)) / sum((a - mu) ** 2 for a in u)
    return k, max(abs(mv + k * (a - mu) - b) for a, b in zip(u, v))
kx, ex = affine([v[0] for v in vals], [p[0] for p in pix])
ky, ey = affine([v[1] for v in vals], [p[1] for p in pix])
assert kx > 0 and ky < 0 and ex < 0.02 and ey < 0.02, (kx, ex, ky, ey)   # %.2f pixel rounding

# the generations: 4 rows (--samples 4), the tuned outputs as the file has them (escaped)
gen_b = [json.loads(l) for l in open("run/tuned.gen.jsonl")]
sec = html[html.index('<h2 id="generations">'):html.index('<h2 id="curation">')]
assert sec.count("<tr>") == 1 + 4, sec.count("<tr>")
def esc(s):
    s = "".join("\ufffd" if (ord(c) < 32 and c not in "\n\t") or c == "\x7f" else c for c in s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
shown = re.findall(r'<tr><td>(\d+) eval-\d+</td>', sec)
for i in map(int, shown):
    assert f"<td>{esc(gen_b[i - 1]['output'])}</td>" in sec, i
# the gates
assert '<span class="pass">PASS</span>--max-regression ppl=25%' in html
assert '<span class="fail">FAIL</span>--min-gain em=10' in html and "1 of 2 gates failed." in html
assert "**FAIL** --min-gain em=10" in md
# the Markdown's charts are files beside it, valid SVG
charts = re.findall(r"!\[[^]]*\]\(([^)]+)\)", md)
assert "report.loss.svg" in charts and len(charts) >= 4, charts
for c in charts:
    ET.parse("run/" + c)
PY

# ---- hand-written inputs: order of the generations, per-record scores, file-by-file options
cat >a.gen.jsonl <<'EOF'
{"id":"p1","prompt":"one","output":"same","reference":"same"}
{"id":"p2","prompt":"two","output":"x","reference":"y"}
{"id":"p3","prompt":"three <b>","output":"a & b","reference":"q"}
{"id":"p4","prompt":"four","output":"k","reference":"k"}
EOF
cat >b.gen.jsonl <<'EOF'
{"id":"p1","prompt":"one","output":"same","reference":"same"}
{"id":"p2","prompt":"two","output":"y","reference":"y"}
{"id":"p3","prompt":"three <b>","output":"a | b","reference":"q"}
{"id":"p4","prompt":"four","output":"k2","reference":"k"}
EOF
for s in a b; do ft-eval score --metrics em,f1 --per-record $s.rec.jsonl -o $s.json $s.gen.jsonl; done
ft-report --pair a.json b.json --gen a.gen.jsonl b.gen.jsonl -o hand.html
[ -f hand.md ] || fail "the Markdown twin is not beside -o hand.html"
"$FT_PY" - <<'PY'
import json, re
html = open("hand.html", encoding="utf-8").read()
ids = re.findall(r"<tr><td>\d+ (p\d)</td>", html)
# p2 changed most (f1 0 -> 1), then p4 (1 -> 0: also 1) by index, then p3 (0 -> 0, but differs),
# p1 last (identical outputs)
a = [json.loads(l) for l in open("a.rec.jsonl")]; b = [json.loads(l) for l in open("b.rec.jsonl")]
ch = {r["id"]: abs(s["f1"] - r["f1"]) for r, s in zip(a, b)}
want = sorted(["p2", "p3", "p4"], key=lambda i: (-ch[i], i)) + ["p1"]
assert ids == want, (ids, want, ch)
assert "<td>three &lt;b&gt;</td>" in html and "<td>a &amp; b</td>" in html
assert "3 have different base and tuned outputs" in html
md = open("hand.md", encoding="utf-8").read()
assert "a \\| b" in md and "three &lt;b&gt;" in md
PY
# errors: nothing written, the file named
expect_exit 1 ft-report --pair a.json b.json --gen a.gen.jsonl <(head -2 b.gen.jsonl) -o e.html
expect_in "a.gen.jsonl has 4 records" err
[ ! -e e.html ] || fail "a failed report left e.html"
expect_exit 1 ft-report --pair a.json b.json --min-gain bleu=1 -o e.html
expect_in "--min-gain bleu: no base/tuned pair of reports has the metric 'bleu'" err
sed 's/"p3"/"p9"/' b.gen.jsonl >c.gen.jsonl
expect_exit 1 ft-report --gen a.gen.jsonl c.gen.jsonl -o e.html
expect_in 'a.gen.jsonl:3: id "p3", but c.gen.jsonl:3 has id "p9"' err
mkdir empty
expect_exit 1 ft-report empty
expect_in "empty: no run files found" err
echo '{"step": 1, "loss": 2}' >l.jsonl; echo '{"loss": 3}' >>l.jsonl
expect_exit 1 ft-report --log l.jsonl -o e.html
expect_in 'l.jsonl:2: a training log line without a numeric "step"' err
expect_exit 2 ft-report --log l.jsonl
[ ! -e e.html ] && [ ! -e e.md ] || fail "a failed report left output"
