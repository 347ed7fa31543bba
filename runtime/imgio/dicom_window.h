/* DICOM stored values to display values in [0, 1]: the modality LUT
 * (rescale slope and intercept, PS3.3 C.11.1), then the VOI window
 * (PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT, SIGMOID), MONOCHROME1 inverted
 * afterwards. Colour samples are scaled by their bit depth, with no window. */
#ifndef MOVL_DICOM_WINDOW_H
#define MOVL_DICOM_WINDOW_H

#include "core/image.h"
#include "imgio/dicom_decode.h"
#include "imgio/image_read.h"

/* Frame f of p as an RGB image into out (allocated here). MOVL_ERR_RUN when out of memory. */
int movl_dicom_frame_image(const movl_dicom_pixels *p, int f, const movl_image_read_opts *o, movl_image *out,
                           char *err);

/* One grey value through a window (center c, width w, function MOVL_VOI_*) into [0, 1]. */
double movl_dicom_window_value(double x, double c, double w, int function);

#endif
