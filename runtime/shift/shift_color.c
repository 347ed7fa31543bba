/* Intensity corruptions (docs/SHIFT.md), PIL's ImageEnhance and
 * torchvision's adjust_gamma:
 *   brightness  x * f                (a blend with black)
 *   contrast    m + f (x - m)        m = mean grey level of the image
 *   gamma       x ^ g
 * each clipped to [0, 1]. */
#include <math.h>

#include "shift/shift_internal.h"

void sh_clip(sh_img *im)
{
    size_t n = (size_t)im->w * im->h * im->c;
    for (size_t i = 0; i < n; i++)
        im->v[i] = im->v[i] < 0 ? 0.0f : im->v[i] > 1 ? 1.0f : im->v[i];
}

void sh_brightness(sh_img *im, double f)
{
    size_t n = (size_t)im->w * im->h * im->c;
    for (size_t i = 0; i < n; i++)
        im->v[i] = (float)(im->v[i] * f);
    sh_clip(im);
}

void sh_contrast(sh_img *im, double f, int u8)
{
    size_t np = (size_t)im->w * im->h;
    double sum = 0;
    for (size_t i = 0; i < np; i++) {
        const float *p = im->v + i * im->c;
        sum += im->c == 1 ? p[0] : 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    }
    double m = np ? sum / np : 0;
    if (u8) /* PIL's degenerate image is one 8-bit grey level */
        m = floor(m * 255 + 0.5) / 255;
    for (size_t i = 0; i < np * im->c; i++)
        im->v[i] = (float)(m + f * (im->v[i] - m));
    sh_clip(im);
}

void sh_gamma(sh_img *im, double g)
{
    size_t n = (size_t)im->w * im->h * im->c;
    for (size_t i = 0; i < n; i++)
        im->v[i] = (float)pow(im->v[i] > 0 ? im->v[i] : 0, g);
    sh_clip(im);
}
