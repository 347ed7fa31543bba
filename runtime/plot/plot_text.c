/* Chart text through cairo's toy text API ("DejaVu Sans"). When no font can
 * be loaded the chart is still drawn, without its text. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot/plot_internal.h"

#define PLOT_FONT "DejaVu Sans"
#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

int plot_fonts_usable(void)
{
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 8, 8);
    cairo_t *cr = cairo_create(sf);
    cairo_select_font_face(cr, PLOT_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    cairo_text_extents_t te;
    cairo_text_extents(cr, "0", &te);
    int ok = cairo_status(cr) == CAIRO_STATUS_SUCCESS && te.x_advance > 0;
    cairo_destroy(cr);
    cairo_surface_destroy(sf);
    return ok;
}

void plot_font(plot_ctx *c, double size, int bold)
{
    if (!c->has_text)
        return;
    cairo_select_font_face(c->cr, PLOT_FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(c->cr, size * c->s);
}

double plot_text_width(plot_ctx *c, const char *text)
{
    if (!c->has_text || !text || !*text)
        return 0;
    cairo_text_extents_t te;
    cairo_text_extents(c->cr, text, &te);
    return te.x_advance;
}

double plot_text_height(plot_ctx *c)
{
    if (!c->has_text)
        return 0;
    cairo_font_extents_t fe;
    cairo_font_extents(c->cr, &fe);
    return fe.ascent + fe.descent;
}

void plot_text(plot_ctx *c, double x, double y, const char *text, double ax, double ay, double angle)
{
    if (!c->has_text || !text || !*text)
        return;
    cairo_font_extents_t fe;
    cairo_font_extents(c->cr, &fe);
    double w = plot_text_width(c, text);
    cairo_save(c->cr);
    cairo_translate(c->cr, x, y);
    cairo_rotate(c->cr, -angle * PLOT_PI / 180.0);
    cairo_move_to(c->cr, -ax * w, -ay * (fe.ascent + fe.descent) + fe.ascent);
    cairo_show_text(c->cr, text);
    cairo_restore(c->cr);
}

/* Length of the UTF-8 prefix of s[0..len) without its last character. */
static size_t drop_last_char(const char *s, size_t len)
{
    while (len > 0) {
        len--;
        if (((unsigned char)s[len] & 0xC0) != 0x80) /* not a continuation byte */
            break;
    }
    return len;
}

void plot_fit_text(plot_ctx *c, const char *text, double maxw, char *out, size_t outsz)
{
    const char *src = text ? text : "";
    size_t len = strlen(src), ell = strlen(ELLIPSIS);
    if (len < outsz && plot_text_width(c, src) <= maxw) {
        memcpy(out, src, len + 1);
        return;
    }
    if (outsz <= ell + 1) {
        if (outsz)
            out[0] = 0;
        return;
    }
    if (len > outsz - ell - 1) { /* longer than the buffer: cut at a character start */
        len = outsz - ell - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    for (;;) {
        memcpy(out, src, len);
        memcpy(out + len, ELLIPSIS, ell + 1);
        if (len == 0 || plot_text_width(c, out) <= maxw)
            return;
        len = drop_last_char(src, len);
    }
}
