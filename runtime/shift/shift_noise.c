/* Noise corruptions (MedMNIST-C / ImageNet-C definitions, docs/SHIFT.md):
 *   gaussian  x + N(0, sigma)          speckle  x + x * N(0, sigma)
 *   impulse   a share `amount` of values set to 0 or 1 (salt : pepper = 1 : 1)
 *   shot      Poisson(x * photons) / photons
 * each clipped to [0, 1]. MedMNIST-C corrupts grey images as RGB (three
 * independent draws) and converts back to grey (L = 0.299 R + 0.587 G +
 * 0.114 B); so do we, so that a severity means the same noise level. */
#include <math.h>
#include <stdlib.h>

#include "core/common.h"
#include "core/rng.h"
#include "shift/shift_internal.h"

double sh_normal(uint64_t *state)
{
    double u1 = 1.0 - movl_splitmix_uniform01(state); /* (0, 1]: log is finite */
    double u2 = movl_splitmix_uniform01(state);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * SH_PI * u2);
}

double sh_poisson(uint64_t *state, double lam)
{
    if (lam <= 0)
        return 0;
    if (lam < 10) { /* Knuth: multiply uniforms until the product drops below e^-lambda */
        double limit = exp(-lam), p = 1.0;
        int k = -1;
        do {
            k++;
            p *= movl_splitmix_uniform01(state);
        } while (p > limit);
        return k;
    }
    /* Hormann's PTRS (transformed rejection with squeeze), exact for lambda >= 10. */
    double slam = sqrt(lam), loglam = log(lam);
    double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double U = movl_splitmix_uniform01(state) - 0.5, V = movl_splitmix_uniform01(state);
        double us = 0.5 - fabs(U);
        double k = floor((2 * a / us + b) * U + lam + 0.43);
        if (us >= 0.07 && V <= vr)
            return k;
        if (k < 0 || (us < 0.013 && V > us))
            continue;
        if (log(V) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1))
            return k;
    }
}

typedef enum { NOISE_GAUSS, NOISE_SPECKLE, NOISE_IMPULSE, NOISE_SHOT } noise_kind;

static float clip01(double v) { return v < 0 ? 0.0f : v > 1 ? 1.0f : (float)v; }

/* One noisy value of x. */
static double noisy(noise_kind k, double x, double p, uint64_t *rng)
{
    switch (k) {
    case NOISE_GAUSS:
        return clip01(x + p * sh_normal(rng));
    case NOISE_SPECKLE:
        return clip01(x + x * p * sh_normal(rng));
    case NOISE_IMPULSE: {
        /* both draws always taken, so the stream does not depend on the pixel values */
        double flip = movl_splitmix_uniform01(rng), salt = movl_splitmix_uniform01(rng);
        return flip < p ? (salt < 0.5 ? 1.0 : 0.0) : x;
    }
    case NOISE_SHOT:
        return clip01(sh_poisson(rng, x * p) / p);
    }
    return x;
}

static int apply_noise(sh_img *im, noise_kind k, double p, uint64_t *rng)
{
    size_t n = (size_t)im->w * im->h;
    static const double luma[3] = {0.299, 0.587, 0.114};
    for (size_t i = 0; i < n; i++) {
        if (im->c == 1) {
            double x = im->v[i], g = 0;
            for (int ch = 0; ch < 3; ch++)
                g += luma[ch] * noisy(k, x, p, rng);
            im->v[i] = clip01(g);
        } else {
            for (int ch = 0; ch < im->c; ch++)
                im->v[i * im->c + ch] = (float)noisy(k, im->v[i * im->c + ch], p, rng);
        }
    }
    return MOVL_OK;
}

int sh_gaussian_noise(sh_img *im, double sigma, uint64_t *rng) { return apply_noise(im, NOISE_GAUSS, sigma, rng); }
int sh_speckle_noise(sh_img *im, double sigma, uint64_t *rng) { return apply_noise(im, NOISE_SPECKLE, sigma, rng); }
int sh_impulse_noise(sh_img *im, double amount, uint64_t *rng) { return apply_noise(im, NOISE_IMPULSE, amount, rng); }
int sh_shot_noise(sh_img *im, double photons, uint64_t *rng) { return apply_noise(im, NOISE_SHOT, photons, rng); }
