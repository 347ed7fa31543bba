/* The shift suite: MedMNIST-C-style image corruptions (docs/SHIFT.md), each
 * at severities 1..5 (0 = unchanged), applied in place to one image or to
 * every image of a dataset split. Deterministic: the random draws of an
 * image come from core/rng.h seeded by (seed, split, corruption, severity,
 * image index), so the result does not depend on batch order or threads.
 * Parameters depend on the modality (movl_modality); sizes in pixels are
 * MedMNIST-C's at 224 px scaled to the image. */
#ifndef MOVL_SHIFT_H
#define MOVL_SHIFT_H

#include <stdint.h>

#include "data/dataset.h"
#include "kinds/shift_kinds.h"

/* One HWC image, values interleaved; exactly one of u8 (value q / 255) and
 * f32 (in [0, 1]) is set. channels 1 or 3. */
typedef struct movl_shift_image {
    int w, h, channels;
    unsigned char *u8;
    float *f32;
} movl_shift_image;

/* The per-image seed: mixes the user's seed with the split, the corruption,
 * the severity and the image's index in its split. */
uint64_t movl_shift_image_seed(uint64_t seed, int split, int corruption, int severity, int64_t index);

/* Corrupts img in place. image_seed: movl_shift_image_seed(...). Severity 0
 * leaves it unchanged. MOVL_ERR_INPUT for a bad corruption, severity or
 * image; MOVL_ERR_RUN when out of memory or libjpeg fails. */
int movl_shift_apply(movl_shift_image *img, int corruption, int severity, movl_modality modality,
                     uint64_t image_seed, char *err);

/* Corrupts every image of ds's split in place (image i drawn with
 * movl_shift_image_seed(seed, split, corruption, severity, i)). */
int movl_shift_split(movl_dataset *ds, int split, int corruption, int severity, movl_modality modality, uint64_t seed,
                     char *err);

/* The severity's parameters: a (the main one: factor, quality, sigma,
 * kernel size, radius) and b (second one of defocus and motion blur, else
 * 0), for the modality (AUTO: the X-ray values where X-ray has them). */
void movl_shift_params(int corruption, int severity, movl_modality modality, double *a, double *b);

/* Scale of sizes in pixels for an image: max(w, h) / 224. */
double movl_shift_pixel_scale(int w, int h);

/* The JPEG stream the jpeg corruption decodes: px (h rows of w * channels
 * bytes) at quality 1..100 with libjpeg's defaults (baseline tables, 4:2:0
 * chroma for RGB). *out malloc'd (free it), *n its size. */
int movl_shift_jpeg_encode(const unsigned char *px, int w, int h, int channels, int quality, unsigned char **out,
                           unsigned long *n, char *err);

/* `movl shift`: a copy of the MedMNIST-style npz at in_path with every
 * *_images array corrupted (split train, val or test by its name), every
 * other member copied; same keys, dtypes and shapes. Written to out_path
 * through a temporary name and rename. */
int movl_shift_npz(const char *in_path, const char *out_path, int corruption, int severity, movl_modality modality,
                   uint64_t seed, char *err);

#endif
