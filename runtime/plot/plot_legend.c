/* The legend: one row per labelled series, in the corner (or edge middle)
 * of the plot area where it covers the least data, top-right on ties. */
#include <math.h>

#include "plot/plot_internal.h"

typedef struct box {
    double x, y, w, h;
} box;

static int inside(const box *b, double x, double y)
{
    return x >= b->x && x <= b->x + b->w && y >= b->y && y <= b->y + b->h;
}

static double overlap_area(const box *b, double x, double y, double w, double h)
{
    double ox = fmin(b->x + b->w, x + w) - fmax(b->x, x);
    double oy = fmin(b->y + b->h, y + h) - fmax(b->y, y);
    return ox > 0 && oy > 0 ? ox * oy : 0;
}

/* Samples along a segment that fall inside the box. */
static double segment_cost(const box *b, double x0, double y0, double x1, double y1)
{
    double cost = 0;
    for (int k = 0; k <= 16; k++)
        cost += inside(b, x0 + (x1 - x0) * k / 16.0, y0 + (y1 - y0) * k / 16.0);
    return cost;
}

/* How much data, error bars and reference lines the box would hide. */
static double cover_cost(plot_ctx *c, const box *b)
{
    const movl_plot_panel *p = c->p;
    double cost = 0, x, y, px = 0, py = 0, unit = 16 * c->s * c->s;
    for (int k = 0; k < p->nseries; k++) {
        const movl_plot_series *se = &p->series[k];
        int prev = 0;
        for (int i = 0; i < se->n; i++) {
            if (!plot_point(c, se, i, &x, &y)) {
                prev = 0;
                continue;
            }
            double e = se->err && isfinite(se->err[i]) ? fabs(se->err[i]) : 0;
            double X = plot_map_x(c, x), Y = plot_map_y(c, y);
            if (p->kind == MOVL_PLOT_BARS) {
                double y0 = plot_map_y(c, 0), w = (c->r - c->l) * 0.8 / p->nseries / p->ncats;
                cost += overlap_area(b, X - 0.4 * (c->r - c->l) / p->ncats + k * w, fmin(Y, y0), w,
                                     fabs(Y - y0)) / unit;
                continue;
            }
            cost += 4 * inside(b, X, Y);
            if (prev)
                cost += segment_cost(b, px, py, X, Y);
            if (e > 0)
                cost += segment_cost(b, X, plot_map_y(c, y - e), X, plot_map_y(c, y + e));
            prev = 1;
            px = X;
            py = Y;
        }
    }
    for (int m = 0; m < p->nxmarks; m++) {
        if (!plot_xmark(c, m, &x))
            continue;
        double X = plot_map_x(c, x);
        cost += segment_cost(b, X, c->t, X, c->b) / 8; /* reference marks matter less than data */
        cost += overlap_area(b, X, c->t, 40 * c->s, 16 * c->s) / unit / 8;
    }
    return cost;
}

#define LEGEND_MAX_WIDTH 0.55 /* of the plot area */

/* Sets the legend's size in b (position 0, 0); returns its row count. */
static int legend_size(plot_ctx *c, box *b, double *row_h, double *text_maxw)
{
    const movl_plot_panel *p = c->p;
    double s = c->s, textw = 0, swatch = p->kind == MOVL_PLOT_BARS ? 12 * s : 24 * s;
    char text[160];
    int rows = 0;
    plot_font(c, 11, 0);
    double maxw = c->legend_right > 0 ? c->legend_right - 18 * s - swatch : LEGEND_MAX_WIDTH * (c->r - c->l);
    for (int k = 0; k < p->nseries; k++) {
        if (!p->series[k].label || !*p->series[k].label)
            continue;
        plot_fit_text(c, p->series[k].label, maxw, text, sizeof text);
        textw = fmax(textw, plot_text_width(c, text));
        rows++;
    }
    *row_h = fmax(plot_text_height(c), 10 * s) + 3 * s;
    *text_maxw = maxw;
    *b = (box){0, 0, 12 * s + swatch + 6 * s + textw, 12 * s + rows * *row_h - 3 * s};
    return rows;
}

/* Moves b to the least covering place: corners first, then the middles of
 * the edges, then the centre. Returns the cover cost there. */
static double place_legend(plot_ctx *c, box *b)
{
    const double fx[9] = {1, 0, 1, 0, 1, 0, 0.5, 0.5, 0.5}, fy[9] = {0, 0, 1, 1, 0.5, 0.5, 0, 1, 0.5};
    double best = INFINITY, bx = 0, by = 0, inset = 6 * c->s;
    for (int i = 0; i < 9; i++) {
        b->x = c->l + inset + fx[i] * (c->r - c->l - 2 * inset - b->w);
        b->y = c->t + inset + fy[i] * (c->b - c->t - 2 * inset - b->h);
        double cost = cover_cost(c, b);
        if (cost < best - 1e-9) {
            best = cost;
            bx = b->x;
            by = b->y;
        }
    }
    b->x = bx;
    b->y = by;
    return best;
}

int plot_legend_make_room(plot_ctx *c)
{
    box b;
    double row_h, maxw;
    if (!legend_size(c, &b, &row_h, &maxw) || place_legend(c, &b) < 1)
        return 0;
    double height = c->b - c->t, need = b.h + 16 * c->s;
    if (need <= 0.4 * height && c->data_ymax > c->ymin) {
        /* data_ymax lands `need` px below the top: (ymax - top) / (ymax - ymin) = need / height */
        double ymax = (c->data_ymax * height - need * c->ymin) / (height - need);
        if (ymax > c->ymax) {
            c->ymax = ymax;
            return 1;
        }
    }
    if (c->pw < 300) /* too narrow to give the legend its own column */
        return 0;
    c->legend_right = fmin(b.w, 0.3 * c->pw); /* longer labels are shortened */
    return 1;
}

void plot_draw_legend(plot_ctx *c)
{
    const movl_plot_panel *p = c->p;
    cairo_t *cr = c->cr;
    double s = c->s, row, maxw;
    box b;
    char text[160];
    if (!legend_size(c, &b, &row, &maxw))
        return;
    if (c->legend_right > 0) {
        b.x = c->r + 8 * c->s;
        b.y = c->t;
    } else {
        place_legend(c, &b);
    }
    int bars = p->kind == MOVL_PLOT_BARS;
    double pad = 6 * s, swatch = bars ? 12 * s : 24 * s;
    b.x = floor(b.x) + 0.5;
    b.y = floor(b.y) + 0.5;
    cairo_rectangle(cr, b.x, b.y, floor(b.w), floor(b.h));
    cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    double y = b.y + pad + row / 2 - 1.5 * s;
    for (int k = 0; k < p->nseries; k++) {
        if (!p->series[k].label || !*p->series[k].label)
            continue;
        double rgb[3], x = b.x + pad;
        plot_series_rgb(k, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        if (bars) {
            cairo_rectangle(cr, x, y - swatch / 2, swatch, swatch);
            cairo_fill(cr);
        } else {
            cairo_set_line_width(cr, 2 * s);
            cairo_move_to(cr, x, y);
            cairo_line_to(cr, x + swatch, y);
            cairo_stroke(cr);
            cairo_arc(cr, x + swatch / 2, y, 3.5 * s, 0, 2 * PLOT_PI);
            cairo_fill(cr);
        }
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        plot_fit_text(c, p->series[k].label, maxw, text, sizeof text);
        plot_text(c, x + swatch + 6 * s, y, text, 0, 0.5, 0);
        y += row;
    }
}
