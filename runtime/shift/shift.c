/* The shift suite's dispatcher: parameters for the image's size and
 * modality, 8-bit <-> float conversion, per-image seeds, whole splits. */
#include "shift/shift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rng.h"
#include "shift/shift_internal.h"

uint64_t movl_shift_image_seed(uint64_t seed, int split, int corruption, int severity, int64_t index)
{
    uint64_t what = (uint64_t)(split & 0xff) << 16 | (uint64_t)(corruption & 0xff) << 8 | (uint64_t)(severity & 0xff);
    return movl_rng_hash2(movl_rng_hash2(seed, what), (uint64_t)index);
}

/* torchvision's default sigma for a kernel size k. */
static double tv_sigma(double k) { return 0.3 * ((k - 1) * 0.5 - 1) + 0.8; }

static int corrupt_float(sh_img *im, int corruption, double a, double b, double scale, int u8, uint64_t *rng,
                         char *err)
{
    switch (corruption) {
    case MOVL_CORR_PIXELATE:
        return sh_pixelate(im, a);
    case MOVL_CORR_GAUSSIAN_NOISE:
        return sh_gaussian_noise(im, a, rng);
    case MOVL_CORR_SPECKLE_NOISE:
        return sh_speckle_noise(im, a, rng);
    case MOVL_CORR_IMPULSE_NOISE:
        return sh_impulse_noise(im, a, rng);
    case MOVL_CORR_SHOT_NOISE:
        return sh_shot_noise(im, a, rng);
    case MOVL_CORR_GAUSSIAN_BLUR: {
        int radius = (int)ceil((a - 1) / 2 * scale - 1e-9);
        return sh_gaussian_blur(im, tv_sigma(a) * scale, radius < 1 ? 1 : radius);
    }
    case MOVL_CORR_DEFOCUS_BLUR:
        return sh_defocus_blur(im, a * scale, b * scale);
    case MOVL_CORR_MOTION_BLUR: {
        double angle = -45 + 90 * movl_splitmix_uniform01(rng); /* MedMNIST-C: uniform in [-45, 45) degrees */
        return sh_motion_blur(im, a * scale, b * scale, angle);
    }
    case MOVL_CORR_BRIGHTNESS_UP:
    case MOVL_CORR_BRIGHTNESS_DOWN:
        sh_brightness(im, a);
        return MOVL_OK;
    case MOVL_CORR_CONTRAST_UP:
    case MOVL_CORR_CONTRAST_DOWN:
        sh_contrast(im, a, u8);
        return MOVL_OK;
    case MOVL_CORR_GAMMA_UP:
    case MOVL_CORR_GAMMA_DOWN:
        sh_gamma(im, a);
        return MOVL_OK;
    }
    movl_set_error(err, "shift: corruption %d is not one of 0..%d", corruption, MOVL_CORR_COUNT - 1);
    return MOVL_ERR_INPUT;
}

static unsigned char to_u8(float v) { return (unsigned char)(v <= 0 ? 0 : v >= 1 ? 255 : (int)(v * 255.0f + 0.5f)); }

int movl_shift_apply(movl_shift_image *img, int corruption, int severity, movl_modality modality, uint64_t image_seed,
                     char *err)
{
    if (corruption < 0 || corruption >= MOVL_CORR_COUNT || severity < 0 || severity > MOVL_SHIFT_SEVERITIES) {
        movl_set_error(err, "shift: corruption %d at severity %d is not defined (expected 0..%d, 0..%d)", corruption,
                       severity, MOVL_CORR_COUNT - 1, MOVL_SHIFT_SEVERITIES);
        return MOVL_ERR_INPUT;
    }
    if ((img->channels != 1 && img->channels != 3) || img->w < 1 || img->h < 1 || !img->u8 == !img->f32) {
        movl_set_error(err, "shift: a %dx%d image with %d channel(s) is not supported (expected 1 or 3 channels)",
                       img->w, img->h, img->channels);
        return MOVL_ERR_INPUT;
    }
    if (severity == 0)
        return MOVL_OK;
    double a, b;
    movl_shift_params(corruption, severity, modality, &a, &b);
    size_t n = (size_t)img->w * img->h * img->channels;
    if (corruption == MOVL_CORR_JPEG) {
        if (img->u8)
            return sh_jpeg_u8(img->u8, img->w, img->h, img->channels, (int)a, err);
        unsigned char *q = malloc(n);
        if (!q) {
            movl_set_error(err, "shift: out of memory for a %dx%d image", img->w, img->h);
            return MOVL_ERR_RUN;
        }
        for (size_t i = 0; i < n; i++)
            q[i] = to_u8(img->f32[i]);
        int rc = sh_jpeg_u8(q, img->w, img->h, img->channels, (int)a, err);
        for (size_t i = 0; rc == MOVL_OK && i < n; i++)
            img->f32[i] = q[i] / 255.0f;
        free(q);
        return rc;
    }
    sh_img im = {img->w, img->h, img->channels, img->f32};
    if (img->u8) {
        im.v = malloc(sizeof(float) * n);
        if (!im.v) {
            movl_set_error(err, "shift: out of memory for a %dx%d image", img->w, img->h);
            return MOVL_ERR_RUN;
        }
        for (size_t i = 0; i < n; i++)
            im.v[i] = img->u8[i] / 255.0f;
    }
    uint64_t rng = image_seed;
    int rc = corrupt_float(&im, corruption, a, b, movl_shift_pixel_scale(img->w, img->h), img->u8 != NULL, &rng, err);
    if (rc == MOVL_ERR_RUN && err && !err[0])
        movl_set_error(err, "shift: out of memory for a %dx%d image", img->w, img->h);
    if (rc == MOVL_OK)
        sh_clip(&im);
    if (img->u8) {
        for (size_t i = 0; rc == MOVL_OK && i < n; i++)
            img->u8[i] = to_u8(im.v[i]);
        free(im.v);
    }
    return rc;
}

int movl_shift_split(movl_dataset *ds, int split, int corruption, int severity, movl_modality modality, uint64_t seed,
                     char *err)
{
    if (split < 0 || split >= MOVL_NSPLITS) {
        movl_set_error(err, "shift: split %d is not one of 0..%d", split, MOVL_NSPLITS - 1);
        return MOVL_ERR_INPUT;
    }
    movl_split *sp = &ds->split[split];
    for (int i = 0; i < sp->n; i++) {
        const movl_sample *s = &sp->samples[i];
        movl_shift_image img = {s->w, s->h, ds->channels, NULL, NULL};
        if (ds->pixel_type == MOVL_PIX_U8)
            img.u8 = sp->u8 + s->offset;
        else
            img.f32 = sp->f32 + s->offset;
        int rc = movl_shift_apply(&img, corruption, severity, modality,
                                  movl_shift_image_seed(seed, split, corruption, severity, i), err);
        if (rc)
            return rc;
    }
    return MOVL_OK;
}
