/* Images: PNG decoding through libpng into float RGB, bilinear resizing,
 * centre cropping and normalisation into the encoder's input layout. */
#ifndef MOVL_IMAGE_H
#define MOVL_IMAGE_H

#include <stddef.h>

/* Interleaved RGB, values in [0, 1]: px[(y * w + x) * 3 + c]. */
typedef struct movl_image {
    int w, h;
    float *px;
} movl_image;

/* Decodes any PNG (1/2/4/8/16-bit, grey, grey+alpha, RGB, RGBA, palette,
 * tRNS) to RGB; alpha is dropped, grey is repeated into the 3 channels.
 * Not a PNG, truncated or corrupt: MOVL_ERR_INPUT naming the file. */
int movl_image_load_png(const char *path, movl_image *out, char *err);
void movl_image_free(movl_image *img);

/* Bilinear resize with half-pixel centres and edge clamping, the same
 * sampling as PyTorch's interpolate(mode="bilinear", align_corners=False,
 * antialias=False). */
void movl_image_resize(const movl_image *src, int w, int h, movl_image *dst);

/* ImageNet-style evaluation preprocessing: resize so the shorter side is
 * `resize_to`, then crop the central size x size square. */
void movl_image_resize_crop(const movl_image *src, int resize_to, int size, movl_image *dst);

/* Writes the image as CHW floats ((v - mean[c]) / std[c]) into dst (3*w*h). */
void movl_image_to_chw(const movl_image *img, const float mean[3], const float std[3], float *dst);

#endif
