/* A device's measured roofline: fp32 FMA throughput and memory bandwidth from
 * our own micro-kernels (cl/roofline.cl), each result checked against the C
 * reference (roofline_ref.h) so that a fast but wrong kernel is never
 * reported. `movl bench` divides each layer's achieved GFLOP/s by it. */
#ifndef MOVL_ROOFLINE_H
#define MOVL_ROOFLINE_H

#include "device/device.h"

typedef struct movl_roofline {
    double gflop_s;     /* fp32, a multiply-add counts 2 */
    double gb_s;        /* triad: bytes read + bytes written, 1 GB = 1e9 bytes */
    int vector_width;   /* of the FMA kernel's chains */
    int fma_items, fma_iters;  /* shape of one timed FMA run */
    double fma_s;       /* its best time */
    double triad_bytes; /* bytes moved by one timed triad run (all its launches) */
    int triad_launches;
    double triad_s;     /* its best time */
} movl_roofline;

/* The FMA kernel's vector width for dev: the device's native float width on
 * CPUs (4, 8 or 16), 4 on GPUs and others. */
int movl_roofline_vector_width(const movl_device *dev);

/* Small runs of both kernels (work_items FMA work-items of iters rounds;
 * n4 float4 triad elements) compared bit for bit with the C reference.
 * MOVL_OK, or MOVL_ERR_RUN with one line naming the kernel, the element,
 * the value and the expected value. */
int movl_roofline_check(movl_device *dev, int vw, int work_items, int iters, size_t n4, char *err);

/* Checks, then measures both peaks: each timed run is sized to take about
 * target_s seconds, the best of `runs` is kept, and the outputs of the timed
 * runs are checked again. */
int movl_roofline_measure(movl_device *dev, double target_s, int runs, movl_roofline *out, char *err);

#endif
