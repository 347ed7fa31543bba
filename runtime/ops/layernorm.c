/* Launchers of layer norm (cl/layernorm.cl): forward with per-row statistics,
 * backward to the input, and the gamma/beta gradients. */
#include "core/common.h"
#include "ops/ops.h"
#include "device/build_options.h"
#include "device/launch_shape.h"

/* Items per row of the work-group kernels: 64, or the largest power of two the device allows. */
static int row_group(const movl_device *dev)
{
    int wg = 64;
    while (wg > 1 && (size_t)wg > dev->info.max_work_group)
        wg /= 2;
    return wg;
}

static cl_kernel ln_kernel(movl_device *dev, const char *name, char *err)
{
    movl_build_options o;
    movl_options_init(&o);
    movl_options_int(&o, "LN_WG", row_group(dev));
    return movl_kernel_with_options(dev, "layernorm", &o, name, err);
}

static int valid_shape(int rows, int dim, const char *op, char *err)
{
    if (rows >= 1 && dim >= 1)
        return 1;
    movl_set_error(err, "%s: %d rows of %d (expected both >= 1)", op, rows, dim);
    return 0;
}

/* One work-group per row. */
static int launch_rows(movl_device *dev, cl_kernel k, int rows, char *err)
{
    size_t local = (size_t)row_group(dev), global = (size_t)rows * local;
    return movl_launch(dev, k, 1, &global, &local, err);
}

int movl_layernorm_forward(movl_device *dev, int rows, int dim, float eps, cl_mem x, cl_mem gamma, cl_mem beta,
                           cl_mem y, cl_mem stats, char *err)
{
    if (!valid_shape(rows, dim, "layernorm_forward", err))
        return MOVL_ERR_RUN;
    cl_kernel k = ln_kernel(dev, "layernorm_forward", err);
    if (!k || movl_set_args(k, err, MOVL_ARG(dim), MOVL_ARG(eps), MOVL_ARG(x), MOVL_ARG(gamma), MOVL_ARG(beta),
                            MOVL_ARG(y), MOVL_ARG(stats), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch_rows(dev, k, rows, err);
}

int movl_layernorm_backward_input(movl_device *dev, int rows, int dim, cl_mem x, cl_mem gamma, cl_mem stats,
                                  cl_mem dy, cl_mem dx, char *err)
{
    if (!valid_shape(rows, dim, "layernorm_backward_input", err))
        return MOVL_ERR_RUN;
    cl_kernel k = ln_kernel(dev, "layernorm_backward_input", err);
    if (!k || movl_set_args(k, err, MOVL_ARG(dim), MOVL_ARG(x), MOVL_ARG(gamma), MOVL_ARG(stats), MOVL_ARG(dy),
                            MOVL_ARG(dx), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch_rows(dev, k, rows, err);
}

int movl_layernorm_backward_params(movl_device *dev, int rows, int dim, cl_mem x, cl_mem stats, cl_mem dy,
                                   cl_mem dgamma, cl_mem dbeta, char *err)
{
    if (!valid_shape(rows, dim, "layernorm_backward_params", err))
        return MOVL_ERR_RUN;
    cl_kernel k = ln_kernel(dev, "layernorm_backward_params", err);
    if (!k || movl_set_args(k, err, MOVL_ARG(rows), MOVL_ARG(dim), MOVL_ARG(x), MOVL_ARG(stats), MOVL_ARG(dy),
                            MOVL_ARG(dgamma), MOVL_ARG(dbeta), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global = (size_t)dim, local = movl_ops_group_size(dev);
    return movl_launch(dev, k, 1, &global, &local, err);
}

int movl_l2norm_forward(movl_device *dev, int rows, int dim, cl_mem x, cl_mem y, char *err)
{
    if (!valid_shape(rows, dim, "l2norm_forward", err))
        return MOVL_ERR_RUN;
    cl_kernel k = ln_kernel(dev, "l2norm_forward", err);
    if (!k || movl_set_args(k, err, MOVL_ARG(dim), MOVL_ARG(x), MOVL_ARG(y), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch_rows(dev, k, rows, err);
}

int movl_l2norm_backward(movl_device *dev, int rows, int dim, cl_mem x, cl_mem dy, cl_mem dx, char *err)
{
    if (!valid_shape(rows, dim, "l2norm_backward", err))
        return MOVL_ERR_RUN;
    cl_kernel k = ln_kernel(dev, "l2norm_backward", err);
    if (!k || movl_set_args(k, err, MOVL_ARG(dim), MOVL_ARG(x), MOVL_ARG(dy), MOVL_ARG(dx), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch_rows(dev, k, rows, err);
}
