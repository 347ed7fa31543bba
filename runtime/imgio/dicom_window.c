/* The modality and VOI transforms of dicom_window.h. */
#include <math.h>
#include <stdlib.h>

#include "core/common.h"
#include "imgio/dicom_window.h"

double movl_dicom_window_value(double x, double c, double w, int function)
{
    if (function == MOVL_VOI_SIGMOID)
        return 1.0 / (1.0 + exp(-4.0 * (x - c) / w));
    if (function == MOVL_VOI_LINEAR_EXACT) {
        if (x <= c - w / 2)
            return 0;
        if (x > c + w / 2)
            return 1;
        return (x - c) / w + 0.5;
    }
    /* LINEAR: the window is [c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2]; width 1 is a threshold. */
    if (x <= c - 0.5 - (w - 1) / 2)
        return 0;
    if (x > c - 0.5 + (w - 1) / 2)
        return 1;
    return w <= 1 ? 1 : (x - (c - 0.5)) / (w - 1) + 0.5;
}

int movl_dicom_frame_image(const movl_dicom_pixels *p, int f, const movl_image_read_opts *o, movl_image *out,
                           char *err)
{
    size_t npx = (size_t)p->w * (size_t)p->h;
    const double *v = p->v + (size_t)f * npx * (size_t)p->spp;
    out->w = p->w;
    out->h = p->h;
    out->px = malloc(sizeof(float) * 3 * npx);
    if (!out->px) {
        movl_set_error(err, "out of memory for a %dx%d DICOM frame", p->w, p->h);
        return MOVL_ERR_RUN;
    }
    if (p->spp == 3) {
        double top = p->bits_stored >= 32 ? 4294967295.0 : (double)((1ull << p->bits_stored) - 1);
        for (size_t i = 0; i < 3 * npx; i++)
            out->px[i] = (float)(v[i] / top);
        return MOVL_OK;
    }
    double c = 0, w = 1;
    int function = MOVL_VOI_LINEAR, minmax = 0;
    if (o->window == MOVL_WINDOW_FIXED)
        c = o->center, w = o->width;
    else if (o->window == MOVL_WINDOW_FILE && p->has_window)
        c = p->center, w = p->width, function = p->voi_function;
    else
        minmax = 1;
    double lo = INFINITY, hi = -INFINITY;
    if (minmax) {
        for (size_t i = 0; i < npx; i++) {
            double x = p->slope * v[i] + p->intercept;
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
    }
    for (size_t i = 0; i < npx; i++) {
        double x = p->slope * v[i] + p->intercept, y;
        if (minmax)
            y = hi > lo ? (x - lo) / (hi - lo) : 0;
        else
            y = movl_dicom_window_value(x, c, w, function);
        if (p->monochrome1)
            y = 1 - y;
        out->px[3 * i] = out->px[3 * i + 1] = out->px[3 * i + 2] = (float)y;
    }
    return MOVL_OK;
}
