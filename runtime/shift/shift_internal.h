/* Inside the shift module: images as floats in [0, 1] (HWC) while a
 * corruption works on them, and the corruption families' entry points. */
#ifndef MOVL_SHIFT_INTERNAL_H
#define MOVL_SHIFT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct sh_img {
    int w, h, c;
    float *v; /* h * w * c values */
} sh_img;

/* A normal N(0, 1) draw from a splitmix64 state (Box-Muller, one value per two uniforms). */
double sh_normal(uint64_t *state);
/* A Poisson(lambda) draw (multiplication for lambda < 10, PTRS transformed rejection above). */
double sh_poisson(uint64_t *state, double lambda);

/* shift_noise.c: grey images get MedMNIST-C's treatment: three channels
 * drawn independently, then combined to grey with the ITU-R 601 luma weights. */
int sh_gaussian_noise(sh_img *im, double sigma, uint64_t *rng);
int sh_speckle_noise(sh_img *im, double sigma, uint64_t *rng);
int sh_impulse_noise(sh_img *im, double amount, uint64_t *rng);
int sh_shot_noise(sh_img *im, double photons, uint64_t *rng);

/* shift_blur.c: sizes already in pixels of this image. */
int sh_gaussian_blur(sh_img *im, double sigma, int radius);
int sh_defocus_blur(sh_img *im, double radius, double alias_sigma);
int sh_motion_blur(sh_img *im, double radius, double sigma, double angle_deg);

/* shift_digital.c */
int sh_pixelate(sh_img *im, double factor);
/* In place on 8-bit values (h * w * c). */
int sh_jpeg_u8(unsigned char *px, int w, int h, int c, int quality, char *err);

/* shift_color.c; u8: the image holds 8-bit levels (contrast's mean is rounded to a level, as PIL). */
void sh_brightness(sh_img *im, double factor);
void sh_contrast(sh_img *im, double factor, int u8);
void sh_gamma(sh_img *im, double gamma);

#define SH_PI 3.14159265358979323846

/* Clamps every value to [0, 1]. */
void sh_clip(sh_img *im);

#endif
