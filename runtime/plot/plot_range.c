/* Chart data ranges: which points can be drawn, the axis ranges around
 * them with a little padding, and the data-to-pixel mapping. */
#include <math.h>

#include "plot/plot_internal.h"

int plot_point(const plot_ctx *c, const movl_plot_series *se, int i, double *x, double *y)
{
    const movl_plot_panel *p = c->p;
    if (!se->y || i >= se->n || !isfinite(se->y[i]))
        return 0;
    if (p->ncats > 0) {
        if (i >= p->ncats)
            return 0;
        *x = i + 0.5;
    } else {
        if (!se->x || !isfinite(se->x[i]) || (p->log_x && se->x[i] <= 0))
            return 0;
        *x = p->log_x ? log10(se->x[i]) : se->x[i];
    }
    *y = se->y[i];
    return 1;
}

int plot_xmark(const plot_ctx *c, int m, double *x)
{
    const movl_plot_panel *p = c->p;
    double v = p->xmarks[m];
    if (p->ncats > 0 || !isfinite(v) || (p->log_x && v <= 0))
        return 0;
    *x = p->log_x ? log10(v) : v;
    return 1;
}

int plot_count_points(const movl_plot_panel *p)
{
    plot_ctx c = {.p = p};
    int count = 0;
    double x, y;
    for (int k = 0; k < p->nseries; k++)
        for (int i = 0; i < p->series[k].n; i++)
            count += plot_point(&c, &p->series[k], i, &x, &y);
    return count;
}

double plot_map_x(const plot_ctx *c, double x)
{
    return c->l + (x - c->xmin) / (c->xmax - c->xmin) * (c->r - c->l);
}

double plot_map_y(const plot_ctx *c, double y)
{
    return c->b - (y - c->ymin) / (c->ymax - c->ymin) * (c->b - c->t);
}

/* Widens [lo, hi] by frac of its span on each side; an empty span (one
 * point, all values equal) gets `single` around it (relative when nonzero). */
static void pad_range(double *lo, double *hi, double frac, double single, int relative)
{
    double span = *hi - *lo;
    if (span <= 1e-12 * fmax(fabs(*lo), fabs(*hi))) {
        double d = relative && *lo != 0 ? single * fabs(*lo) : (relative ? 1.0 : single);
        *lo -= d;
        *hi += d;
    } else {
        *lo -= frac * span;
        *hi += frac * span;
    }
}

void plot_ranges(plot_ctx *c)
{
    const movl_plot_panel *p = c->p;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, x, y;
    for (int k = 0; k < p->nseries; k++) {
        const movl_plot_series *se = &p->series[k];
        for (int i = 0; i < se->n; i++) {
            if (!plot_point(c, se, i, &x, &y))
                continue;
            double e = se->err && isfinite(se->err[i]) ? fabs(se->err[i]) : 0;
            x0 = fmin(x0, x);
            x1 = fmax(x1, x);
            y0 = fmin(y0, y - e);
            y1 = fmax(y1, y + e);
        }
    }
    for (int m = 0; m < p->nxmarks; m++)
        if (plot_xmark(c, m, &x)) {
            x0 = fmin(x0, x);
            x1 = fmax(x1, x);
        }
    if (p->kind == MOVL_PLOT_BARS || p->y_from_zero) {
        y0 = fmin(y0, 0);
        y1 = fmax(y1, 0);
    }
    double dy0 = y0, dy1 = y1, dx0 = x0;
    c->data_ymax = y1;
    pad_range(&y0, &y1, 0.06, 0.1, 1);
    /* Keep the axis on the data's side of 0, and inside [0, 1] for
     * fractions (accuracies, AUCs). */
    if (dy0 >= 0 && y0 < 0)
        y0 = 0;
    if (dy1 <= 0 && dy0 < 0 && y1 > 0)
        y1 = 0;
    if (dy0 >= 0 && dy1 <= 1 && y1 > 1)
        y1 = 1;
    c->ymin = y0;
    c->ymax = y1;
    if (p->ncats > 0) {
        c->xmin = 0;
        c->xmax = p->ncats;
        return;
    }
    if (p->log_x)
        pad_range(&x0, &x1, 0.06, 0.5, 0);
    else
        pad_range(&x0, &x1, 0.04, 0.1, 1);
    if (!p->log_x && dx0 > 0 && x0 < 0)
        x0 = 0;
    c->xmin = x0;
    c->xmax = x1;
}
