#include "core/image.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

typedef struct png_failure {
    char msg[200];
} png_failure;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_failure *f = png_get_error_ptr(png);
    snprintf(f->msg, sizeof f->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* warnings (e.g. bad CRC in an ancillary chunk) are not fatal */
}

int movl_image_load_png(const char *path, movl_image *out, char *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        movl_set_error(err, "%s: cannot open image", path);
        return MOVL_ERR_INPUT;
    }
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8)) {
        fclose(f);
        movl_set_error(err, "%s: not a PNG file (expected the 8-byte PNG signature)", path);
        return MOVL_ERR_INPUT;
    }
    png_failure failure = {""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    /* volatile: modified between setjmp and a possible longjmp */
    unsigned char *volatile rowbuf = NULL;
    float *volatile px = NULL;
    png_bytep *volatile rows = NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        movl_set_error(err, "%s: out of memory decoding PNG", path);
        return MOVL_ERR_RUN;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_free(png, rows);
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        free(rowbuf);
        free(px);
        movl_set_error(err, "%s: corrupt or truncated PNG (%s)", path, failure.msg);
        return MOVL_ERR_INPUT;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, 16384, 16384);
    png_read_info(png, info);
    png_set_expand(png); /* palette -> RGB, grey < 8 bit -> 8 bit, tRNS -> alpha */
    png_set_strip_alpha(png);
    png_set_gray_to_rgb(png);
    int bit16 = png_get_bit_depth(png, info) == 16;
    if (bit16)
        png_set_swap(png); /* host order (little endian) 16-bit samples */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (png_get_channels(png, info) != 3 || rowbytes != (size_t)w * 3 * (bit16 ? 2 : 1))
        png_error(png, "unexpected layout after conversion to RGB");
    rowbuf = malloc(rowbytes * (size_t)h);
    px = malloc(sizeof(float) * 3 * (size_t)w * (size_t)h);
    if (!rowbuf || !px)
        png_error(png, "out of memory");
    rows = png_malloc(png, sizeof(png_bytep) * (size_t)h);
    for (int y = 0; y < h; y++)
        rows[y] = rowbuf + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_free(png, rows);
    size_t n = 3 * (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++)
        px[i] = bit16 ? ((const unsigned short *)rowbuf)[i] / 65535.0f : rowbuf[i] / 255.0f;
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    free(rowbuf);
    out->w = w;
    out->h = h;
    out->px = px;
    return MOVL_OK;
}

void movl_image_free(movl_image *img)
{
    free(img->px);
    img->px = NULL;
}

/* Source coordinate of destination index i (half-pixel centres), clamped as PyTorch does. */
static void src_coord(int i, double scale, int n, int *i0, int *i1, float *frac)
{
    double s = (i + 0.5) * scale - 0.5;
    if (s < 0)
        s = 0;
    int a = (int)s;
    if (a > n - 1)
        a = n - 1;
    *i0 = a;
    *i1 = a + 1 < n ? a + 1 : n - 1;
    *frac = (float)(s - a);
}

void movl_image_resize(const movl_image *src, int w, int h, movl_image *dst)
{
    dst->w = w;
    dst->h = h;
    dst->px = malloc(sizeof(float) * 3 * (size_t)w * (size_t)h);
    double sx = (double)src->w / w, sy = (double)src->h / h;
    for (int y = 0; y < h; y++) {
        int y0, y1;
        float fy;
        src_coord(y, sy, src->h, &y0, &y1, &fy);
        for (int x = 0; x < w; x++) {
            int x0, x1;
            float fx;
            src_coord(x, sx, src->w, &x0, &x1, &fx);
            for (int c = 0; c < 3; c++) {
                float a = src->px[((size_t)y0 * src->w + x0) * 3 + c], b = src->px[((size_t)y0 * src->w + x1) * 3 + c];
                float d = src->px[((size_t)y1 * src->w + x0) * 3 + c], e = src->px[((size_t)y1 * src->w + x1) * 3 + c];
                float top = a + (b - a) * fx, bot = d + (e - d) * fx;
                dst->px[((size_t)y * w + x) * 3 + c] = top + (bot - top) * fy;
            }
        }
    }
}

void movl_image_resize_crop(const movl_image *src, int resize_to, int size, movl_image *dst)
{
    int w, h;
    if (src->w <= src->h) {
        w = resize_to;
        h = (int)((long)resize_to * src->h / src->w);
    } else {
        h = resize_to;
        w = (int)((long)resize_to * src->w / src->h);
    }
    movl_image tmp;
    movl_image_resize(src, w, h, &tmp);
    /* Same rounding as torchvision's center_crop (Python round: half to even). */
    int top = (int)nearbyint((h - size) / 2.0), left = (int)nearbyint((w - size) / 2.0);
    dst->w = dst->h = size;
    dst->px = malloc(sizeof(float) * 3 * (size_t)size * (size_t)size);
    for (int y = 0; y < size; y++)
        memcpy(dst->px + (size_t)y * size * 3, tmp.px + ((size_t)(y + top) * w + left) * 3,
               sizeof(float) * 3 * (size_t)size);
    movl_image_free(&tmp);
}

void movl_image_to_chw(const movl_image *img, const float mean[3], const float std[3], float *dst)
{
    size_t plane = (size_t)img->w * (size_t)img->h;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            dst[c * plane + i] = (img->px[i * 3 + c] - mean[c]) / std[c];
}
