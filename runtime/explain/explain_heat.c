/* From an attribution to what movl explain draws (explain.h): the heat map
 * per pixel, scaled by its 99th percentile, and the image, heat and overlay
 * pictures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void movl_explain_heat(const float *attr, int size, movl_explain_method m, float *heat)
{
    size_t plane = (size_t)size * size;
    float top = 0;
    for (size_t i = 0; i < plane; i++) {
        float a0 = attr[i], a1 = attr[plane + i], a2 = attr[2 * plane + i], v;
        if (m == MOVL_EXPLAIN_IG)
            v = fabsf(a0 + a1 + a2);
        else
            v = fmaxf(fabsf(a0), fmaxf(fabsf(a1), fabsf(a2)));
        heat[i] = isfinite(v) ? v : 0.0f;
        top = fmaxf(top, heat[i]);
    }
    /* the 99th percentile (nearest rank), so that a few extreme pixels do not leave the rest black */
    float *sorted = malloc(sizeof(float) * plane), scale = top;
    if (sorted) {
        memcpy(sorted, heat, sizeof(float) * plane);
        qsort(sorted, plane, sizeof(float), cmp_float);
        size_t rank = (size_t)ceil(0.99 * (double)plane);
        float p99 = sorted[(rank > 0 ? rank : 1) - 1];
        if (p99 > 0)
            scale = p99;
        free(sorted);
    }
    for (size_t i = 0; i < plane; i++)
        heat[i] = scale > 0 ? fminf(heat[i] / scale, 1.0f) : 0.0f;
}

/* Matplotlib's inferno at 9 evenly spaced points, linear in between. */
static void inferno(float v, unsigned char rgb[3])
{
    static const unsigned char stops[9][3] = {{0, 0, 4},      {31, 12, 72},   {85, 15, 109},
                                              {136, 34, 106}, {186, 54, 85},  {227, 89, 51},
                                              {249, 140, 10}, {249, 201, 50}, {252, 255, 164}};
    float t = fminf(fmaxf(v, 0.0f), 1.0f) * 8.0f;
    int i = t >= 8.0f ? 7 : (int)t;
    float f = t - (float)i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (unsigned char)lrintf(stops[i][c] + f * ((float)stops[i + 1][c] - stops[i][c]));
}

void movl_explain_pictures(const float *x, const float mean[3], const float std[3], const float *heat, int size,
                           unsigned char *image_rgb, unsigned char *heat_rgb, unsigned char *overlay_rgb)
{
    size_t plane = (size_t)size * size;
    for (size_t i = 0; i < plane; i++) {
        unsigned char hc[3];
        inferno(heat[i], hc);
        float a = 0.65f * fminf(fmaxf(heat[i], 0.0f), 1.0f);
        for (int c = 0; c < 3; c++) {
            float px = fminf(fmaxf(x[c * plane + i] * std[c] + mean[c], 0.0f), 1.0f) * 255.0f;
            image_rgb[i * 3 + (size_t)c] = (unsigned char)lrintf(px);
            heat_rgb[i * 3 + (size_t)c] = hc[c];
            overlay_rgb[i * 3 + (size_t)c] = (unsigned char)lrintf((1.0f - a) * px + a * hc[c]);
        }
    }
}
