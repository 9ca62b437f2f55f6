// svgplot.c — SVG line charts (see svgplot.h): frame, nice ticks and grid, one polyline per
// series (broken at non-finite points), optional dots with tooltips, legend.
#include "eval/svgplot.h"
#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *COLORS[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
#define NCOLORS (int)(sizeof COLORS / sizeof *COLORS)

int ft_write_xml_text(ft_writer *w, const char *s, size_t n) {
    size_t run = 0;   // start of the pending plain run
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        if (c == '&') rep = "&amp;";
        else if (c == '<') rep = "&lt;";
        else if (c == '>') rep = "&gt;";
        else if (c == '"') rep = "&quot;";
        else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) rep = "\xef\xbf\xbd";
        if (!rep) continue;
        if (i > run) rc |= ft_writer_write(w, s + run, i - run);
        rc |= ft_writer_write(w, rep, strlen(rep));
        run = i + 1;
    }
    if (n > run) rc |= ft_writer_write(w, s + run, n - run);
    return rc ? -1 : 0;
}

static int text(ft_writer *w, const char *s) { return s ? ft_write_xml_text(w, s, strlen(s)) : 0; }

double ft_plot_tick_step(double span, int want) {
    if (!(span > 0) || want < 1) return 1;
    double raw = span / want, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nice * mag;
}

// Tick label: as few digits as the step needs.
static void tick_label(char *b, size_t n, double v, double step) {
    if (fabs(v) < step * 1e-9) v = 0;
    double a = fabs(v);
    if (a != 0 && (a >= 1e6 || a < 1e-3)) {
        snprintf(b, n, "%.3g", v);
        return;
    }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6) dec = 6;
    snprintf(b, n, "%.*f", dec, v);
}

// The range of every finite value of one coordinate; widened when empty or flat.
static void range(const ft_plot *p, int want_y, double *lo, double *hi) {
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int s = 0; s < p->nseries; s++)
        for (size_t i = 0; i < p->series[s].n; i++) {
            double x = p->series[s].x[i], y = p->series[s].y[i];
            if (!isfinite(x) || !isfinite(y)) continue;
            double v = want_y ? y : x;
            if (v < *lo) *lo = v;
            if (v > *hi) *hi = v;
        }
    if (*lo > *hi) *lo = 0, *hi = 1;
    if (*lo == *hi) {
        double d = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1;
        *lo -= d;
        *hi += d;
    }
}

int ft_svg_plot(ft_writer *w, const ft_plot *p) {
    int W = p->width > 0 ? p->width : 640, H = p->height > 0 ? p->height : 260;
    const int ml = 64, mr = 16, mt = p->title ? 28 : 12, mb = 44;
    double pw = W - ml - mr, ph = H - mt - mb;
    double x0, x1, y0, y1;
    range(p, 0, &x0, &x1);
    range(p, 1, &y0, &y1);
    double xs = ft_plot_tick_step(x1 - x0, 6), ys = ft_plot_tick_step(y1 - y0, 5);
    y0 = floor(y0 / ys) * ys;   // the y axis starts and ends on ticks
    y1 = ceil(y1 / ys) * ys;
    if (y1 <= y0) y1 = y0 + ys;
    int rc = 0;
#define PX(v) (ml + ((v) - x0) / (x1 - x0) * pw)
#define PY(v) (mt + ph - ((v) - y0) / (y1 - y0) * ph)
    rc |= ft_writer_printf(w,
                           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                           "font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\n",
                           W, H, W, H);
    rc |= ft_writer_printf(w, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", W, H);
    if (p->title) {
        rc |= ft_writer_printf(w, "<text x=\"%d\" y=\"18\" font-size=\"13\" font-weight=\"bold\">", ml);
        rc |= text(w, p->title);
        rc |= ft_writer_printf(w, "</text>\n");
    }
    char lab[48];
    // grid and tick labels
    for (double v = ceil(x0 / xs) * xs; v <= x1 + xs * 1e-9; v += xs) {
        double px = PX(v);
        tick_label(lab, sizeof lab, v, xs);
        rc |= ft_writer_printf(w,
                               "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
                               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">%s</text>\n",
                               px, mt, px, mt + ph, px, mt + ph + 14, lab);
    }
    for (double v = y0; v <= y1 + ys * 1e-9; v += ys) {
        double py = PY(v);
        tick_label(lab, sizeof lab, v, ys);
        rc |= ft_writer_printf(w,
                               "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
                               "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%s</text>\n",
                               ml, py, ml + pw, py, ml - 4, py + 4, lab);
    }
    rc |= ft_writer_printf(w, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>\n",
                           ml, mt, pw, ph);
    if (p->xlabel) {
        rc |= ft_writer_printf(w, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", ml + pw / 2, H - 6);
        rc |= text(w, p->xlabel);
        rc |= ft_writer_printf(w, "</text>\n");
    }
    if (p->ylabel) {
        rc |= ft_writer_printf(w, "<text transform=\"translate(12 %.1f) rotate(-90)\" text-anchor=\"middle\">", mt + ph / 2);
        rc |= text(w, p->ylabel);
        rc |= ft_writer_printf(w, "</text>\n");
    }
    // the series: a polyline per finite run, dots with tooltips when asked
    for (int s = 0; s < p->nseries; s++) {
        const ft_plot_series *se = &p->series[s];
        const char *col = COLORS[s % NCOLORS];
        rc |= ft_writer_printf(w, "<g class=\"series\" data-name=\"");
        rc |= text(w, se->name);
        rc |= ft_writer_printf(w, "\" data-points=\"%zu\">\n", se->n);
        int open = 0;
        for (size_t i = 0; i < se->n; i++) {
            int ok = isfinite(se->x[i]) && isfinite(se->y[i]);
            if (ok && !open) {
                rc |= ft_writer_printf(w, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", col);
                open = 1;
            } else if (!ok && open) {
                rc |= ft_writer_printf(w, "\"/>\n");
                open = 0;
            }
            if (ok) rc |= ft_writer_printf(w, "%.2f,%.2f ", PX(se->x[i]), PY(se->y[i]));
        }
        if (open) rc |= ft_writer_printf(w, "\"/>\n");
        if (se->markers)
            for (size_t i = 0; i < se->n; i++) {
                if (!isfinite(se->x[i]) || !isfinite(se->y[i])) continue;
                rc |= ft_writer_printf(w, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"><title>", PX(se->x[i]),
                                       PY(se->y[i]), col);
                rc |= text(w, se->name);
                rc |= ft_writer_printf(w, " %.6g at %.6g</title></circle>\n", se->y[i], se->x[i]);
            }
        rc |= ft_writer_printf(w, "</g>\n");
        // legend entry, top right, one line per series
        double ly = mt + 12 + 14 * s, lx = ml + pw - 150;
        rc |= ft_writer_printf(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>"
                                  "<text x=\"%.1f\" y=\"%.1f\">",
                               lx, ly - 4, lx + 18, ly - 4, col, lx + 22, ly);
        rc |= text(w, se->name);
        rc |= ft_writer_printf(w, "</text>\n");
    }
#undef PX
#undef PY
    rc |= ft_writer_printf(w, "</svg>\n");
    return rc ? -1 : 0;
}
