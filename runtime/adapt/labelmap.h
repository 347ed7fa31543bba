/* Label mapping for VP without a probe (docs/METHOD.md, "Output side"): the
 * K target classes are read off K distinct source (ImageNet) logits.
 *
 * A map is int map[K]: map[t] = the source class of target class t, all
 * distinct, each in [0, nsrc).
 *   RLM  movl_labelmap_rlm: K distinct source classes drawn with a seed.
 *   FLM  movl_labelmap_flm on the count matrix from movl_labelmap_count.
 *   ILM  FLM recomputed at the start of every epoch by the trainer (the same
 *        two calls again, with the current prompt): nothing extra here.
 *   fully  a trainable linear layer nsrc -> K on the source logits: the
 *        movl_linear_* ops of ops.h, no code here.
 * Count matrices are int64_t counts[nsrc][K], row-major (source-major). */
#ifndef MOVL_LABELMAP_H
#define MOVL_LABELMAP_H

#include <stdint.h>

#include "device/device.h"

/* MOVL_OK when map[0..k) are distinct and in [0, nsrc), else MOVL_ERR_INPUT
 * naming the first bad entry. */
int movl_labelmap_check(const int *map, int nsrc, int k, char *err);

/* FLM: repeat K times: take the largest entry of counts among the rows and
 * columns not yet used (ties: the first in row-major order, i.e. smallest s,
 * then smallest t), assign map[t] = s, forbid row s and column t. Needs
 * 1 <= k <= nsrc (MOVL_ERR_INPUT otherwise). */
int movl_labelmap_flm(const int64_t *counts, int nsrc, int k, int *map, char *err);

/* RLM: map[t] = the t-th draw of a partial Fisher-Yates shuffle of
 * 0..nsrc-1 driven by splitmix64(seed) (same seed, same map everywhere). */
int movl_labelmap_rlm(int nsrc, int k, uint64_t seed, int *map, char *err);

/* Adds one count per sample: counts[top1(logits[b])][labels[b]] += 1, where
 * logits is [batch][nsrc] (host) and top1 the first index of the maximum.
 * A label outside [0, k): MOVL_ERR_INPUT naming the sample, counts untouched. */
int movl_labelmap_count(int64_t *counts, int nsrc, int k, int batch, const float *logits, const int *labels,
                        char *err);

/* ---- device ---- */
/* z_out[b][t] = z_src[b][map[t]]; z_src [batch][nsrc], map: device int[k],
 * z_out [batch][k]. For predictions and metrics. Enqueues only. */
int movl_labelmap_gather(movl_device *dev, int batch, int nsrc, int k, cl_mem z_src, cl_mem map, cl_mem z_out,
                         char *err);

/* Mean cross-entropy of the mapped logits: value (mean over the batch of
 * -log softmax(z_src[b][map[.]])[labels[b]]) to out[slot] (out may be NULL),
 * and its gradient scattered back to the source logits, overwriting dz_src
 * ([batch][nsrc]; may be NULL): dz_src[b][map[t]] = (softmax_t - onehot_t) /
 * batch, 0 at every unmapped source class; ready for movl_encoder_backward's
 * dlogits. One work-group of 64 (fixed reduction order, no atomics). A label
 * outside [0, k) or a map entry outside [0, nsrc) makes the value and that
 * row NaN. The map must hold distinct entries (movl_labelmap_check). */
int movl_labelmap_xent(movl_device *dev, int batch, int nsrc, int k, cl_mem z_src, cl_mem map, cl_mem labels,
                       cl_mem dz_src, cl_mem out, int slot, char *err);

#endif
