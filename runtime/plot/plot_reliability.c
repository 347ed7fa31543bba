/* The reliability diagram of a classifier's calibration: per confidence bin,
 * a bar of its accuracy with the gap to its mean confidence stacked on it,
 * the diagonal where accuracy equals confidence, and below it a histogram
 * of the samples per bin (a bin of few samples is a noisy bar). */
#include <math.h>
#include <stdio.h>

#include "core/common.h"
#include "plot/plot.h"
#include "plot/plot_internal.h"

#define MIN_PX 200
#define MAX_PX 8000
#define MAX_BINS 100

static const unsigned char acc_rgb[3] = {0, 114, 178}, gap_rgb[3] = {213, 94, 0}, count_rgb[3] = {140, 140, 140};

void movl_plot_reliability_colors(unsigned char acc[3], unsigned char gap[3], unsigned char count[3])
{
    for (int k = 0; k < 3; k++)
        acc[k] = acc_rgb[k], gap[k] = gap_rgb[k], count[k] = count_rgb[k];
}

static void set_rgb(cairo_t *cr, const unsigned char rgb[3])
{
    cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

/* Pixel rectangles of the two areas, both [0, 1] in x. */
typedef struct area {
    double l, r, t, b;
} area;

static double ax_x(const area *a, double v) { return a->l + v * (a->r - a->l); }
static double ax_y(const area *a, double v) { return a->b - v * (a->b - a->t); }

static void frame(plot_ctx *c, const area *a)
{
    cairo_set_source_rgb(c->cr, 0, 0, 0);
    cairo_set_line_width(c->cr, 1.0 * c->s);
    cairo_rectangle(c->cr, a->l, a->t, a->r - a->l, a->b - a->t);
    cairo_stroke(c->cr);
}

/* Ticks 0, 0.2, ..., 1 on the x axis of a (labels optional) and on its y axis. */
static void ticks(plot_ctx *c, const area *a, int x_labels, int y_ticks)
{
    char label[16];
    plot_font(c, 11, 0);
    cairo_set_source_rgb(c->cr, 0, 0, 0);
    for (int i = 0; i <= 5; i++) {
        double v = i / 5.0, x = ax_x(a, v), y = ax_y(a, v);
        cairo_move_to(c->cr, x, a->b);
        cairo_line_to(c->cr, x, a->b + 4 * c->s);
        if (y_ticks) {
            cairo_move_to(c->cr, a->l, y);
            cairo_line_to(c->cr, a->l - 4 * c->s, y);
        }
        cairo_stroke(c->cr);
        snprintf(label, sizeof label, "%.1f", v);
        if (x_labels)
            plot_text(c, x, a->b + 6 * c->s, label, 0.5, 0, 0);
        if (y_ticks)
            plot_text(c, a->l - 6 * c->s, y, label, 1, 0.5, 0);
    }
}

static void legend_entry(plot_ctx *c, double *x, double y, const unsigned char *rgb, const char *text)
{
    double box = 10 * c->s;
    if (rgb) {
        set_rgb(c->cr, rgb);
        cairo_rectangle(c->cr, *x, y - box / 2, box, box);
        cairo_fill(c->cr);
    } else { /* the diagonal's dashes */
        double dash = 4 * c->s;
        cairo_set_source_rgb(c->cr, 0, 0, 0);
        cairo_set_dash(c->cr, &dash, 1, 0);
        cairo_move_to(c->cr, *x, y);
        cairo_line_to(c->cr, *x + 2 * box, y);
        cairo_stroke(c->cr);
        cairo_set_dash(c->cr, NULL, 0, 0);
        box *= 2;
    }
    cairo_set_source_rgb(c->cr, 0, 0, 0);
    plot_text(c, *x + box + 4 * c->s, y, text, 0, 0.5, 0);
    *x += box + 4 * c->s + plot_text_width(c, text) + 14 * c->s;
}

static void draw_reliability(plot_ctx *c, const movl_plot_reliability *r, const area *top)
{
    int nb = r->nbins;
    for (int b = 0; b < nb; b++) {
        if (r->count[b] <= 0 || !isfinite(r->acc[b]) || !isfinite(r->conf[b]))
            continue;
        double x0 = ax_x(top, (double)b / nb), x1 = ax_x(top, (double)(b + 1) / nb);
        double acc = fmin(fmax(r->acc[b], 0), 1), conf = fmin(fmax(r->conf[b], 0), 1);
        set_rgb(c->cr, acc_rgb);
        cairo_rectangle(c->cr, x0, ax_y(top, acc), x1 - x0, ax_y(top, 0) - ax_y(top, acc));
        cairo_fill(c->cr);
        /* the gap from accuracy to mean confidence, over or inside the bar */
        double lo = fmin(acc, conf), hi = fmax(acc, conf);
        if (ax_y(top, lo) - ax_y(top, hi) >= 0.5) {
            set_rgb(c->cr, gap_rgb);
            cairo_rectangle(c->cr, x0, ax_y(top, hi), x1 - x0, ax_y(top, lo) - ax_y(top, hi));
            cairo_fill(c->cr);
        }
        cairo_set_source_rgb(c->cr, 1, 1, 1); /* a white edge keeps neighbouring bars apart */
        cairo_set_line_width(c->cr, 1.0);
        cairo_move_to(c->cr, x1, ax_y(top, hi));
        cairo_line_to(c->cr, x1, ax_y(top, 0));
        cairo_stroke(c->cr);
    }
    double dash = 5 * c->s;
    cairo_set_source_rgb(c->cr, 0, 0, 0);
    cairo_set_line_width(c->cr, 1.2 * c->s);
    cairo_set_dash(c->cr, &dash, 1, 0);
    cairo_move_to(c->cr, ax_x(top, 0), ax_y(top, 0));
    cairo_line_to(c->cr, ax_x(top, 1), ax_y(top, 1));
    cairo_stroke(c->cr);
    cairo_set_dash(c->cr, NULL, 0, 0);
    frame(c, top);
    ticks(c, top, 0, 1);
    plot_font(c, 12, 0);
    plot_text(c, top->l - 34 * c->s, (top->t + top->b) / 2, "accuracy", 0.5, 1, 90);
}

static void draw_counts(plot_ctx *c, const movl_plot_reliability *r, const area *bot, long long most)
{
    int nb = r->nbins;
    char label[32];
    plot_font(c, 9, 0);
    for (int b = 0; b < nb; b++) {
        if (r->count[b] <= 0)
            continue;
        double x0 = ax_x(bot, (double)b / nb), x1 = ax_x(bot, (double)(b + 1) / nb);
        double h = (double)r->count[b] / (double)most;
        set_rgb(c->cr, count_rgb);
        cairo_rectangle(c->cr, x0 + 1, ax_y(bot, h), x1 - x0 - 2, ax_y(bot, 0) - ax_y(bot, h));
        cairo_fill(c->cr);
        snprintf(label, sizeof label, "%lld", r->count[b]);
        if (plot_text_width(c, label) <= x1 - x0) { /* counts only where they fit */
            cairo_set_source_rgb(c->cr, 0, 0, 0);
            plot_text(c, (x0 + x1) / 2, fmax(ax_y(bot, h) - 2 * c->s, bot->t + plot_text_height(c)), label, 0.5,
                      1, 0);
        }
    }
    frame(c, bot);
    ticks(c, bot, 1, 0);
    plot_font(c, 12, 0);
    cairo_set_source_rgb(c->cr, 0, 0, 0);
    plot_text(c, bot->l - 34 * c->s, (bot->t + bot->b) / 2, "samples", 0.5, 1, 90);
    plot_text(c, (bot->l + bot->r) / 2, c->ph - 6 * c->s, "confidence (largest softmax probability)", 0.5, 1, 0);
}

static int check(const char *path, const movl_plot_reliability *r, int width, int height, long long *most,
                 char *err)
{
    if (width < MIN_PX || width > MAX_PX || height < MIN_PX || height > MAX_PX) {
        movl_set_error(err, "%s: reliability diagram %dx%d px, expected %d to %d px per side", path, width, height,
                       MIN_PX, MAX_PX);
        return MOVL_ERR_INPUT;
    }
    if (!r || r->nbins < 1 || r->nbins > MAX_BINS || !r->count || !r->acc || !r->conf) {
        movl_set_error(err, "%s: reliability diagram needs 1..%d bins with counts, accuracies and confidences",
                       path, MAX_BINS);
        return MOVL_ERR_INPUT;
    }
    *most = 0;
    for (int b = 0; b < r->nbins; b++) {
        if (r->count[b] < 0) {
            movl_set_error(err, "%s: bin %d has a negative count (%lld)", path, b + 1, r->count[b]);
            return MOVL_ERR_INPUT;
        }
        *most = r->count[b] > *most ? r->count[b] : *most;
    }
    if (*most == 0) {
        movl_set_error(err, "%s: reliability diagram without samples", path);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

int movl_plot_reliability_write(const char *path, const movl_plot_reliability *r, int width, int height,
                                char *err)
{
    long long most;
    int rc = check(path ? path : "", r, width, height, &most, err);
    if (rc)
        return rc;
    cairo_surface_t *surface;
    cairo_t *cr;
    if ((rc = plot_new_canvas(path, width, height, &surface, &cr, err)))
        return rc;
    plot_ctx c = {.cr = cr, .has_text = plot_fonts_usable(), .pw = width, .ph = height};
    c.s = fmin(fmax(fmin(width / 560.0, height / 600.0), 0.8), 3.0);
    /* Title and legend on top, the diagram (about 70 %), the counts below. */
    double head = 54 * c.s, foot = 40 * c.s, gap = 14 * c.s;
    double l = 64 * c.s, rr = width - 20 * c.s, avail = height - head - foot - gap;
    area top = {l, rr, head, head + 0.72 * avail}, bot = {l, rr, top.b + gap, height - foot};
    char title[256];
    if (isfinite(r->ece))
        snprintf(title, sizeof title, "%s%sECE = %.4f (%d bins)", r->title ? r->title : "", r->title ? ": " : "",
                 r->ece, r->nbins);
    else
        snprintf(title, sizeof title, "%s", r->title ? r->title : "reliability");
    cairo_set_source_rgb(cr, 0, 0, 0);
    plot_font(&c, 14, 1);
    plot_text(&c, width / 2.0, 8 * c.s, title, 0.5, 0, 0);
    plot_font(&c, 11, 0);
    double x = l;
    legend_entry(&c, &x, 38 * c.s, acc_rgb, "accuracy");
    legend_entry(&c, &x, 38 * c.s, gap_rgb, "gap to confidence");
    legend_entry(&c, &x, 38 * c.s, NULL, "perfect calibration");
    draw_reliability(&c, r, &top);
    draw_counts(&c, r, &bot, most);
    return plot_finish_png(surface, cr, path, err);
}
