/* JPEG through libjpeg(-turbo), with libjpeg's default decoder settings
 * (accurate integer IDCT, fancy upsampling), the same as Pillow's, so decodes
 * match it exactly. libjpeg reports errors by longjmp; a premature end of
 * data is only a warning there and is an error here (a truncated file must
 * not train as a half-grey picture). */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "core/common.h"
#include "imgio/image_read.h"
#include "imgio/imgio_internal.h"

typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_failure;

static void on_jpeg_error(j_common_ptr cinfo)
{
    jpeg_failure *f = (jpeg_failure *)cinfo->err;
    f->mgr.format_message(cinfo, f->msg);
    longjmp(f->jump, 1);
}

static void on_jpeg_message(j_common_ptr cinfo, int level)
{
    jpeg_failure *f = (jpeg_failure *)cinfo->err;
    if (level < 0 && f->mgr.msg_code == JWRN_JPEG_EOF) {
        f->mgr.format_message(cinfo, f->msg);
        longjmp(f->jump, 1);
    }
}

int movl_image_load_jpeg(const char *path, movl_image *out, char *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        movl_set_error(err, "%s: cannot open image (%s)", path, strerror(errno));
        return MOVL_ERR_INPUT;
    }
    struct jpeg_decompress_struct cinfo;
    jpeg_failure failure;
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = on_jpeg_error;
    failure.mgr.emit_message = on_jpeg_message;
    failure.msg[0] = 0;
    unsigned char *volatile row = NULL;
    float *volatile px = NULL;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&cinfo);
        fclose(f);
        free(row);
        free(px);
        movl_set_error(err, "%s: corrupt or truncated JPEG (%s)", path, failure.msg);
        return MOVL_ERR_INPUT;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&cinfo);
        fclose(f);
        movl_set_error(err, "%s: CMYK JPEG is not supported (expected a grey or RGB JPEG; convert it to RGB first)",
                       path);
        return MOVL_ERR_INPUT;
    }
    int orientation = 1;
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && (orientation = movl_exif_orientation(m->data, m->data_length)) != 1)
            break;
    int grey = cinfo.jpeg_color_space == JCS_GRAYSCALE;
    cinfo.out_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, nc = cinfo.output_components;
    if (w <= 0 || h <= 0 || w > 16384 || h > 16384 || nc != (grey ? 1 : 3)) {
        snprintf(failure.msg, sizeof failure.msg, "%dx%d with %d components is outside 1..16384 px, 1 or 3", w, h, nc);
        longjmp(failure.jump, 1);
    }
    row = malloc((size_t)w * (size_t)nc);
    px = malloc(sizeof(float) * 3 * (size_t)w * (size_t)h);
    if (!row || !px) {
        snprintf(failure.msg, sizeof failure.msg, "out of memory for %dx%d pixels", w, h);
        longjmp(failure.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&cinfo, rows, 1);
        float *d = px + 3 * y * (size_t)w;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                d[3 * x + c] = row[x * nc + (grey ? 0 : c)] / 255.0f;
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    fclose(f);
    free(row);
    out->w = w;
    out->h = h;
    out->px = px;
    int rc = movl_image_orient(out, orientation, err);
    if (rc != MOVL_OK)
        movl_image_free(out);
    return rc;
}
