/* The eight EXIF orientations as pixel moves: output (x, y) takes the source
 * pixel this file's table names. */
#include <stdlib.h>

#include "core/common.h"
#include "imgio/imgio_internal.h"

int movl_image_orient(movl_image *img, int orientation, char *err)
{
    if (orientation < 2 || orientation > 8)
        return MOVL_OK;
    int w = img->w, h = img->h, swap = orientation >= 5;
    int ow = swap ? h : w, oh = swap ? w : h;
    float *px = malloc(sizeof(float) * 3 * (size_t)w * (size_t)h);
    if (!px) {
        movl_set_error(err, "out of memory rotating a %dx%d image", w, h);
        return MOVL_ERR_RUN;
    }
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            int sx, sy;
            switch (orientation) {
            case 2: sx = w - 1 - x, sy = y; break;         /* mirrored left-right */
            case 3: sx = w - 1 - x, sy = h - 1 - y; break; /* upside down */
            case 4: sx = x, sy = h - 1 - y; break;         /* mirrored top-bottom */
            case 5: sx = y, sy = x; break;                 /* transposed */
            case 6: sx = y, sy = h - 1 - x; break;         /* stored turned 90 degrees anticlockwise */
            case 7: sx = w - 1 - y, sy = h - 1 - x; break; /* transversed */
            default: sx = w - 1 - y, sy = x; break;        /* 8: stored turned 90 degrees clockwise */
            }
            const float *s = img->px + 3 * ((size_t)sy * (size_t)w + (size_t)sx);
            float *d = px + 3 * ((size_t)y * (size_t)ow + (size_t)x);
            d[0] = s[0], d[1] = s[1], d[2] = s[2];
        }
    free(img->px);
    img->px = px;
    img->w = ow;
    img->h = oh;
    return MOVL_OK;
}
