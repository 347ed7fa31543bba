/* Shared state of the chart drawing files (plot.c, plot_text.c,
 * plot_range.c, plot_axes.c, plot_series.c, plot_legend.c): one panel being
 * laid out and drawn. Not part of the public API (see plot.h). */
#ifndef MOVL_PLOT_INTERNAL_H
#define MOVL_PLOT_INTERNAL_H

#include <cairo.h>
#include <stddef.h>

#include "plot/plot.h"

/* M_PI and M_SQRT1_2 are not in strict C11 / POSIX math.h. */
#define PLOT_PI 3.14159265358979323846
#define PLOT_SQRT1_2 0.70710678118654752440

#define PLOT_MAX_TICKS 40
#define PLOT_LABEL_LEN 48

typedef struct plot_ticks {
    int n;
    double v[PLOT_MAX_TICKS]; /* axis units (log10 of x on a log axis) */
    char label[PLOT_MAX_TICKS][PLOT_LABEL_LEN];
} plot_ticks;

typedef struct plot_ctx {
    cairo_t *cr;
    int has_text;                  /* 0 when no font could be loaded: text is skipped */
    double s;                      /* scale of text, strokes and gaps for this panel size */
    const movl_plot_panel *p;
    double px, py, pw, ph;         /* the panel's rectangle in the image */
    double l, r, t, b;             /* plot area: left, right, top, bottom (t < b) */
    double xmin, xmax, ymin, ymax; /* axis ranges; categories sit at i + 0.5 in [0, ncats] */
    double data_ymax;              /* largest y (+ error) drawn */
    double legend_right;           /* > 0: the legend sits right of the plot area, this wide */
    plot_ticks xt, yt;
    double cat_angle;              /* category labels: 0, 45 or 90 degrees */
    int cat_every;                 /* label every k-th category when they are dense */
    double cat_maxlen;             /* longest category label in px before it is shortened */
} plot_ctx;

/* Text (plot_text.c). Sizes are in px before scaling by ctx->s. */
void plot_font(plot_ctx *c, double size, int bold);
double plot_text_width(plot_ctx *c, const char *text);
double plot_text_height(plot_ctx *c); /* ascent + descent of the current font */
/* Draws text with its anchor point at (x, y): ax 0/0.5/1 = left/centre/right
 * end, ay 0/0.5/1 = top/middle/bottom of the text box; rotated by angle
 * degrees counter-clockwise around the anchor. */
void plot_text(plot_ctx *c, double x, double y, const char *text, double ax, double ay, double angle);
/* Copies text into out, cut at a UTF-8 character boundary and ended with an
 * ellipsis, so that it is at most maxw px wide. */
void plot_fit_text(plot_ctx *c, const char *text, double maxw, char *out, size_t outsz);
int plot_fonts_usable(void);

/* Writes the image as a PNG at path through movl_out_open (temporary name,
 * renamed when complete); one line in err naming path on failure (plot.c). */
int plot_write_png(cairo_surface_t *surface, const char *path, char *err);
/* A white w x h RGB canvas to draw on; MOVL_ERR_RUN naming path when cairo cannot make it. */
int plot_new_canvas(const char *path, int w, int h, cairo_surface_t **surface, cairo_t **cr, char *err);
/* Flushes a drawing, writes it with plot_write_png unless cairo failed, and destroys cr and surface. */
int plot_finish_png(cairo_surface_t *surface, cairo_t *cr, const char *path, char *err);

/* Ranges (plot_range.c). */
/* The position of point i of series se in axis units; 0 when it cannot be
 * drawn (NaN y, x <= 0 on a log axis, beyond the categories). */
int plot_point(const plot_ctx *c, const movl_plot_series *se, int i, double *x, double *y);
/* Reference line m in axis units; 0 when it cannot be drawn. */
int plot_xmark(const plot_ctx *c, int m, double *x);
int plot_count_points(const movl_plot_panel *p);
void plot_ranges(plot_ctx *c);
double plot_map_x(const plot_ctx *c, double x);
double plot_map_y(const plot_ctx *c, double y);

/* Axes (plot_axes.c). */
void plot_layout(plot_ctx *c); /* margins and ticks for the current ranges */
void plot_draw_axes(plot_ctx *c);

/* Data (plot_series.c). */
void plot_series_rgb(int i, double rgb[3]);
void plot_draw_xmarks(plot_ctx *c);
void plot_draw_lines(plot_ctx *c);
void plot_draw_bars(plot_ctx *c);

/* Legend (plot_legend.c). When every place inside the plot area would
 * cover data: raises ymax to free a band at the top, or else reserves room
 * right of the plot area. Returns 1 when the layout must be redone. */
int plot_legend_make_room(plot_ctx *c);
void plot_draw_legend(plot_ctx *c);

#endif
