/* movl_plot_write: checks the chart description, draws every panel into one
 * cairo image (white background, panels side by side) and writes it as a
 * PNG through movl_out_open: a temporary name, renamed to PATH once complete. */
#include "plot/plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/file_io.h"
#include "plot/plot_internal.h"

#define MIN_PANEL_PX 100
#define MAX_PANEL_PX 8000
#define MAX_IMAGE_PX 32767 /* cairo's limit on an image side */

static int check_panel(const char *path, const movl_plot_panel *p, int index, char *err)
{
    const char *title = p->title ? p->title : "";
    if (p->nseries < 0 || (p->nseries > 0 && !p->series) || p->ncats < 0 || (p->ncats > 0 && !p->categories) ||
        p->nxmarks < 0 || (p->nxmarks > 0 && !p->xmarks)) {
        movl_set_error(err, "%s: panel %d '%s': negative count or missing array", path, index + 1, title);
        return MOVL_ERR_INPUT;
    }
    if (p->kind == MOVL_PLOT_BARS && p->ncats == 0) {
        movl_set_error(err, "%s: panel %d '%s': a bar chart needs categories", path, index + 1, title);
        return MOVL_ERR_INPUT;
    }
    for (int k = 0; k < p->nseries; k++) {
        const movl_plot_series *se = &p->series[k];
        if (se->n < 0 || (se->n > 0 && (!se->y || (p->ncats == 0 && !se->x)))) {
            movl_set_error(err, "%s: panel %d '%s': series %d has %s", path, index + 1, title, k + 1,
                           se->n < 0 ? "a negative point count" : se->y ? "no x values" : "no y values");
            return MOVL_ERR_INPUT;
        }
    }
    if (plot_count_points(p) == 0) {
        movl_set_error(err, "%s: panel %d '%s' has no points to draw", path, index + 1, title);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

static int check_chart(const char *path, const movl_plot_panel *panels, int npanels, int panel_w, int panel_h,
                       char *err)
{
    if (npanels < 1 || !panels) {
        movl_set_error(err, "%s: no panels to draw", path);
        return MOVL_ERR_INPUT;
    }
    if (panel_w < MIN_PANEL_PX || panel_w > MAX_PANEL_PX || panel_h < MIN_PANEL_PX || panel_h > MAX_PANEL_PX) {
        movl_set_error(err, "%s: panel size %dx%d px, expected %d to %d px per side", path, panel_w, panel_h,
                       MIN_PANEL_PX, MAX_PANEL_PX);
        return MOVL_ERR_INPUT;
    }
    if ((long)npanels * panel_w > MAX_IMAGE_PX) {
        movl_set_error(err, "%s: %d panels of %d px make an image %ld px wide, expected at most %d", path,
                       npanels, panel_w, (long)npanels * panel_w, MAX_IMAGE_PX);
        return MOVL_ERR_INPUT;
    }
    for (int i = 0; i < npanels; i++) {
        int rc = check_panel(path, &panels[i], i, err);
        if (rc)
            return rc;
    }
    return MOVL_OK;
}

static void draw_panel(cairo_t *cr, int has_text, const movl_plot_panel *p, double x, double w, double h)
{
    plot_ctx c = {.cr = cr, .has_text = has_text, .p = p, .px = x, .py = 0, .pw = w, .ph = h};
    /* Text and strokes grow with the panel (560x400 is the reference size). */
    c.s = fmin(fmax(fmin(w / 560.0, h / 400.0), 0.8), 3.0);
    cairo_save(cr);
    cairo_rectangle(cr, x, 0, w, h);
    cairo_clip(cr);
    plot_ranges(&c);
    plot_layout(&c);
    if (plot_legend_make_room(&c))
        plot_layout(&c);
    plot_draw_axes(&c);
    plot_draw_xmarks(&c);
    if (p->kind == MOVL_PLOT_BARS)
        plot_draw_bars(&c);
    else
        plot_draw_lines(&c);
    plot_draw_legend(&c);
    cairo_restore(cr);
}

typedef struct png_sink {
    FILE *f;
    int errnum;
} png_sink;

static cairo_status_t write_chunk(void *closure, const unsigned char *data, unsigned int len)
{
    png_sink *sink = closure;
    if (fwrite(data, 1, len, sink->f) != len) {
        sink->errnum = errno ? errno : EIO;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
}

/* cairo encodes into the writer's temporary file; commit puts it in place. */
int plot_new_canvas(const char *path, int w, int h, cairo_surface_t **surface, cairo_t **cr, char *err)
{
    *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    *cr = cairo_create(*surface);
    if (cairo_status(*cr)) {
        movl_set_error(err, "%s: cannot create a %dx%d image (%s)", path, w, h,
                       cairo_status_to_string(cairo_status(*cr)));
        cairo_destroy(*cr);
        cairo_surface_destroy(*surface);
        return MOVL_ERR_RUN;
    }
    cairo_set_source_rgb(*cr, 1, 1, 1);
    cairo_paint(*cr);
    return MOVL_OK;
}

int plot_finish_png(cairo_surface_t *surface, cairo_t *cr, const char *path, char *err)
{
    int rc;
    cairo_surface_flush(surface);
    if (cairo_status(cr)) {
        movl_set_error(err, "%s: drawing failed (%s)", path, cairo_status_to_string(cairo_status(cr)));
        rc = MOVL_ERR_RUN;
    } else {
        rc = plot_write_png(surface, path, err);
    }
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    return rc;
}

int plot_write_png(cairo_surface_t *surface, const char *path, char *err)
{
    movl_out_file out;
    if (movl_out_open(&out, path, err))
        return MOVL_ERR_RUN;
    png_sink sink = {out.f, 0};
    cairo_status_t st = cairo_surface_write_to_png_stream(surface, write_chunk, &sink);
    if (!st)
        return movl_out_commit(&out, err);
    movl_out_abort(&out);
    if (sink.errnum)
        movl_set_error(err, "%s: cannot write (%s)", path, strerror(sink.errnum));
    else
        movl_set_error(err, "%s: cannot encode PNG (%s)", path, cairo_status_to_string(st));
    return MOVL_ERR_RUN;
}

int movl_plot_write(const char *path, const movl_plot_panel *panels, int npanels, int panel_w, int panel_h,
                    char *err)
{
    if (!path || !*path) {
        movl_set_error(err, "plot: no output path");
        return MOVL_ERR_INPUT;
    }
    int rc = check_chart(path, panels, npanels, panel_w, panel_h, err);
    if (rc)
        return rc;
    cairo_surface_t *surface;
    cairo_t *cr;
    if ((rc = plot_new_canvas(path, npanels * panel_w, panel_h, &surface, &cr, err)))
        return rc;
    int has_text = plot_fonts_usable();
    for (int i = 0; i < npanels; i++)
        draw_panel(cr, has_text, &panels[i], (double)i * panel_w, panel_w, panel_h);
    return plot_finish_png(surface, cr, path, err);
}
