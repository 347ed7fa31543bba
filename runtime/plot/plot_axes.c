/* Chart axes: "nice" ticks (1/2/5 x 10^k; decades on a log axis), margins
 * sized to the text, the grid, the frame and every label. */
#include <math.h>
#include <stdio.h>

#include "plot/plot_internal.h"

#define TICK_LEN 5.0

static double nice_step(double span, double target)
{
    double raw = span / fmax(target, 1.0);
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag; /* the nearest of 1, 2, 5, 10 */
}

static void linear_ticks(plot_ticks *t, double lo, double hi, double target)
{
    double step = nice_step(hi - lo, target);
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    int wide = fmax(fabs(lo), fabs(hi)) >= 1e6 || decimals > 5;
    t->n = 0;
    for (double k = ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step && t->n < PLOT_MAX_TICKS; k++) {
        double v = fabs(k) < 0.5 ? 0 : k * step; /* no "-0" */
        t->v[t->n] = v;
        if (wide)
            snprintf(t->label[t->n], PLOT_LABEL_LEN, "%g", v);
        else
            snprintf(t->label[t->n], PLOT_LABEL_LEN, "%.*f", decimals, v);
        t->n++;
    }
}

/* Decades (every `every`-th), plus 2x and 5x when the axis spans little. */
static void log_ticks(plot_ticks *t, double lo, double hi, int every, int minor)
{
    static const double mult[3] = {1, 2, 5};
    t->n = 0;
    for (double k = floor(lo); k <= ceil(hi) && t->n < PLOT_MAX_TICKS; k++) {
        for (int m = 0; m < (minor ? 3 : 1) && t->n < PLOT_MAX_TICKS; m++) {
            double v = k + log10(mult[m]);
            if (v < lo - 1e-9 || v > hi + 1e-9 || (m == 0 && fmod(fabs(k), every) != 0))
                continue;
            t->v[t->n] = v;
            snprintf(t->label[t->n], PLOT_LABEL_LEN, "%g", mult[m] * pow(10.0, k));
            t->n++;
        }
    }
}

static double widest_label(plot_ctx *c, const plot_ticks *t)
{
    double w = 0;
    for (int i = 0; i < t->n; i++)
        w = fmax(w, plot_text_width(c, t->label[i]));
    return w;
}

/* Ticks at nice values of x (not of log10 x) on a short log axis. */
static void log_ticks_linear(plot_ctx *c, double width)
{
    plot_ticks lin;
    linear_ticks(&lin, pow(10.0, c->xmin), pow(10.0, c->xmax), fmax(2, width / (90 * c->s)));
    c->xt.n = 0;
    for (int i = 0; i < lin.n; i++)
        if (lin.v[i] > 0) {
            c->xt.v[c->xt.n] = log10(lin.v[i]);
            snprintf(c->xt.label[c->xt.n], PLOT_LABEL_LEN, "%s", lin.label[i]);
            c->xt.n++;
        }
}

/* Fewer x ticks until their labels do not touch. */
static void x_ticks(plot_ctx *c)
{
    double width = c->r - c->l, span = c->xmax - c->xmin;
    if (c->p->log_x) {
        int minor = ceil(c->xmax) - floor(c->xmin) <= 2, every = 1;
        for (int tries = 0; tries < 12; tries++) {
            log_ticks(&c->xt, c->xmin, c->xmax, every, minor);
            double gap = width;
            for (int i = 1; i < c->xt.n; i++)
                gap = fmin(gap, (c->xt.v[i] - c->xt.v[i - 1]) / span * width);
            if (gap >= widest_label(c, &c->xt) + 10 * c->s)
                break;
            if (minor)
                minor = 0;
            else
                every *= 2;
        }
        if (c->xt.n < 2) /* less than a factor of 10 or so: plain ticks of the values */
            log_ticks_linear(c, width);
        return;
    }
    for (double target = fmax(2, width / (90 * c->s)); target >= 1; target /= 2) {
        linear_ticks(&c->xt, c->xmin, c->xmax, target);
        double gap = c->xt.n > 1 ? (c->xt.v[1] - c->xt.v[0]) / span * width : width;
        if (gap >= widest_label(c, &c->xt) + 10 * c->s)
            return;
    }
}

static void category_layout(plot_ctx *c, double fh, double *extent)
{
    const movl_plot_panel *p = c->p;
    double slot = (c->r - c->l) / p->ncats, widest = 0;
    for (int i = 0; i < p->ncats; i++)
        widest = fmax(widest, plot_text_width(c, p->categories[i]));
    c->cat_every = 1;
    c->cat_maxlen = 0.3 * c->ph;
    if (widest <= slot - 6 * c->s) {
        c->cat_angle = 0;
        c->cat_maxlen = slot;
        *extent = fh;
        return;
    }
    if (slot >= 1.5 * fh) {
        c->cat_angle = 45;
        *extent = (fmin(widest, c->cat_maxlen) + fh) * PLOT_SQRT1_2;
        return;
    }
    c->cat_angle = 90;
    if (slot < 1.1 * fh)
        c->cat_every = (int)ceil(1.1 * fh / slot);
    *extent = fmin(widest, c->cat_maxlen);
}

void plot_layout(plot_ctx *c)
{
    const movl_plot_panel *p = c->p;
    double s = c->s;
    plot_font(c, 14, 1);
    double title_h = p->title && *p->title ? plot_text_height(c) + 8 * s : 0;
    plot_font(c, 12, 0);
    double label_h = plot_text_height(c);
    double ylab = p->ylabel && *p->ylabel ? label_h + 6 * s : 0;
    double xlab = p->xlabel && *p->xlabel ? label_h + 4 * s : 0;
    plot_font(c, 11, 0);
    double tick_h = plot_text_height(c), extent = tick_h;
    c->t = c->py + 10 * s + title_h;
    c->r = c->px + c->pw - 18 * s - (c->legend_right > 0 ? c->legend_right + 4 * s : 0);
    for (int pass = 0; pass < 2; pass++) { /* margins depend on labels that depend on the area */
        c->b = fmax(c->py + c->ph - (8 * s + xlab + extent + 4 * s + TICK_LEN * s), c->t + 10);
        linear_ticks(&c->yt, c->ymin, c->ymax, fmax(2, (c->b - c->t) / (50 * s)));
        c->l = fmin(c->px + 8 * s + ylab + widest_label(c, &c->yt) + (4 + TICK_LEN) * s, c->r - 10);
        extent = tick_h;
        if (p->ncats > 0)
            category_layout(c, tick_h, &extent);
        else
            x_ticks(c);
    }
}

static double snap(double v)
{
    return floor(v) + 0.5;
}

static void draw_category_labels(plot_ctx *c, double y)
{
    const movl_plot_panel *p = c->p;
    char text[128];
    for (int i = 0; i < p->ncats; i += c->cat_every) {
        double x = plot_map_x(c, i + 0.5), maxlen = c->cat_maxlen;
        if (c->cat_angle == 45) /* the label runs down-left: stay inside the panel */
            maxlen = fmin(maxlen, (x - c->px - 2) / PLOT_SQRT1_2);
        plot_fit_text(c, p->categories[i], maxlen, text, sizeof text);
        if (c->cat_angle == 0)
            plot_text(c, x, y, text, 0.5, 0, 0);
        else
            plot_text(c, x, y, text, 1, c->cat_angle == 90 ? 0.5 : 0.3, c->cat_angle);
    }
}

void plot_draw_axes(plot_ctx *c)
{
    const movl_plot_panel *p = c->p;
    cairo_t *cr = c->cr;
    double s = c->s;
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9); /* grid */
    for (int i = 0; i < c->yt.n; i++) {
        cairo_move_to(cr, c->l, snap(plot_map_y(c, c->yt.v[i])));
        cairo_line_to(cr, c->r, snap(plot_map_y(c, c->yt.v[i])));
    }
    for (int i = 0; i < c->xt.n && p->ncats == 0; i++) {
        cairo_move_to(cr, snap(plot_map_x(c, c->xt.v[i])), c->t);
        cairo_line_to(cr, snap(plot_map_x(c, c->xt.v[i])), c->b);
    }
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3); /* frame and ticks */
    cairo_rectangle(cr, snap(c->l), snap(c->t), floor(c->r) - floor(c->l), floor(c->b) - floor(c->t));
    for (int i = 0; i < c->yt.n; i++) {
        cairo_move_to(cr, snap(c->l) - TICK_LEN * s, snap(plot_map_y(c, c->yt.v[i])));
        cairo_line_to(cr, snap(c->l), snap(plot_map_y(c, c->yt.v[i])));
    }
    int nx = p->ncats > 0 ? p->ncats : c->xt.n;
    for (int i = 0; i < nx; i++) {
        double x = snap(plot_map_x(c, p->ncats > 0 ? i + 0.5 : c->xt.v[i]));
        cairo_move_to(cr, x, snap(c->b));
        cairo_line_to(cr, x, snap(c->b) + TICK_LEN * s);
    }
    cairo_stroke(cr);

    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    plot_font(c, 11, 0);
    for (int i = 0; i < c->yt.n; i++)
        plot_text(c, c->l - (TICK_LEN + 3) * s, plot_map_y(c, c->yt.v[i]), c->yt.label[i], 1, 0.5, 0);
    double label_y = c->b + (TICK_LEN + 2) * s;
    if (p->ncats > 0)
        draw_category_labels(c, label_y);
    else
        for (int i = 0; i < c->xt.n; i++)
            plot_text(c, plot_map_x(c, c->xt.v[i]), label_y, c->xt.label[i], 0.5, 0, 0);
    char text[256];
    plot_font(c, 12, 0);
    plot_fit_text(c, p->xlabel, c->r - c->l, text, sizeof text);
    plot_text(c, (c->l + c->r) / 2, c->py + c->ph - 6 * s, text, 0.5, 1, 0);
    plot_fit_text(c, p->ylabel, c->b - c->t, text, sizeof text);
    plot_text(c, c->px + 8 * s, (c->t + c->b) / 2, text, 0.5, 0, 90);
    plot_font(c, 14, 1);
    plot_fit_text(c, p->title, c->pw - 16 * s, text, sizeof text);
    plot_text(c, (c->l + c->r) / 2, c->py + 8 * s, text, 0.5, 0, 0);
}
