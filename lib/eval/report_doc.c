// report_doc.c — HTML and Markdown backends of ft-report's page (see report_doc.h).
#include "eval/report_doc.h"
#include "core/err.h"
#include "core/io.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *CSS =
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ddd;padding:.25em .5em;"
    "text-align:left;vertical-align:top}th{background:#f4f4f4}td.num{text-align:right}"
    "table.long td{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.85em;max-width:22em;"
    "overflow-wrap:anywhere}.pass,.fail{display:inline-block;padding:0 .5em;border-radius:3px;color:#fff;"
    "font-weight:bold;margin-right:.5em}.pass{background:#2a7d2e}.fail{background:#b3261e}"
    ".plots{display:flex;flex-wrap:wrap;gap:.5em}figure{margin:0}svg{border:1px solid #eee}";

static void out(ft_rdoc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(ft_rdoc *d, const char *fmt, ...) {
    if (d->rc) return;
    char *buf = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&buf, fmt, ap);
    va_end(ap);
    if (n < 0) { d->rc = ft_err("report: out of memory"); return; }
    if (ft_writer_write(d->w, buf, (size_t)n)) d->rc = -1;
    free(buf);
}

// Markdown text: inline markup characters backslash-escaped, HTML's specials as entities,
// line breaks as <br> (inside table cells) or spaces.
static void md_text(ft_rdoc *d, const char *s, int in_cell) {
    if (d->rc || !s) return;
    size_t n = strlen(s), run = 0;
    for (size_t i = 0; i <= n; i++) {
        const char *rep = NULL;
        char esc[3] = {'\\', 0, 0};
        unsigned char c = i < n ? (unsigned char)s[i] : 0;
        if (i == n) rep = "";
        else if (strchr("\\`*_[]|", c)) esc[1] = (char)c, rep = esc;
        else if (c == '<') rep = "&lt;";
        else if (c == '>') rep = "&gt;";
        else if (c == '&') rep = "&amp;";
        else if (c == '\n') rep = in_cell ? "<br>" : " ";
        else if (c == '\r' || c == '\t') rep = " ";
        else if (c < 0x20 || c == 0x7f) rep = "\xef\xbf\xbd";
        if (!rep) continue;
        if (i > run && ft_writer_write(d->w, s + run, i - run)) d->rc = -1;
        if (*rep && ft_writer_write(d->w, rep, strlen(rep))) d->rc = -1;
        run = i + 1;
    }
}

static void html_text(ft_rdoc *d, const char *s) {
    if (!d->rc && s && ft_write_xml_text(d->w, s, strlen(s))) d->rc = -1;
}

static void text(ft_rdoc *d, const char *s) {
    if (d->md) md_text(d, s, 0);
    else html_text(d, s);
}

void rd_begin(ft_rdoc *d, const char *title) {
    if (d->md) {
        out(d, "# ");
        text(d, title);
        out(d, "\n\n");
        return;
    }
    out(d, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    text(d, title);
    out(d, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", CSS);
    text(d, title);
    out(d, "</h1>\n");
}

void rd_end(ft_rdoc *d) {
    if (!d->md) out(d, "</body>\n</html>\n");
}

void rd_heading(ft_rdoc *d, int level, const char *s, const char *id) {
    if (d->md) {
        out(d, "%.*s ", level, "######");
        text(d, s);
        out(d, "\n\n");
        return;
    }
    if (id) out(d, "<h%d id=\"%s\">", level, id);
    else out(d, "<h%d>", level);
    text(d, s);
    out(d, "</h%d>\n", level);
}

void rd_para(ft_rdoc *d, const char *s) {
    out(d, d->md ? "" : "<p>");
    text(d, s);
    out(d, d->md ? "\n\n" : "</p>\n");
}

void rd_verdict(ft_rdoc *d, int pass, const char *s) {
    if (d->md) out(d, "**%s** ", pass ? "PASS" : "FAIL");
    else out(d, "<p><span class=\"%s\">%s</span>", pass ? "pass" : "fail", pass ? "PASS" : "FAIL");
    text(d, s);
    out(d, d->md ? "\n\n" : "</p>\n");
}

void rd_table(ft_rdoc *d, int ncols, const char *const *headers, const char *cls) {
    d->ncols = ncols;
    if (d->md) {
        out(d, "|");
        for (int i = 0; i < ncols; i++) {
            out(d, " ");
            md_text(d, headers[i], 1);
            out(d, " |");
        }
        out(d, "\n|");
        for (int i = 0; i < ncols; i++) out(d, " --- |");
        out(d, "\n");
        return;
    }
    out(d, "<table%s%s%s>\n<tr>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    for (int i = 0; i < ncols; i++) {
        out(d, "<th>");
        text(d, headers[i]);
        out(d, "</th>");
    }
    out(d, "</tr>\n");
}

// A cell that reads as a number (digits, sign, point, exponent, brackets of a CI) is right-aligned.
static int numeric(const char *s) {
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (!strchr("0123456789+-.,e[] %", *s)) return 0;
    return 1;
}

void rd_row(ft_rdoc *d, const char *const *cells) {
    if (d->md) {
        out(d, "|");
        for (int i = 0; i < d->ncols; i++) {
            out(d, " ");
            md_text(d, cells[i], 1);
            out(d, " |");
        }
        out(d, "\n");
        return;
    }
    out(d, "<tr>");
    for (int i = 0; i < d->ncols; i++) {
        out(d, numeric(cells[i]) ? "<td class=\"num\">" : "<td>");
        text(d, cells[i]);
        out(d, "</td>");
    }
    out(d, "</tr>\n");
}

void rd_table_end(ft_rdoc *d) { out(d, d->md ? "\n" : "</table>\n"); }

void rd_group(ft_rdoc *d, int open) {
    if (!d->md) out(d, open ? "<div class=\"plots\">\n" : "</div>\n");
}

void rd_plot(ft_rdoc *d, const ft_plot *p, const char *slug) {
    if (d->rc) return;
    if (!d->md) {
        out(d, "<figure>\n");
        if (ft_svg_plot(d->w, p)) d->rc = -1;
        out(d, "</figure>\n");
        return;
    }
    size_t n = strlen(d->plot_stem) + strlen(slug) + 8;
    char *path = ft_malloc(n);
    if (!path) { d->rc = -1; return; }
    snprintf(path, n, "%s.%s.svg", d->plot_stem, slug);
    ft_writer *pw = ft_writer_open(path);
    int bad = !pw;
    if (pw && ft_svg_plot(pw, p)) {
        ft_writer_abort(pw);
        bad = 1;
    } else if (pw && ft_writer_commit(pw)) {   // commit frees the writer, also when it fails
        bad = 1;
    }
    if (bad) {
        d->rc = -1;
        free(path);
        return;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    out(d, "![");
    md_text(d, p->title ? p->title : slug, 0);
    out(d, "](%s)\n\n", base);
    free(path);
}
