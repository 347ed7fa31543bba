/* Launch-shape helpers shared by the op launchers (eltwise, pool, linear). */
#ifndef MOVL_OPS_UTIL_H
#define MOVL_OPS_UTIL_H

#include <stddef.h>

#include "device/device.h"

/* Floats per vector in the kernels that take -DVW: 8 where the device prefers
 * 8 or more (AVX CPUs under PoCL), else 4. PoCL does not vectorise these
 * kernels across work-items by itself, so the width is explicit. Cached per
 * device id. */
int movl_ops_vector_width(const movl_device *dev);
/* The device's CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT (0 if it cannot say),
 * cached per device id: the CPU convolution takes 16 lanes where it is 16. */
int movl_preferred_float_width(const movl_device *dev);

/* Work-group size for 1-D kernels without barriers: large on CPUs (PoCL pays
 * a fixed cost per work-group), 256 elsewhere, capped by the device. */
size_t movl_ops_group_size(const movl_device *dev);

#endif
