/* Naive double-precision references of the 2-D convolution (ops.h layouts:
 * NCHW, weights [cout][cin/groups][k][k]), for the op tests, finite
 * differences and the driver self-test. Written for clarity, not speed; the
 * backward scatters (the transpose of the forward loops), unlike the device
 * kernels, which gather. */
#ifndef MOVL_CONV_REF_H
#define MOVL_CONV_REF_H

#include "ops/desc/op_desc.h"

/* y = act(conv(x, w) + bias); bias may be NULL. */
void movl_ref_conv_forward(const movl_conv_desc *d, const double *x, const double *w, const double *bias, movl_act act,
                           double *y);
/* dx = d(conv)/dx^T dy (dy taken before the activation); dx is overwritten. */
void movl_ref_conv_backward_input(const movl_conv_desc *d, const double *w, const double *dy, double *dx);
/* dw[co][ci][kh][kw] = sum over images and output positions of dy * the input
 * under that tap (0 in the padding); db[co] = sum of dy[.][co] (db may be
 * NULL). dy is taken before the activation; dw and db are overwritten. */
void movl_ref_conv_backward_weights(const movl_conv_desc *d, const double *x, const double *dy, double *dw,
                                    double *db);

/* Multiply-adds of one forward pass (each backward has as many). */
double movl_conv_macs(const movl_conv_desc *d);

#endif
