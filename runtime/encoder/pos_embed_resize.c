/* Resizing a ViT position embedding to another patch grid, as torchvision's
 * interpolate_embeddings does it (and so what a torchvision model fine-tuned
 * at that size starts from): the class token's entry is kept, the grid
 * entries are resampled bicubically with align_corners = True, PyTorch's
 * cubic convolution with A = -0.75 and edge samples clamped. In double on the
 * host, once at load. */
#include "encoder/pos_embed_resize.h"

#include <math.h>
#include <stdlib.h>

#define CUBIC_A (-0.75)

static double cubic_near(double x) { return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1; } /* |x| <= 1 */
static double cubic_far(double x) { return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A; }

/* The 4 taps and weights of output o of n_out samples over n_in (align_corners = True). */
static void taps(int o, int n_in, int n_out, int idx[4], double w[4])
{
    double src = n_out > 1 ? (double)o * (n_in - 1) / (n_out - 1) : 0;
    int x0 = (int)floor(src);
    double t = src - x0;
    w[0] = cubic_far(t + 1);
    w[1] = cubic_near(t);
    w[2] = cubic_near(1 - t);
    w[3] = cubic_far(2 - t);
    for (int i = 0; i < 4; i++) {
        int k = x0 - 1 + i;
        idx[i] = k < 0 ? 0 : k >= n_in ? n_in - 1 : k;
    }
}

int enc_pos_embed_resize(const float *src, int grid_in, int grid_out, int dim, float *dst)
{
    if (grid_in < 1 || grid_out < 1 || dim < 1)
        return -1;
    for (int d = 0; d < dim; d++)
        dst[d] = src[d]; /* the class token's position */
    const float *g = src + dim;
    for (int oy = 0; oy < grid_out; oy++) {
        int iy[4], ix[4];
        double wy[4], wx[4];
        taps(oy, grid_in, grid_out, iy, wy);
        for (int ox = 0; ox < grid_out; ox++) {
            taps(ox, grid_in, grid_out, ix, wx);
            float *out = dst + (size_t)(1 + oy * grid_out + ox) * dim;
            for (int d = 0; d < dim; d++) {
                double v = 0;
                for (int a = 0; a < 4; a++)
                    for (int b = 0; b < 4; b++)
                        v += wy[a] * wx[b] * g[(size_t)(iy[a] * grid_in + ix[b]) * dim + d];
                out[d] = (float)v;
            }
        }
    }
    return 0;
}
