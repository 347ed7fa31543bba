/* C references of the roofline micro-kernels (cl/roofline.cl): the value a
 * correct device must produce for any work-item or element, bit for bit
 * (fma is correctly rounded; the sums are done in the kernel's order). */
#ifndef MOVL_ROOFLINE_REF_H
#define MOVL_ROOFLINE_REF_H

#include <stddef.h>

/* Lane `lane` of peak_fma's output for work-item gid (any vector width),
 * run with multiplier a and addend b: the sum of its twelve chains, lane l
 * of chain c starting at (((gid * 16 + c) mod 1024) + l) / 4096. */
#define MOVL_FMA_CHAINS 12
float movl_ref_peak_fma(unsigned gid, int lane, int iters, float a, float b);
/* The starting-value table peak_fma reads: ramp[k] = k / 4096 (exact). */
float movl_ref_fma_ramp(unsigned k);
#define MOVL_FMA_RAMP_LEN (1024 + 16)

/* Inputs triad_init writes at float element e, and triad's z[e] = x + 0.5 y. */
float movl_ref_triad_x(size_t e);
float movl_ref_triad_y(size_t e);
float movl_ref_triad(size_t e);

#endif
