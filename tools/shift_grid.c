/* The shift grid picture (shift_grid.h): cells of at least 96 px (small
 * images are enlarged without smoothing, so the corruption's pixels stay
 * visible), corruption names on the left, severities on top; text through
 * cairo's toy font API, the PNG through core/png_write. */
#include "shift_grid.h"

#include <cairo.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/png_write.h"
#include "data/dataset.h"
#include "shift/shift.h"

#define LABEL_W 150
#define HEAD_H 28
#define PAD 4

/* Cell image: the corrupted sample as 8-bit RGB, enlarged by an integer factor. */
static void draw_cell(unsigned char *argb, int stride, int x0, int y0, const movl_shift_image *img, int zoom)
{
    for (int y = 0; y < img->h * zoom; y++)
        for (int x = 0; x < img->w * zoom; x++) {
            size_t i = ((size_t)(y / zoom) * img->w + x / zoom) * img->channels;
            unsigned char rgb[3];
            for (int c = 0; c < 3; c++) {
                size_t k = i + (img->channels == 3 ? c : 0);
                float v = img->u8 ? img->u8[k] / 255.0f : img->f32[k];
                rgb[c] = (unsigned char)(v <= 0 ? 0 : v >= 1 ? 255 : (int)(v * 255 + 0.5f));
            }
            uint32_t *p = (uint32_t *)(argb + (size_t)(y0 + y) * stride) + x0 + x;
            *p = 0xff000000u | (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
        }
}

int movl_shift_grid(const char *path, const char *png_path, int split, int index, const int *rows, int nrows,
                    movl_modality modality, uint64_t seed, char *err)
{
    movl_dataset ds;
    int rc = movl_dataset_load(path, NULL, &ds, err);
    if (rc)
        return rc;
    movl_split *sp = &ds.split[split];
    if (index < 0 || index >= sp->n) {
        movl_set_error(err, "%s: --index %d is outside split '%s' (%d images)", path, index, movl_split_names[split],
                       sp->n);
        movl_dataset_free(&ds);
        return MOVL_ERR_INPUT;
    }
    const movl_sample *s = &sp->samples[index];
    int c = ds.channels, w = s->w, h = s->h, zoom = 1;
    while ((w > h ? w : h) * zoom < 96)
        zoom++;
    int cw = w * zoom + PAD, ch = h * zoom + PAD;
    int W = LABEL_W + 6 * cw + PAD, H = HEAD_H + nrows * ch + PAD;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 13);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int sev = 0; sev <= MOVL_SHIFT_SEVERITIES; sev++) {
        char t[32];
        snprintf(t, sizeof t, sev ? "severity %d" : "clean", sev);
        cairo_move_to(cr, LABEL_W + sev * cw + 4, HEAD_H - 9);
        cairo_show_text(cr, t);
    }
    for (int r = 0; r < nrows; r++) {
        cairo_move_to(cr, 6, HEAD_H + r * ch + ch / 2 + 4);
        cairo_show_text(cr, movl_shift_names[rows[r]]);
    }
    cairo_surface_flush(surf);
    unsigned char *data = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    size_t per = (size_t)w * h * c;
    void *copy = malloc(per * (ds.pixel_type == MOVL_PIX_U8 ? 1 : sizeof(float)));
    rc = copy ? MOVL_OK : MOVL_ERR_RUN;
    if (!copy)
        movl_set_error(err, "out of memory for the grid");
    for (int r = 0; r < nrows && rc == MOVL_OK; r++)
        for (int sev = 0; sev <= MOVL_SHIFT_SEVERITIES && rc == MOVL_OK; sev++) {
            movl_shift_image img = {w, h, c, NULL, NULL};
            if (ds.pixel_type == MOVL_PIX_U8)
                img.u8 = memcpy(copy, sp->u8 + s->offset, per);
            else
                img.f32 = memcpy(copy, sp->f32 + s->offset, per * sizeof(float));
            rc = movl_shift_apply(&img, rows[r], sev, modality,
                                  movl_shift_image_seed(seed, split, rows[r], sev, index), err);
            if (rc == MOVL_OK)
                draw_cell(data, stride, LABEL_W + sev * cw, HEAD_H + r * ch, &img, zoom);
        }
    cairo_surface_mark_dirty(surf);
    unsigned char *rgb = rc == MOVL_OK ? malloc((size_t)W * H * 3) : NULL;
    if (rc == MOVL_OK && !rgb) {
        movl_set_error(err, "out of memory for the grid");
        rc = MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK) {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                uint32_t p = ((const uint32_t *)(data + (size_t)y * stride))[x];
                unsigned char *o = rgb + ((size_t)y * W + x) * 3;
                o[0] = (unsigned char)(p >> 16), o[1] = (unsigned char)(p >> 8), o[2] = (unsigned char)p;
            }
        rc = movl_png_write_rgb(png_path, W, H, rgb, err);
    }
    free(rgb);
    free(copy);
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    movl_dataset_free(&ds);
    return rc;
}
