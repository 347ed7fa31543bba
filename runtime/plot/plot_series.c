/* Chart data: lines with round markers, grouped bars, error bars with caps,
 * dashed reference lines, and the legend placed where it covers the least. */
#include <math.h>
#include <string.h>

#include "plot/plot_internal.h"

/* Okabe-Ito, ordered so that the first colours differ most; yellow (hard
 * to see on white) comes last. */
static const unsigned char palette[8][3] = {
    {0, 114, 178}, {213, 94, 0}, {0, 158, 115}, {230, 159, 0},
    {204, 121, 167}, {86, 180, 233}, {0, 0, 0}, {240, 228, 66},
};

void movl_plot_series_color(int i, unsigned char rgb[3])
{
    int k = ((i % 8) + 8) % 8;
    memcpy(rgb, palette[k], 3);
}

void plot_series_rgb(int i, double rgb[3])
{
    unsigned char u[3];
    movl_plot_series_color(i, u);
    for (int k = 0; k < 3; k++)
        rgb[k] = u[k] / 255.0;
}

static void set_series_colour(plot_ctx *c, int k)
{
    double rgb[3];
    plot_series_rgb(k, rgb);
    cairo_set_source_rgb(c->cr, rgb[0], rgb[1], rgb[2]);
}

static double point_err(const movl_plot_series *se, int i)
{
    return se->err && isfinite(se->err[i]) ? fabs(se->err[i]) : 0;
}

static void error_bar(plot_ctx *c, double x, double y, double e, double cap)
{
    double y0 = plot_map_y(c, y - e), y1 = plot_map_y(c, y + e);
    cairo_move_to(c->cr, x, y0);
    cairo_line_to(c->cr, x, y1);
    cairo_move_to(c->cr, x - cap, y0);
    cairo_line_to(c->cr, x + cap, y0);
    cairo_move_to(c->cr, x - cap, y1);
    cairo_line_to(c->cr, x + cap, y1);
}

static void marker(plot_ctx *c, double x, double y, double radius)
{
    cairo_new_sub_path(c->cr);
    cairo_arc(c->cr, x, y, radius, 0, 2 * PLOT_PI);
}

void plot_draw_xmarks(plot_ctx *c)
{
    const movl_plot_panel *p = c->p;
    cairo_t *cr = c->cr;
    double dash[2] = {5 * c->s, 4 * c->s}, v;
    plot_font(c, 10, 0);
    for (int m = 0; m < p->nxmarks; m++) {
        if (!plot_xmark(c, m, &v))
            continue;
        double x = plot_map_x(c, v);
        cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
        cairo_set_line_width(cr, 1.2 * c->s);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, x, c->t);
        cairo_line_to(cr, x, c->b);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        const char *label = p->xmark_labels ? p->xmark_labels[m] : NULL;
        int left = x + 4 * c->s + plot_text_width(c, label) > c->r; /* no room on the right */
        plot_text(c, left ? x - 4 * c->s : x + 4 * c->s, c->t + 3 * c->s, label, left, 0, 0);
    }
}

static int drawable(const plot_ctx *c, const movl_plot_series *se, int i)
{
    double x, y;
    return i >= 0 && i < se->n && plot_point(c, se, i, &x, &y);
}

void plot_draw_lines(plot_ctx *c)
{
    const movl_plot_panel *p = c->p;
    cairo_t *cr = c->cr;
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int k = 0; k < p->nseries; k++) {
        const movl_plot_series *se = &p->series[k];
        double x, y;
        int count = 0;
        for (int i = 0; i < se->n; i++)
            count += plot_point(c, se, i, &x, &y);
        int all_markers = count <= (c->r - c->l) / (6 * c->s); /* dense series: line only */
        set_series_colour(c, k);
        cairo_set_line_width(cr, 2 * c->s);
        for (int i = 0; i < se->n; i++) {
            if (!plot_point(c, se, i, &x, &y))
                continue;
            if (drawable(c, se, i - 1))
                cairo_line_to(cr, plot_map_x(c, x), plot_map_y(c, y));
            else
                cairo_move_to(cr, plot_map_x(c, x), plot_map_y(c, y));
        }
        cairo_stroke(cr);
        cairo_set_line_width(cr, 1.3 * c->s);
        for (int i = 0; i < se->n; i++)
            if (plot_point(c, se, i, &x, &y) && point_err(se, i) > 0)
                error_bar(c, plot_map_x(c, x), y, point_err(se, i), 4 * c->s);
        cairo_stroke(cr);
        for (int i = 0; i < se->n; i++) {
            int isolated = !drawable(c, se, i - 1) && !drawable(c, se, i + 1);
            if (plot_point(c, se, i, &x, &y) && (all_markers || isolated))
                marker(c, plot_map_x(c, x), plot_map_y(c, y), 3.5 * c->s);
        }
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, 0.8 * c->s);
        cairo_stroke(cr);
    }
}

/* Bar k of category i spans [i + 0.1 + k w, i + 0.1 + (k + 1) w] with w = 0.8 / nseries. */
static void bar_rect(const plot_ctx *c, int k, double x, double y, double r[4])
{
    double w = 0.8 / c->p->nseries, x0 = x - 0.4 + k * w;
    double px0 = plot_map_x(c, x0), px1 = plot_map_x(c, x0 + w);
    double gap = fmin(1.0 * c->s, 0.15 * (px1 - px0));
    double y0 = plot_map_y(c, 0), y1 = plot_map_y(c, y);
    r[0] = px0 + gap;
    r[1] = fmin(y0, y1);
    r[2] = px1 - px0 - 2 * gap;
    r[3] = fabs(y1 - y0);
}

void plot_draw_bars(plot_ctx *c)
{
    const movl_plot_panel *p = c->p;
    cairo_t *cr = c->cr;
    double x, y, r[4];
    for (int k = 0; k < p->nseries; k++) {
        set_series_colour(c, k);
        for (int i = 0; i < p->series[k].n; i++)
            if (plot_point(c, &p->series[k], i, &x, &y)) {
                bar_rect(c, k, x, y, r);
                cairo_rectangle(cr, r[0], r[1], r[2], r[3]);
            }
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    if (c->ymin < 0 && c->ymax > 0) { /* the baseline bars grow from */
        cairo_set_line_width(cr, 1);
        cairo_move_to(cr, c->l, floor(plot_map_y(c, 0)) + 0.5);
        cairo_line_to(cr, c->r, floor(plot_map_y(c, 0)) + 0.5);
        cairo_stroke(cr);
    }
    cairo_set_line_width(cr, 1.3 * c->s);
    for (int k = 0; k < p->nseries; k++)
        for (int i = 0; i < p->series[k].n; i++)
            if (plot_point(c, &p->series[k], i, &x, &y) && point_err(&p->series[k], i) > 0) {
                bar_rect(c, k, x, y, r);
                error_bar(c, r[0] + r[2] / 2, y, point_err(&p->series[k], i), fmin(4 * c->s, 0.3 * r[2]));
            }
    cairo_stroke(cr);
}
