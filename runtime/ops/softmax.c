/* Launchers of the row softmax (cl/softmax.cl): attention probabilities and
 * their backward. */
#include "core/common.h"
#include "ops/ops.h"
#include "device/launch_shape.h"

/* One work-item per row. */
static int launch(movl_device *dev, int rows, cl_kernel k, char *err)
{
    size_t global = (size_t)rows, local = movl_ops_group_size(dev);
    return movl_launch(dev, k, 1, &global, &local, err);
}

int movl_softmax_forward(movl_device *dev, int rows, int dim, float scale, int causal, cl_mem x, cl_mem y,
                         char *err)
{
    if (rows < 1 || dim < 1 || (causal && rows % dim)) {
        movl_set_error(err, "softmax_forward: %d rows of %d%s (expected both >= 1%s)", rows, dim,
                       causal ? ", causal" : "", causal ? ", rows a multiple of dim" : "");
        return MOVL_ERR_RUN;
    }
    cl_kernel k = movl_kernel(dev, "softmax", "", "softmax_forward", err);
    cl_ulong n = (cl_ulong)rows;
    int c = causal != 0;
    if (!k || movl_set_args(k, err, MOVL_ARG(n), MOVL_ARG(dim), MOVL_ARG(scale), MOVL_ARG(c), MOVL_ARG(x),
                            MOVL_ARG(y), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch(dev, rows, k, err);
}

int movl_softmax_backward(movl_device *dev, int rows, int dim, float scale, cl_mem y, cl_mem dy, cl_mem dx,
                          char *err)
{
    if (rows < 1 || dim < 1) {
        movl_set_error(err, "softmax_backward: %d rows of %d (expected both >= 1)", rows, dim);
        return MOVL_ERR_RUN;
    }
    cl_kernel k = movl_kernel(dev, "softmax", "", "softmax_backward", err);
    cl_ulong n = (cl_ulong)rows;
    if (!k || movl_set_args(k, err, MOVL_ARG(n), MOVL_ARG(dim), MOVL_ARG(scale), MOVL_ARG(y), MOVL_ARG(dy),
                            MOVL_ARG(dx), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch(dev, rows, k, err);
}
