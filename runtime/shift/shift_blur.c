/* Blur corruptions (docs/SHIFT.md), on float HWC images, sizes in pixels of
 * the image at hand:
 *   gaussian  separable Gaussian of sigma, half-width radius, mirrored edges
 *             (torchvision's gaussian_blur);
 *   defocus   a disk of radius r (each kernel pixel weighted by the share of
 *             it inside the circle), smoothed by a 3x3 Gaussian of
 *             alias_sigma, mirrored edges (ImageNet-C's disk, OpenCV filter2D);
 *   motion    ImageMagick's motion blur: 2 ceil(r) + 1 taps along one
 *             direction from the pixel, weights exp(-i^2 / 2 sigma^2), edge
 *             pixels repeated. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "shift/shift_internal.h"

/* Mirror an index into 0..n-1 without repeating the edge (OpenCV's BORDER_REFLECT_101, torch 'reflect'). */
static int mirror(int i, int n)
{
    if (n == 1)
        return 0;
    while (i < 0 || i >= n)
        i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

static int clampi(int i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

int sh_gaussian_blur(sh_img *im, double sigma, int radius)
{
    if (sigma <= 0 || radius < 1)
        return MOVL_OK;
    int w = im->w, h = im->h, c = im->c, k = 2 * radius + 1;
    double *kern = malloc(sizeof(double) * (size_t)k);
    float *tmp = malloc(sizeof(float) * (size_t)w * h * c);
    if (!kern || !tmp) {
        free(kern);
        free(tmp);
        return MOVL_ERR_RUN;
    }
    double sum = 0;
    for (int j = -radius; j <= radius; j++)
        sum += kern[j + radius] = exp(-0.5 * (j / sigma) * (j / sigma));
    for (int j = 0; j < k; j++)
        kern[j] /= sum;
    for (int y = 0; y < h; y++) /* rows */
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                double acc = 0;
                for (int j = -radius; j <= radius; j++)
                    acc += kern[j + radius] * im->v[((size_t)y * w + mirror(x + j, w)) * c + ch];
                tmp[((size_t)y * w + x) * c + ch] = (float)acc;
            }
    for (int y = 0; y < h; y++) /* columns */
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                double acc = 0;
                for (int j = -radius; j <= radius; j++)
                    acc += kern[j + radius] * tmp[((size_t)mirror(y + j, h) * w + x) * c + ch];
                im->v[((size_t)y * w + x) * c + ch] = (float)acc;
            }
    free(kern);
    free(tmp);
    return MOVL_OK;
}

/* 2-D correlation with a (2H+1)^2 kernel, mirrored edges. */
static int filter2d(sh_img *im, const double *kern, int H)
{
    int w = im->w, h = im->h, c = im->c, k = 2 * H + 1;
    float *out = malloc(sizeof(float) * (size_t)w * h * c);
    if (!out)
        return MOVL_ERR_RUN;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                double acc = 0;
                for (int dy = -H; dy <= H; dy++) {
                    const float *row = im->v + (size_t)mirror(y + dy, h) * w * c;
                    for (int dx = -H; dx <= H; dx++)
                        acc += kern[(dy + H) * k + dx + H] * row[(size_t)mirror(x + dx, w) * c + ch];
                }
                out[((size_t)y * w + x) * c + ch] = (float)acc;
            }
    memcpy(im->v, out, sizeof(float) * (size_t)w * h * c);
    free(out);
    return MOVL_OK;
}

int sh_defocus_blur(sh_img *im, double radius, double alias_sigma)
{
    if (radius <= 0)
        return MOVL_OK;
    int H = (int)ceil(radius + 0.5) + 1, k = 2 * H + 1; /* the disk plus one ring for the alias blur */
    double *disk = calloc((size_t)k * k, sizeof(double)), *kern = calloc((size_t)k * k, sizeof(double));
    if (!disk || !kern) {
        free(disk);
        free(kern);
        return MOVL_ERR_RUN;
    }
    /* Share of each kernel pixel inside the circle, from 16 x 16 sub-samples:
     * it grows smoothly with the radius, also below one pixel. */
    const int S = 16;
    for (int y = -H; y <= H; y++)
        for (int x = -H; x <= H; x++) {
            int in = 0;
            for (int sy = 0; sy < S; sy++)
                for (int sx = 0; sx < S; sx++) {
                    double px = x - 0.5 + (sx + 0.5) / S, py = y - 0.5 + (sy + 0.5) / S;
                    in += px * px + py * py <= radius * radius;
                }
            disk[(y + H) * k + x + H] = (double)in / (S * S);
        }
    if (disk[H * k + H] == 0)
        disk[H * k + H] = 1;
    double g[3] = {0, 1, 0};
    if (alias_sigma > 0) {
        double e = exp(-1.0 / (2 * alias_sigma * alias_sigma));
        g[0] = g[2] = e / (1 + 2 * e);
        g[1] = 1 / (1 + 2 * e);
    }
    double sum = 0;
    for (int y = 0; y < k; y++)
        for (int x = 0; x < k; x++) {
            double acc = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if (yy >= 0 && yy < k && xx >= 0 && xx < k)
                        acc += g[dy + 1] * g[dx + 1] * disk[yy * k + xx];
                }
            kern[y * k + x] = acc;
            sum += acc;
        }
    for (int i = 0; i < k * k; i++)
        kern[i] /= sum;
    int rc = filter2d(im, kern, H);
    free(disk);
    free(kern);
    return rc;
}

int sh_motion_blur(sh_img *im, double radius, double sigma, double angle_deg)
{
    if (radius <= 0 || sigma <= 0)
        return MOVL_OK;
    int taps = 2 * (int)ceil(radius) + 1, w = im->w, h = im->h, c = im->c;
    double *kern = malloc(sizeof(double) * (size_t)taps);
    int *ox = malloc(sizeof(int) * (size_t)taps), *oy = malloc(sizeof(int) * (size_t)taps);
    float *out = malloc(sizeof(float) * (size_t)w * h * c);
    int rc = kern && ox && oy && out ? MOVL_OK : MOVL_ERR_RUN;
    if (rc == MOVL_OK) {
        double sum = 0, a = angle_deg * SH_PI / 180.0;
        for (int i = 0; i < taps; i++) {
            sum += kern[i] = exp(-(double)i * i / (2 * sigma * sigma));
            ox[i] = (int)ceil(i * cos(a) - 0.5);
            oy[i] = (int)ceil(i * sin(a) - 0.5);
        }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++) {
                    double acc = 0;
                    for (int i = 0; i < taps; i++)
                        acc += kern[i] * im->v[((size_t)clampi(y + oy[i], h) * w + clampi(x + ox[i], w)) * c + ch];
                    out[((size_t)y * w + x) * c + ch] = (float)(acc / sum);
                }
        memcpy(im->v, out, sizeof(float) * (size_t)w * h * c);
    }
    free(kern);
    free(ox);
    free(oy);
    free(out);
    return rc;
}
