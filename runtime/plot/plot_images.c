/* Pictures side by side with a title, a label per panel and an optional
 * outlined mask (plot.h, movl_plot_images_write): each picture scaled up by
 * a whole factor with nearest-neighbour sampling, so its pixels stay sharp. */
#include <stdint.h>
#include <stdlib.h>

#include "core/common.h"
#include "plot/plot.h"
#include "plot/plot_internal.h"

#define MARGIN 16
#define TITLE_BAND 40
#define LABEL_BAND 24
#define MIN_SIDE 256
#define MAX_SIZE 4096
#define MAX_IMAGE_PX 32767 /* cairo's limit on an image side */

static int scale_of(int size) { return size >= MIN_SIDE ? 1 : (MIN_SIDE + size - 1) / size; }

void movl_plot_images_size(int size, int npanels, int *width, int *height)
{
    int side = scale_of(size > 0 ? size : 1) * size;
    *width = npanels * side + (npanels + 1) * MARGIN;
    *height = TITLE_BAND + LABEL_BAND + side + MARGIN;
}

/* One picture drawn at (x, y), k times larger, nearest neighbour. */
static void draw_picture(cairo_t *cr, const unsigned char *rgb, int size, double x, double y, int k)
{
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, size, size);
    if (cairo_surface_status(img)) {
        cairo_surface_destroy(img);
        return;
    }
    cairo_surface_flush(img);
    unsigned char *data = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int i = 0; i < size; i++) {
        uint32_t *row = (uint32_t *)(void *)(data + (size_t)i * stride);
        for (int j = 0; j < size; j++) {
            const unsigned char *p = rgb + ((size_t)i * size + j) * 3;
            row[j] = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        }
    }
    cairo_surface_mark_dirty(img);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, k, k);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, size, size);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
}

static int inside(const unsigned char *m, int size, int i, int j)
{
    return i >= 0 && j >= 0 && i < size && j < size && m[(size_t)i * size + j];
}

/* The edges between mask pixels and the rest (outside the picture counts as the rest). */
static void draw_outline(cairo_t *cr, const unsigned char *m, int size, double x, double y, int k)
{
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.0, 0.9, 1.0);
    cairo_set_line_width(cr, 2.0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE);
    for (int i = 0; i < size; i++)
        for (int j = 0; j < size; j++) {
            if (!m[(size_t)i * size + j])
                continue;
            double x0 = x + (double)j * k, y0 = y + (double)i * k, x1 = x0 + k, y1 = y0 + k;
            if (!inside(m, size, i - 1, j))
                cairo_move_to(cr, x0, y0), cairo_line_to(cr, x1, y0);
            if (!inside(m, size, i + 1, j))
                cairo_move_to(cr, x0, y1), cairo_line_to(cr, x1, y1);
            if (!inside(m, size, i, j - 1))
                cairo_move_to(cr, x0, y0), cairo_line_to(cr, x0, y1);
            if (!inside(m, size, i, j + 1))
                cairo_move_to(cr, x1, y0), cairo_line_to(cr, x1, y1);
        }
    cairo_stroke(cr);
    cairo_restore(cr);
}

int movl_plot_images_write(const char *path, const char *title, int size, const movl_plot_image_panel *panels,
                           int npanels, char *err)
{
    if (!path || !*path) {
        movl_set_error(err, "plot: no output path");
        return MOVL_ERR_INPUT;
    }
    if (npanels < 1 || !panels || size < 1 || size > MAX_SIZE) {
        movl_set_error(err, "%s: %d panels of %d px pictures (expected at least one, 1..%d px)", path, npanels, size,
                       MAX_SIZE);
        return MOVL_ERR_INPUT;
    }
    int w, h, k = scale_of(size);
    movl_plot_images_size(size, npanels, &w, &h);
    if (w > MAX_IMAGE_PX) {
        movl_set_error(err, "%s: %d panels make an image %d px wide, expected at most %d", path, npanels, w,
                       MAX_IMAGE_PX);
        return MOVL_ERR_INPUT;
    }
    for (int p = 0; p < npanels; p++)
        if (!panels[p].rgb) {
            movl_set_error(err, "%s: panel %d has no picture", path, p + 1);
            return MOVL_ERR_INPUT;
        }
    cairo_surface_t *surface;
    cairo_t *cr;
    int rc = plot_new_canvas(path, w, h, &surface, &cr, err);
    if (rc)
        return rc;
    plot_ctx c = {.cr = cr, .has_text = plot_fonts_usable(), .s = 1.0};
    char fitted[512];
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (title) {
        plot_font(&c, 17, 1);
        plot_fit_text(&c, title, w - 2.0 * MARGIN, fitted, sizeof fitted);
        plot_text(&c, w / 2.0, TITLE_BAND / 2.0, fitted, 0.5, 0.5, 0);
    }
    int side = k * size;
    plot_font(&c, 13, 0);
    for (int p = 0; p < npanels; p++) {
        double x = MARGIN + (double)p * (side + MARGIN), y = TITLE_BAND + LABEL_BAND;
        if (panels[p].label) {
            cairo_set_source_rgb(cr, 0, 0, 0);
            plot_fit_text(&c, panels[p].label, side, fitted, sizeof fitted);
            plot_text(&c, x + side / 2.0, TITLE_BAND + LABEL_BAND / 2.0, fitted, 0.5, 0.5, 0);
        }
        draw_picture(cr, panels[p].rgb, size, x, y, k);
        if (panels[p].outline)
            draw_outline(cr, panels[p].outline, size, x, y, k);
    }
    return plot_finish_png(surface, cr, path, err);
}
