// report_doc.h — the two faces of ft-report's page (internal to lib/eval): the sections of
// report.c are written once, against these calls, and come out as self-contained HTML (inline
// SVG, one <style>, no script) or as Markdown (tables; plots as SVG files beside the .md).
// Text arguments are plain text: each backend escapes it.
#ifndef FT_REPORT_DOC_H
#define FT_REPORT_DOC_H

#include "eval/svgplot.h"

struct ft_writer;

typedef struct {
    struct ft_writer *w;
    int md;                     // 0: HTML, 1: Markdown
    const char *plot_stem;      // Markdown: plot files are "<plot_stem>.<slug>.svg"
    int rc;                     // sticky: -1 after the first failed write
    int ncols;                  // of the open table
} ft_rdoc;

void rd_begin(ft_rdoc *d, const char *title);
void rd_end(ft_rdoc *d);
void rd_heading(ft_rdoc *d, int level, const char *text, const char *id);
void rd_para(ft_rdoc *d, const char *text);
// A verdict line: PASS/FAIL badge, then text.
void rd_verdict(ft_rdoc *d, int pass, const char *text);
// Tables: headers (ncols), then rows of ncols cells (NULL cell = empty). Cells of a "long"
// table keep their line breaks (generations).
void rd_table(ft_rdoc *d, int ncols, const char *const *headers, const char *cls);
void rd_row(ft_rdoc *d, const char *const *cells);
void rd_table_end(ft_rdoc *d);
// Charts between group(1) and group(0) sit side by side in HTML (wrapping).
void rd_group(ft_rdoc *d, int open);
// A chart: inline in HTML; in Markdown a file <plot_stem>.<slug>.svg and an image link to it.
void rd_plot(ft_rdoc *d, const ft_plot *p, const char *slug);

#endif
