/* Severity parameters, per modality, from MedMNIST-C's registry (Di Salvo et
 * al. 2024): X-ray = PneumoniaMNIST's values, ultrasound = BreastMNIST's,
 * fundus = RetinaMNIST's. A corruption a modality's row lacks takes the
 * values of the first of X-ray, ultrasound, fundus that has it
 * (docs/SHIFT.md lists the table). */
#include <math.h>

#include "shift/shift.h"

typedef struct row {
    int set;        /* 1 when MedMNIST-C defines it for this dataset */
    double a[5], b[5];
} row;

#define R(...) {1, {__VA_ARGS__}, {0}}
#define R2(a0, b0, a1, b1, a2, b2, a3, b3, a4, b4) {1, {a0, a1, a2, a3, a4}, {b0, b1, b2, b3, b4}}

/* [modality - 1][corruption] */
static const row TABLE[3][MOVL_CORR_COUNT] = {
    /* X-ray: pneumoniamnist */
    {
        [MOVL_CORR_PIXELATE] = R(0.8, 0.7, 0.6, 0.5, 0.4),
        [MOVL_CORR_JPEG] = R(50, 30, 15, 10, 7),
        [MOVL_CORR_GAUSSIAN_NOISE] = R(0.04, 0.05, 0.06, 0.07, 0.08),
        [MOVL_CORR_SPECKLE_NOISE] = R(0.05, 0.07, 0.10, 0.15, 0.20),
        [MOVL_CORR_IMPULSE_NOISE] = R(0.005, 0.01, 0.013, 0.017, 0.02),
        [MOVL_CORR_SHOT_NOISE] = R(300, 200, 150, 100, 80),
        [MOVL_CORR_GAUSSIAN_BLUR] = R(3, 5, 7, 9, 11),
        [MOVL_CORR_BRIGHTNESS_UP] = R(1.1, 1.2, 1.3, 1.4, 1.5),
        [MOVL_CORR_BRIGHTNESS_DOWN] = R(0.9, 0.8, 0.7, 0.6, 0.5),
        [MOVL_CORR_CONTRAST_UP] = R(1.1, 1.2, 1.3, 1.4, 1.6),
        [MOVL_CORR_CONTRAST_DOWN] = R(0.9, 0.8, 0.7, 0.6, 0.4),
        [MOVL_CORR_GAMMA_UP] = R(1.1, 1.2, 1.3, 1.4, 1.6),
        [MOVL_CORR_GAMMA_DOWN] = R(0.9, 0.8, 0.7, 0.6, 0.4),
    },
    /* ultrasound: breastmnist */
    {
        [MOVL_CORR_PIXELATE] = R(0.30, 0.25, 0.20, 0.15, 0.10),
        [MOVL_CORR_JPEG] = R(50, 30, 15, 10, 7),
        [MOVL_CORR_SPECKLE_NOISE] = R(0.10, 0.15, 0.20, 0.25, 0.30),
        [MOVL_CORR_MOTION_BLUR] = R2(5, 5, 9, 7, 9, 10, 13, 10, 17, 12),
        [MOVL_CORR_BRIGHTNESS_UP] = R(1.4, 1.5, 1.6, 1.8, 2.0),
        [MOVL_CORR_BRIGHTNESS_DOWN] = R(0.55, 0.5, 0.45, 0.4, 0.3),
        [MOVL_CORR_CONTRAST_DOWN] = R(0.9, 0.8, 0.7, 0.6, 0.4),
    },
    /* fundus: retinamnist */
    {
        [MOVL_CORR_PIXELATE] = R(0.8, 0.6, 0.5, 0.4, 0.35),
        [MOVL_CORR_JPEG] = R(30, 25, 20, 10, 5),
        [MOVL_CORR_GAUSSIAN_NOISE] = R(0.04, 0.08, 0.12, 0.16, 0.20),
        [MOVL_CORR_SPECKLE_NOISE] = R(0.10, 0.15, 0.20, 0.25, 0.30),
        [MOVL_CORR_DEFOCUS_BLUR] = R2(4, 0.1, 5, 0.2, 6, 0.3, 7, 0.4, 8, 0.5),
        [MOVL_CORR_MOTION_BLUR] = R2(8, 5, 15, 5, 15, 8, 15, 12, 20, 15),
        [MOVL_CORR_BRIGHTNESS_DOWN] = R(0.9, 0.8, 0.7, 0.6, 0.5),
        [MOVL_CORR_CONTRAST_DOWN] = R(0.9, 0.8, 0.7, 0.6, 0.4),
    },
};

void movl_shift_params(int corruption, int severity, movl_modality modality, double *a, double *b)
{
    *a = *b = 0;
    if (corruption < 0 || corruption >= MOVL_CORR_COUNT || severity < 1 || severity > MOVL_SHIFT_SEVERITIES)
        return;
    int order[4] = {modality - 1, 0, 1, 2};
    for (int i = 0; i < 4; i++) {
        if (order[i] < 0 || order[i] > 2)
            continue;
        const row *r = &TABLE[order[i]][corruption];
        if (r->set) {
            *a = r->a[severity - 1];
            *b = r->b[severity - 1];
            return;
        }
    }
}

double movl_shift_pixel_scale(int w, int h) { return (w > h ? w : h) / 224.0; }
