/* Helpers shared inside imgio (not part of its API). */
#ifndef MOVL_IMGIO_INTERNAL_H
#define MOVL_IMGIO_INTERNAL_H

#include <stddef.h>

#include "core/image.h"

/* The Orientation (0x0112) of IFD0 in an APP1 segment's payload
 * ("Exif\0\0" + TIFF), 1..8; 1 (as stored) when absent or malformed. Every
 * offset is bounds-checked against len. */
int movl_exif_orientation(const unsigned char *app1, size_t len);

/* Applies an EXIF orientation (2..8) to img in place: the transform that
 * shows it upright, as viewers and Pillow's ImageOps.exif_transpose do.
 * MOVL_ERR_RUN when out of memory. */
int movl_image_orient(movl_image *img, int orientation, char *err);

#endif
