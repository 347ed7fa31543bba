/* Digital corruptions (docs/SHIFT.md):
 *   pixelate  box-filter resize to (int)(w * f) x (int)(h * f), then back
 *             (PIL's Image.resize with Image.BOX both ways);
 *   jpeg      a round trip through libjpeg at a quality (PIL's save with
 *             quality = q: baseline tables, 4:2:0 chroma, integer DCT). */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* after stdio.h: it uses size_t and FILE without including them */

#include "core/common.h"
#include "shift/shift.h"
#include "shift/shift_internal.h"

/* PIL's box resampling along one axis: output i averages the inputs whose
 * centres fall in its box (center +- max(scale, 1) / 2). src and dst are
 * addressed as [outer][axis][inner]; n_in -> n_out along the axis. */
static void box_axis(const float *src, float *dst, int outer, int n_in, int n_out, int inner)
{
    double scale = (double)n_in / n_out, fs = scale > 1 ? scale : 1, support = 0.5 * fs;
    for (int o = 0; o < n_out; o++) {
        double center = (o + 0.5) * scale;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > n_in)
            hi = n_in;
        int first = -1, count = 0;
        for (int x = lo; x < hi; x++) {
            double t = (x - center + 0.5) / fs;
            if (t > -0.5 && t <= 0.5) {
                if (first < 0)
                    first = x;
                count++;
            }
        }
        if (!count) { /* cannot happen for box boxes at least one pixel wide; nearest as a guard */
            first = (int)center < n_in ? (int)center : n_in - 1;
            count = 1;
        }
        for (int a = 0; a < outer; a++)
            for (int b = 0; b < inner; b++) {
                double acc = 0;
                for (int x = first; x < first + count; x++)
                    acc += src[((size_t)a * n_in + x) * inner + b];
                dst[((size_t)a * n_out + o) * inner + b] = (float)(acc / count);
            }
    }
}

/* Box resize of an HWC image w x h -> w2 x h2 (horizontal pass, then vertical, as PIL). */
static int box_resize(const float *src, int w, int h, int c, float *dst, int w2, int h2)
{
    float *tmp = malloc(sizeof(float) * (size_t)w2 * h * c);
    if (!tmp)
        return MOVL_ERR_RUN;
    box_axis(src, tmp, h, w, w2, c);
    box_axis(tmp, dst, 1, h, h2, w2 * c);
    free(tmp);
    return MOVL_OK;
}

int sh_pixelate(sh_img *im, double factor)
{
    int w2 = (int)(im->w * factor), h2 = (int)(im->h * factor);
    if (w2 < 1)
        w2 = 1;
    if (h2 < 1)
        h2 = 1;
    if (w2 == im->w && h2 == im->h)
        return MOVL_OK;
    float *small = malloc(sizeof(float) * (size_t)w2 * h2 * im->c);
    int rc = small ? box_resize(im->v, im->w, im->h, im->c, small, w2, h2) : MOVL_ERR_RUN;
    if (rc == MOVL_OK)
        rc = box_resize(small, w2, h2, im->c, im->v, im->w, im->h);
    free(small);
    return rc;
}

/* libjpeg reports errors through longjmp back here. */
typedef struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jerr;

static void on_error(j_common_ptr cinfo)
{
    jerr *e = (jerr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

int movl_shift_jpeg_encode(const unsigned char *px, int w, int h, int channels, int quality, unsigned char **out,
                           unsigned long *n, char *err)
{
    struct jpeg_compress_struct ci;
    jerr je;
    *out = NULL;
    *n = 0;
    ci.err = jpeg_std_error(&je.mgr);
    je.mgr.error_exit = on_error;
    if (setjmp(je.jump)) {
        jpeg_destroy_compress(&ci);
        free(*out);
        *out = NULL;
        movl_set_error(err, "jpeg: libjpeg cannot compress a %dx%d image (%s)", w, h, je.msg);
        return MOVL_ERR_RUN;
    }
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, out, n);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = channels;
    ci.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, quality, TRUE); /* baseline: tables clamped to 1..255, as PIL */
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)ci.next_scanline * w * channels);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    return MOVL_OK;
}

int sh_jpeg_u8(unsigned char *px, int w, int h, int c, int quality, char *err)
{
    unsigned char *buf = NULL;
    unsigned long n = 0;
    int rc = movl_shift_jpeg_encode(px, w, h, c, quality, &buf, &n, err);
    if (rc)
        return rc;
    struct jpeg_decompress_struct di;
    jerr je;
    di.err = jpeg_std_error(&je.mgr);
    je.mgr.error_exit = on_error;
    if (setjmp(je.jump)) {
        jpeg_destroy_decompress(&di);
        free(buf);
        movl_set_error(err, "jpeg: libjpeg cannot decode its own %dx%d stream (%s)", w, h, je.msg);
        return MOVL_ERR_RUN;
    }
    jpeg_create_decompress(&di);
    jpeg_mem_src(&di, buf, n);
    jpeg_read_header(&di, TRUE);
    di.out_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&di);
    while (di.output_scanline < di.output_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)di.output_scanline * w * c);
        jpeg_read_scanlines(&di, &row, 1);
    }
    jpeg_finish_decompress(&di);
    jpeg_destroy_decompress(&di);
    free(buf);
    return MOVL_OK;
}
