/* Naive double-precision references of the adaptation kernels (prompt,
 * discrepancy, optimiser, label map), for the tests and finite differences.
 * Written from the definitions, deliberately not from the kernels: the prompt
 * layout is rebuilt by enumerating the mask in row-major order, the prompt
 * gradient scatters per pixel, Adam uses the textbook bias-corrected form. */
#ifndef MOVL_ADAPT_REF_H
#define MOVL_ADAPT_REF_H

#include <stddef.h>

#include "adapt/optim.h"
#include "adapt/prompt.h"

/* 1 where the prompt acts on pixel (i, j): border ones min(i, j, S-1-i,
 * S-1-j) < p; patch the p x p square at (0, 0), random_patch at (oy, ox);
 * full everywhere. */
int movl_ref_prompt_mask(const movl_prompt_desc *d, int oy, int ox, int i, int j);
/* Same rules as movl_prompt_forward / movl_prompt_backward (ddelta overwritten). */
void movl_ref_prompt_forward(const movl_prompt_desc *d, int batch, int oy, int ox, const double *x,
                             const double *delta, double *y);
void movl_ref_prompt_backward(const movl_prompt_desc *d, int batch, int oy, int ox, const double *delta,
                              const double *dy, double *ddelta);

/* Values and gradients of the loss terms, as discrepancy.h, WITHOUT lambda:
 * *value = D, grad = dD/d(first input) (overwritten; may be NULL). */
void movl_ref_mse(size_t n, const double *a, const double *b, double *value, double *grad);
void movl_ref_cosine(int batch, int dim, const double *a, const double *b, double *value, double *grad);
void movl_ref_kl(int batch, int k, double temperature, const double *zt, const double *z, double *value,
                 double *grad);
void movl_ref_xent_mean(int batch, int k, const double *z, const int *labels, double *value, double *grad);
/* Label-map CE: value and dz_src ([batch][nsrc], zero off the map). */
void movl_ref_labelmap_xent(int batch, int nsrc, int k, const double *z_src, const int *map, const int *labels,
                            double *value, double *dz_src);

/* One optimiser update at step t >= 1 (state as movl_optimizer: SGD buf [n];
 * Adam m [n], v [n]). */
void movl_ref_sgd_step(size_t n, const movl_opt_config *c, double lr, long step, double *param, const double *grad,
                       double *buf);
void movl_ref_adam_step(size_t n, const movl_opt_config *c, double lr, long step, double *param,
                        const double *grad, double *m, double *v);

#endif
