/* Dataset samples -> encoder input batches on the host: bilinear resize
 * (half-pixel centres, edge clamping: exactly movl_image_resize's sampling
 * and arithmetic), grey repeated to RGB, then (v - mean[c]) / std[c] as
 * movl_image_to_chw. Two layouts:
 *   plain  (inner == 0 or inner == size): the image resized to size x size;
 *   shrink (0 < inner < size), for the shrink_pad prompt: the image resized
 *          to inner x inner and placed at offset (size - inner) / 2 in both
 *          directions; the border holds the normalised value of a zero pixel,
 *          (0 - mean[c]) / std[c].
 * Non-square sources are resized to a square (no aspect-preserving crop).
 * Interpolation tables are computed once per (source size, target size). */
#ifndef MOVL_PREPROCESS_H
#define MOVL_PREPROCESS_H

#include "data/dataset.h"
#include "core/image.h"

typedef struct movl_prep movl_prep;

/* size: S of the encoder input; inner: s for the shrink layout, 0 for plain.
 * std must be > 0. Bad arguments: MOVL_ERR_INPUT. */
int movl_prep_create(int size, int inner, const float mean[3], const float std[3], movl_prep **out, char *err);
void movl_prep_free(movl_prep *p);

/* out[count][3][size][size] from samples idx[0..count-1] of a split.
 * An index out of range: MOVL_ERR_INPUT (out partly written). A movl_prep
 * keeps scratch buffers: use one per thread. */
int movl_prep_batch(movl_prep *p, const movl_dataset *ds, int split, const int *idx, int count, float *out,
                    char *err);

/* The same for one decoded image (e.g. a PNG to predict): out[3][size][size]. */
int movl_prep_image(movl_prep *p, const movl_image *img, float *out, char *err);

#endif
