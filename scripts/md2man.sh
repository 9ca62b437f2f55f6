#!/usr/bin/env bash
# md2man.sh — turn one of ft's Markdown manuals (docs/ft-*.md) into a man page (roff) on
# stdout. Handles what the manuals use: "# name(1) — what", ## / ### headings, paragraphs,
# fenced and indented code, lists, tables (set as preformatted text), `code` and **bold**.
# Usage: scripts/md2man.sh docs/ft-train.md > ft-train.1
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: md2man.sh FILE.md" >&2; exit 2; }
awk -v date="$(date -u +%Y-%m-%d)" '
function esc(s) {
  gsub(/\\/, "\\e", s)
  return s
}
function inline(s) {
  s = esc(s)
  while (match(s, /`[^`]+`/)) s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 1, RLENGTH - 2) "\\fR" substr(s, RSTART + RLENGTH)
  while (match(s, /\*\*[^*]+\*\*/)) s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 2, RLENGTH - 4) "\\fR" substr(s, RSTART + RLENGTH)
  sub(/^[.\x27]/, "\\\\\\&&", s)
  return s
}
function lit(s) { s = esc(s); sub(/^[.\x27]/, "\\\\\\&&", s); return s }
NR == 1 && /^# / {
  title = substr($0, 3); name = title; sect = 1; what = ""
  if (match(title, /\([0-9]\)/)) { name = substr(title, 1, RSTART - 1); sect = substr(title, RSTART + 1, 1) }
  if (index(title, " — ")) what = substr(title, index(title, " — ") + length(" — "))
  printf ".TH %s %s %s \"ft\" \"ft manual\"\n.SH NAME\n%s \\- %s\n", toupper(name), sect, date, name, (what != "" ? inline(what) : "part of the ft fine-tuning toolkit")
  next
}
/^```/ { if (code) { print ".fi\n.RE"; code = 0 } else { print ".RS 2\n.nf"; code = 1 }; next }
code { print lit($0); next }
/^## / { print ".SH " toupper(substr($0, 4)); next }
/^### / { print ".SS " substr($0, 5); next }
/^\|[ -:|]+\|$/ { next }
/^\|/ { line = $0; gsub(/^\| *| *\|$/, "", line); gsub(/ *\| */, "  |  ", line); if (!tab) { print ".RS 2\n.nf"; tab = 1 }; print inline(line); next }
tab { print ".fi\n.RE"; tab = 0 }
/^    / { if (!ind) { print ".RS 2\n.nf"; ind = 1 }; print lit(substr($0, 5)); next }
ind && /^$/ { print ".fi\n.RE\n.PP"; ind = 0; next }
ind { print ".fi\n.RE"; ind = 0 }
/^$/ { print ".PP"; next }
/^[-*] / { print ".IP \\(bu 2\n" inline(substr($0, 3)); next }
/^[0-9]+\. / { print ".IP " $1 " 4\n" inline(substr($0, length($1) + 2)); next }
{ print inline($0) }
END { if (code || tab || ind) print ".fi\n.RE" }
' "$1"
