/* C references of cl/roofline.cl; see roofline_ref.h. */
#include "ops/ref/roofline_ref.h"

#include <math.h>

float movl_ref_peak_fma(unsigned gid, int lane, int iters, float a, float b)
{
    float x[MOVL_FMA_CHAINS];
    for (unsigned c = 0; c < MOVL_FMA_CHAINS; c++) {
        x[c] = movl_ref_fma_ramp(((gid * 16u + c) & 1023u) + (unsigned)lane);
        for (int i = 0; i < iters; i++)
            x[c] = fmaf(x[c], a, b);
    }
    return (((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]))) + ((x[8] + x[9]) + (x[10] + x[11]));
}

float movl_ref_fma_ramp(unsigned k) { return (float)k / 4096.0f; }

float movl_ref_triad_x(size_t e) { return (float)(e & 1023u); }
float movl_ref_triad_y(size_t e) { return (float)((e * 7u) & 511u); }
float movl_ref_triad(size_t e) { return fmaf(0.5f, movl_ref_triad_y(e), movl_ref_triad_x(e)); }
