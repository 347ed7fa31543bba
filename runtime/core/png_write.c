#include "core/png_write.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>

#include "core/common.h"
#include "core/file_io.h"

static void on_error(png_structp png, png_const_charp msg)
{
    char *dst = png_get_error_ptr(png);
    snprintf(dst, 200, "%s", msg);
    png_longjmp(png, 1);
}

int movl_png_write_rgb(const char *path, int w, int h, const unsigned char *rgb, char *err)
{
    char why[200] = "";
    movl_out_file out;
    if (movl_out_open(&out, path, err))
        return MOVL_ERR_RUN;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, why, on_error, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        movl_out_abort(&out);
        movl_set_error(err, "%s: writing PNG failed (%s)", path, why[0] ? why : "out of memory");
        return MOVL_ERR_RUN;
    }
    png_init_io(png, out.f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, rgb + (size_t)y * (size_t)w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return movl_out_commit(&out, err);
}
