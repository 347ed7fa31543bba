/* The one place the op tests call the conv launchers (ops/ops.h: a plan per
 * shape, then calls per batch), so a change of that API is a change here only.
 * Options come from the environment, as the encoder reads them at load. */
#ifndef MOVL_OPTEST_CONV_ADAPTER_H
#define MOVL_OPTEST_CONV_ADAPTER_H

#include "ops/ops.h"

/* Bytes of workspace the conv of d needs (0: none). */
size_t conv_case_workspace_bytes(movl_device *dev, const movl_conv_desc *d);
/* The same for a plan made with options.weight_grads = weight_grads. */
size_t conv_case_workspace_bytes_for(movl_device *dev, const movl_conv_desc *d, int weight_grads);
/* y = act(conv(x, w) + bias); bias may be NULL. */
int conv_case_run_forward(movl_device *dev, const movl_conv_desc *d, cl_mem x, cl_mem w, cl_mem bias, movl_act act,
                          cl_mem y, cl_mem workspace, char *err);
/* dx = conv^T(dy). */
int conv_case_run_backward(movl_device *dev, const movl_conv_desc *d, cl_mem w, cl_mem dy, cl_mem dx, cl_mem workspace,
                           char *err);

/* The backward of a plan made for d, run over `batch` images (refused above d->n). */
int conv_case_run_backward_batch(movl_device *dev, const movl_conv_desc *d, int batch, cl_mem w, cl_mem dy, cl_mem dx,
                                 cl_mem workspace, char *err);

/* dw, db (db may be NULL) of `batch` images, from a plan made for d with
 * options.weight_grads = weight_grads (0: refused, as the API says). */
int conv_case_run_backward_weights(movl_device *dev, const movl_conv_desc *d, int batch, int weight_grads, cl_mem x,
                                   cl_mem dz, cl_mem dw, cl_mem db, cl_mem workspace, char *err);

#endif
