/* Launchers of the elementwise ops (cl/eltwise.cl): activation forward and
 * backward, residual add with fused activation, GELU forward and backward. */

#include "core/common.h"
#include "ops/ops.h"
#include "device/build_options.h"
#include "device/launch_shape.h"

static int valid_act(movl_act act, const char *op, char *err)
{
    if (act == MOVL_ACT_NONE || act == MOVL_ACT_RELU || act == MOVL_ACT_RELU6)
        return 1;
    movl_set_error(err, "%s: unknown activation %d (expected none, relu or relu6)", op, (int)act);
    return 0;
}

/* Sets (count, buffers...) and enqueues kernel `name` over count elements, from the program built with
 * -D<opt>=<value> (ACT or GELU). */
static int launch(movl_device *dev, const char *opt, long value, const char *name, size_t count, cl_mem b0,
                  cl_mem b1, cl_mem b2, char *err)
{
    int vw = movl_ops_vector_width(dev);
    movl_build_options o;
    movl_options_init(&o);
    movl_options_int(&o, opt, value);
    movl_options_int(&o, "VW", vw);
    cl_kernel k = movl_kernel_with_options(dev, "eltwise", &o, name, err);
    if (!k)
        return MOVL_ERR_RUN;
    cl_ulong n = count;
    int rc = b2 ? movl_set_args(k, err, sizeof n, &n, sizeof b0, &b0, sizeof b1, &b1, sizeof b2, &b2, (size_t)0)
                : movl_set_args(k, err, sizeof n, &n, sizeof b0, &b0, sizeof b1, &b1, (size_t)0);
    if (rc)
        return MOVL_ERR_RUN;
    /* One work-item per VW elements. */
    size_t global = (count + (size_t)vw - 1) / (size_t)vw, local = movl_ops_group_size(dev);
    return movl_launch(dev, k, 1, &global, &local, err);
}

int movl_act_forward(movl_device *dev, movl_act act, size_t count, cl_mem x, cl_mem y, char *err)
{
    if (!valid_act(act, "act_forward", err))
        return MOVL_ERR_RUN;
    if (act == MOVL_ACT_NONE && x == y)
        return MOVL_OK;
    return launch(dev, "ACT", act, "act_forward", count, x, y, NULL, err);
}

int movl_act_backward(movl_device *dev, movl_act act, size_t count, cl_mem y, cl_mem dy, cl_mem dx, char *err)
{
    if (!valid_act(act, "act_backward", err))
        return MOVL_ERR_RUN;
    if (act == MOVL_ACT_NONE && dx == dy)
        return MOVL_OK;
    return launch(dev, "ACT", act, "act_backward", count, y, dy, dx, err);
}

int movl_add_forward(movl_device *dev, size_t count, cl_mem a, cl_mem b, movl_act act, cl_mem y, char *err)
{
    if (!valid_act(act, "add_forward", err))
        return MOVL_ERR_RUN;
    return launch(dev, "ACT", act, "add_forward", count, a, b, y, err);
}

static int valid_gelu(movl_gelu kind, const char *op, char *err)
{
    if (kind == MOVL_GELU_ERF || kind == MOVL_GELU_QUICK)
        return 1;
    movl_set_error(err, "%s: unknown GELU kind %d (expected erf or quick)", op, (int)kind);
    return 0;
}

int movl_gelu_forward(movl_device *dev, movl_gelu kind, size_t count, cl_mem x, cl_mem y, char *err)
{
    if (!valid_gelu(kind, "gelu_forward", err))
        return MOVL_ERR_RUN;
    return launch(dev, "GELU", kind, "gelu_forward", count, x, y, NULL, err);
}

int movl_gelu_backward(movl_device *dev, movl_gelu kind, size_t count, cl_mem x, cl_mem dy, cl_mem dx, char *err)
{
    if (!valid_gelu(kind, "gelu_backward", err))
        return MOVL_ERR_RUN;
    return launch(dev, "GELU", kind, "gelu_backward", count, x, dy, dx, err);
}
