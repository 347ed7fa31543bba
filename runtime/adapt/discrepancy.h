/* Loss terms of the adaptation methods (docs/METHOD.md, "MoVL joint loss"):
 * the mean cross-entropy and the discrepancy losses D of
 * L = CE(g(f(x~)), y) + lambda * D.
 *
 * Every function computes a value and a gradient on the device, without a
 * host sync:
 *   - the value (of the term itself, NOT multiplied by lambda) goes to
 *     out[slot] of a small float buffer that the trainer reads with its one
 *     sync per step (out may be NULL: no value);
 *   - lambda * dD/d(first input) goes to grad (may be NULL: no gradient):
 *     added to what grad holds when accumulate != 0 (so the trainer can sum
 *     terms into one buffer, e.g. after movl_linear_backward_input), or
 *     overwriting it when accumulate == 0.
 * The second input is a constant target: no gradient ever flows into it.
 * All reductions run in a fixed order and tree shape that does not depend on
 * the device (fixed work-group size MOVL_REDUCE_LOCAL), no atomics: the
 * results are deterministic and equal wherever fp32 arithmetic is IEEE.
 *
 * Which term is which (x~ prompted image, x plain image, h = f(.) pooled
 * features, z = g(h) probe logits, y labels):
 *   CE (categorisation)  movl_xent_mean(z~, y), lambda = 1, grad -> dz~
 *   feature_mse          movl_disc_mse(h~, h cached), grad -> dh~
 *   cosine               movl_disc_cosine(h~, h cached), grad -> dh~
 *   kl                   movl_disc_kl(z~, z), grad -> dz~ only: z (the plain
 *                        path through the probe) is a detached target, so the
 *                        probe gets no gradient through z
 *   plain_ce             movl_xent_mean(z, y), grad -> dz (plain-path logits;
 *                        the trainer backprops it through the probe for the
 *                        probe's parameter gradients only)
 *   pixel                movl_disc_mse(x~, x) over batch*3*S*S, grad -> dx~
 */
#ifndef MOVL_DISCREPANCY_H
#define MOVL_DISCREPANCY_H

#include <stddef.h>

#include "device/device.h"
#include "kinds/adapt_kinds.h"

/* Work-group size of every reduction kernel here (a fixed tree: results do
 * not depend on the device). Devices must allow groups of this size. */
#define MOVL_REDUCE_LOCAL 64
/* Floats of the scratch buffer movl_disc_mse needs (its partial sums). */
#define MOVL_REDUCE_SCRATCH_FLOATS 256

/* "none", "feature_mse", "cosine", "kl", "plain_ce", "pixel"; NULL when unknown. */
const char *movl_disc_name(movl_disc_kind k);
/* Name -> kind; MOVL_ERR_INPUT with "unknown discrepancy 'X' (expected ...)". */
int movl_disc_parse(const char *name, movl_disc_kind *out, char *err);

/* D = mean over the count elements of (a - b)^2 (feature_mse: a = h~, b = h,
 * count = batch * dim; pixel: a = x~, b = x, count = batch * 3 * S * S).
 * grad (count floats) gets lambda * 2 (a - b) / count. scratch (always
 * required): at least MOVL_REDUCE_SCRATCH_FLOATS floats for the partial sums;
 * calls on the same queue may share it. Two kernels: partial sums over
 * MOVL_REDUCE_SCRATCH_FLOATS fixed chunks (gradient written on the way), then
 * their sum. */
int movl_disc_mse(movl_device *dev, size_t count, cl_mem a, cl_mem b, float lambda, int accumulate, cl_mem grad,
                  cl_mem scratch, cl_mem out, int slot, char *err);

/* D = mean over the batch of 1 - cos(a_b, b_b), rows of dim values, with
 * cos = <a, b> / (max(|a|, 1e-8) * max(|b|, 1e-8)). grad ([batch][dim]) gets
 * lambda / batch * -(b / (na nb) - cos * a / na^2) (the a / na^2 term is
 * dropped when |a| < 1e-8, where na is the constant 1e-8). */
int movl_disc_cosine(movl_device *dev, int batch, int dim, cl_mem a, cl_mem b, float lambda, int accumulate,
                     cl_mem grad, cl_mem out, int slot, char *err);

/* D = mean over the batch of KL(softmax(z / T) || softmax(z~ / T)), rows of k
 * logits (z~ = z_prompted, z = z_plain, the detached target). No T^2 factor.
 * grad ([batch][k], w.r.t. z~) gets lambda / batch * (softmax(z~/T) - softmax(z/T)) / T. */
int movl_disc_kl(movl_device *dev, int batch, int k, float temperature, cl_mem z_prompted, cl_mem z_plain,
                 float lambda, int accumulate, cl_mem grad, cl_mem out, int slot, char *err);

/* D = mean over the batch of -log softmax(z_b)[labels[b]] (int labels).
 * grad ([batch][k]) gets lambda / batch * (softmax(z_b) - onehot(labels[b])).
 * A label outside [0, k) makes the value and that row's gradient NaN. */
int movl_xent_mean(movl_device *dev, int batch, int k, cl_mem z, cl_mem labels, float lambda, int accumulate,
                   cl_mem grad, cl_mem out, int slot, char *err);

#endif
