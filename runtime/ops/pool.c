/* Launchers of max pooling (with argmax) and global average pooling
 * (cl/pool.cl). */
#include <limits.h>

#include "core/common.h"
#include "ops/ops.h"
#include "device/build_options.h"
#include "device/launch_shape.h"

/* The kernels index with int: every tensor must stay below 2^31 elements. */
static int check_pool(const movl_pool_desc *d, char *err)
{
    if (d->n < 1 || d->c < 1 || d->h < 1 || d->w < 1 || d->k < 1 || d->stride < 1 || d->pad < 0 ||
        2 * d->pad > d->k || d->oh < 1 || d->ow < 1 || d->oh != (d->h + 2 * d->pad - d->k) / d->stride + 1 ||
        d->ow != (d->w + 2 * d->pad - d->k) / d->stride + 1) {
        movl_set_error(err,
                       "maxpool: bad shape n=%d c=%d h=%d w=%d k=%d stride=%d pad=%d -> %dx%d (expected positive "
                       "sizes, pad <= k/2, output size from movl_pool_desc_init)",
                       d->n, d->c, d->h, d->w, d->k, d->stride, d->pad, d->oh, d->ow);
        return 0;
    }
    double in = (double)d->n * d->c * d->h * d->w, out = (double)d->n * d->c * d->oh * d->ow;
    if (in > INT_MAX - 1024 || out > INT_MAX - 1024) {
        movl_set_error(err, "maxpool: tensor of %.0f elements is too large (expected fewer than 2^31)",
                       in > out ? in : out);
        return 0;
    }
    return 1;
}

/* Max-pool kernels: one work-item per VW columns of a row; dimension 1 runs
 * over the n * c * rows_per_plane rows. */
static int launch_pool(movl_device *dev, const char *name, const movl_pool_desc *d, cl_mem b0, cl_mem b1, cl_mem b2,
                       int rows, int cols, char *err)
{
    int vw = movl_ops_vector_width(dev);
    movl_build_options o;
    movl_options_init(&o);
    movl_options_int(&o, "VW", vw);
    movl_options_int(&o, "STRIDE", d->stride);
    cl_kernel k = movl_kernel_with_options(dev, "pool", &o, name, err);
    if (!k)
        return MOVL_ERR_RUN;
    if (movl_set_args(k, err, sizeof rows, &rows, sizeof d->h, &d->h, sizeof d->w, &d->w, sizeof d->oh, &d->oh,
                      sizeof d->ow, &d->ow, sizeof d->k, &d->k, sizeof d->stride, &d->stride, sizeof d->pad, &d->pad,
                      sizeof b0, &b0, sizeof b1, &b1, sizeof b2, &b2, (size_t)0))
        return MOVL_ERR_RUN;
    size_t blocks = ((size_t)cols + vw - 1) / vw, group = movl_ops_group_size(dev);
    size_t local0 = blocks < group ? blocks : group, local1 = group / local0;
    if (local1 > 64)
        local1 = 64;
    size_t global[2] = {blocks, (size_t)rows}, local[2] = {local0, local1};
    return movl_launch(dev, k, 2, global, local, err);
}

int movl_maxpool_forward(movl_device *dev, const movl_pool_desc *d, cl_mem x, cl_mem y, cl_mem idx, char *err)
{
    if (!check_pool(d, err))
        return MOVL_ERR_RUN;
    return launch_pool(dev, "maxpool_forward", d, x, y, idx, d->n * d->c * d->oh, d->ow, err);
}

int movl_maxpool_backward(movl_device *dev, const movl_pool_desc *d, cl_mem idx, cl_mem dy, cl_mem dx, char *err)
{
    if (!check_pool(d, err))
        return MOVL_ERR_RUN;
    return launch_pool(dev, "maxpool_backward", d, idx, dy, dx, d->n * d->c * d->h, d->w, err);
}

static int launch_gap(movl_device *dev, const char *name, int n, int c, int hw, cl_mem src, cl_mem dst, size_t items,
                      char *err)
{
    if (n < 1 || c < 1 || hw < 1 || (double)n * c * hw > INT_MAX - 1024) {
        movl_set_error(err, "%s: bad shape n=%d c=%d hw=%d (expected positive sizes, fewer than 2^31 elements)", name,
                       n, c, hw);
        return MOVL_ERR_RUN;
    }
    cl_kernel k = movl_kernel(dev, "pool", "", name, err);
    if (!k)
        return MOVL_ERR_RUN;
    int nc = n * c;
    float inv_hw = 1.0f / (float)hw;
    if (movl_set_args(k, err, sizeof nc, &nc, sizeof hw, &hw, sizeof inv_hw, &inv_hw, sizeof src, &src, sizeof dst,
                      &dst, (size_t)0))
        return MOVL_ERR_RUN;
    size_t local = movl_ops_group_size(dev);
    return movl_launch(dev, k, 1, &items, &local, err);
}

int movl_gap_forward(movl_device *dev, int n, int c, int hw, cl_mem x, cl_mem y, char *err)
{
    return launch_gap(dev, "gap_forward", n, c, hw, x, y, (size_t)n * c, err);
}

int movl_gap_backward(movl_device *dev, int n, int c, int hw, cl_mem dy, cl_mem dx, char *err)
{
    return launch_gap(dev, "gap_backward", n, c, hw, dy, dx, (size_t)n * c * hw, err);
}
