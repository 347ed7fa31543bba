/* The one place the op tests call the conv launchers (ops/ops.h), so a change
 * of their API (e.g. a plan made once per shape, then calls per batch) is a
 * change here only. */
#ifndef MOVL_OPTEST_CONV_ADAPTER_H
#define MOVL_OPTEST_CONV_ADAPTER_H

#include "ops/ops.h"

/* Bytes of workspace the conv of d needs (0: none). */
size_t conv_case_workspace_bytes(movl_device *dev, const movl_conv_desc *d);
/* y = act(conv(x, w) + bias); bias may be NULL. */
int conv_case_run_forward(movl_device *dev, const movl_conv_desc *d, cl_mem x, cl_mem w, cl_mem bias, movl_act act,
                          cl_mem y, cl_mem workspace, char *err);
/* dx = conv^T(dy). */
int conv_case_run_backward(movl_device *dev, const movl_conv_desc *d, cl_mem w, cl_mem dy, cl_mem dx, cl_mem workspace,
                           char *err);

#endif
