// svgplot.h — line charts as standalone SVG (no script, no external resources), written by
// ft-report (lib/eval/report.c) inline in its HTML page and as files beside its Markdown.
// Axes get "nice" ticks (1, 2, 5 x 10^k); non-finite points are left out of a line (it breaks
// there); a series with markers draws a dot per point with its value as a tooltip (<title>).
#ifndef FT_SVGPLOT_H
#define FT_SVGPLOT_H

#include <stddef.h>

struct ft_writer;

typedef struct {
    const char *name;           // legend text
    const double *x, *y;        // n points
    size_t n;
    int markers;                // 1: a dot per point (sparse series such as eval_loss)
} ft_plot_series;

typedef struct {
    const char *title;          // drawn above the chart (may be NULL)
    const char *xlabel, *ylabel;
    const ft_plot_series *series;
    int nseries;
    int width, height;          // pixels (0: 640 x 260)
} ft_plot;

// Nice tick step for a range covered by about `want` intervals (> 0 for span > 0).
double ft_plot_tick_step(double span, int want);
// Write s (n bytes of UTF-8) as XML/HTML text: & < > " escaped, control characters other than
// newline and tab (not allowed in XML) written as U+FFFD. 0 or -1.
int ft_write_xml_text(struct ft_writer *w, const char *s, size_t n);
// Write the chart as one <svg> element (xmlns set: the same text is a valid .svg file).
// 0, or -1 with the writer's error.
int ft_svg_plot(struct ft_writer *w, const ft_plot *p);

#endif
