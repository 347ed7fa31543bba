/* Shape-checked reads of convolution, batch-norm and linear tensors from a
 * safetensors file, and the folding of an inference-mode batch norm into the
 * convolution before it (computed in double on the host). */
#ifndef MOVL_BN_FOLD_H
#define MOVL_BN_FOLD_H

#include <stdint.h>

#include "core/weights.h"

/* Reads tensor `name` into dst after checking it has exactly `ndim` dims of
 * the given shape. Missing or mis-shaped: MOVL_ERR_INPUT, the message names
 * the file, the tensor, its shape and the expected one. With w == NULL it
 * fills dst with deterministic random stand-in values (benchmarks). */
int movl_read_shaped(const movl_weights *w, const char *name, int ndim, const int64_t *shape, float *dst,
                     char *err);

/* Reads conv weight `conv` ([cout][cin_per_group][k][k]) and batch norm
 * `bn`.{weight,bias,running_mean,running_var} ([cout] each) and folds them:
 *   s = gamma / sqrt(var + eps);  w' = w * s;  b' = beta - mean * s.
 * wout holds cout*cin_per_group*k*k floats, bout cout floats. */
int movl_read_conv_bn(const movl_weights *w, const char *conv, const char *bn, int cout, int cin_per_group, int k,
                      double eps, float *wout, float *bout, char *err);

#endif
