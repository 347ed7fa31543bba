#include "conv_adapter.h"

size_t conv_case_workspace_bytes(movl_device *dev, const movl_conv_desc *d)
{
    return movl_conv_workspace_bytes(dev, d);
}

int conv_case_run_forward(movl_device *dev, const movl_conv_desc *d, cl_mem x, cl_mem w, cl_mem bias, movl_act act,
                          cl_mem y, cl_mem workspace, char *err)
{
    return movl_conv2d_forward(dev, d, x, w, bias, act, y, workspace, err);
}

int conv_case_run_backward(movl_device *dev, const movl_conv_desc *d, cl_mem w, cl_mem dy, cl_mem dx, cl_mem workspace,
                           char *err)
{
    return movl_conv2d_backward_input(dev, d, w, dy, dx, workspace, err);
}
