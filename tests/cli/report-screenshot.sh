# ft-report's page in a real browser: headless Chromium (Debian's `chromium`) parses the page of
# a tiny-model training run (its DOM has the four charts as SVG, the tables, no script) and takes
# a screenshot, which must be a PNG of the requested size and far from blank (several times the
# bytes of a blank page's screenshot taken the same way). Skips when Chromium is absent.
. "$FT_ROOT/tests/lib.sh"
need_py
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || skip "no headless browser: apt-get install chromium to check the page as rendered"
export OMP_NUM_THREADS=1
"$FT_PY" "$FT_ROOT/tests/tools/make_tiny_model.py" --hf tiny --hidden 32 --intermediate 64 --layers 1 --vocab 300 --seed 1
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" train.tok 1 40
"$FT_PY" "$FT_ROOT/tests/cli/train-data.py" val.tok 2 10
ft-train --model tiny --data train.tok --val val.tok -o run --max-steps 8 --eval-every 4 --lr 1e-2 --log run/train.log.jsonl -q
ft-report -q run
shoot() {   # shoot PAGE PNG [extra flags]: a 1200x1600 screenshot
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1600 \
    --user-data-dir="$PWD/profile" --screenshot="$2" "file://$PWD/$1" >shot.log 2>&1 || { cat shot.log; fail "$browser failed on $1"; }
}
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$PWD/profile" --dump-dom \
  "file://$PWD/run/report.html" >dom.html 2>dom.log || { cat dom.log; fail "$browser --dump-dom failed"; }
shoot run/report.html page.png
echo '<!DOCTYPE html><html><body></body></html>' >blank.html
shoot blank.html blank.png
"$FT_PY" - <<'PY'
import struct, os
dom = open("dom.html", encoding="utf-8").read()
assert dom.count("<svg") == 4, dom.count("<svg")            # loss, lr, grad_norm, tokens/s
assert dom.count("<polyline") >= 5 and "<script" not in dom     # loss + eval_loss + three
assert '<h2 id="curves">Training curves</h2>' in dom and '<h2 id="config">' in dom
for f in ("page.png", "blank.png"):
    b = open(f, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR", f
    w, h = struct.unpack(">II", b[16:24])
    assert (w, h) == (1200, 1600), (f, w, h)
page, blank = os.path.getsize("page.png"), os.path.getsize("blank.png")
assert page > 5 * blank, (page, blank)
PY
