/* Naive C references of the elementwise, pooling, linear and loss ops, in
 * double precision (so finite differences on them are free of fp32 noise).
 * Same layouts and semantics as ops.h; written for clarity, not speed, and
 * deliberately in a different style from the kernels (e.g. max-pool backward
 * scatters here, while the kernel gathers). */
#ifndef MOVL_OPS_REF_H
#define MOVL_OPS_REF_H

#include <stddef.h>

#include "ops/desc/op_desc.h"

/* act(v) in double: none, relu, relu6. */
double movl_ref_act(movl_act act, double v);
void movl_ref_act_forward(movl_act act, size_t count, const double *x, double *y);
void movl_ref_act_backward(movl_act act, size_t count, const double *y, const double *dy, double *dx);
void movl_ref_add_forward(size_t count, const double *a, const double *b, movl_act act, double *y);

void movl_ref_maxpool_forward(const movl_pool_desc *d, const double *x, double *y, int *idx);
void movl_ref_maxpool_backward(const movl_pool_desc *d, const int *idx, const double *dy, double *dx);
void movl_ref_gap_forward(int n, int c, int hw, const double *x, double *y);
void movl_ref_gap_backward(int n, int c, int hw, const double *dy, double *dx);

/* bias and db may be NULL. */
void movl_ref_linear_forward(int batch, int in, int out, const double *x, const double *W, const double *bias,
                             double *y);
void movl_ref_linear_backward_input(int batch, int in, int out, const double *W, const double *dy, double *dx);
void movl_ref_linear_backward_params(int batch, int in, int out, const double *x, const double *dy, double *dW,
                                     double *db);

/* loss or dz may be NULL; a label outside [0, k) gives NaN like the kernel. */
void movl_ref_softmax_xent(int batch, int k, const double *z, const int *labels, double *loss, double *dz);

/* Conversions for comparing device (float) results with references. */
void movl_ref_to_double(const float *src, double *dst, size_t n);
void movl_ref_to_float(const double *src, float *dst, size_t n);

#endif
