/* Visual prompts on the input image (docs/METHOD.md, "Visual prompts").
 *
 * Images are x[batch][3][S][S], fp32, normalised with the encoder's mean/std.
 * The prompt parameters delta are stored compactly on the device: only the
 * masked elements, channel-major, and inside a channel the masked pixels in
 * row-major (i, then j) order. Per type (p = the desc's p):
 *   padding, shrink_pad  mask = border of width p (i < p, i >= S-p, j < p or
 *                        j >= S-p); per channel 4p(S-p) values: the top strip
 *                        (p rows of S), then for each of the S-2p middle rows
 *                        its p left then p right pixels, then the bottom
 *                        strip (p rows of S). 3 * 4p(S-p) = 12p(S-p) in all.
 *   patch                a p x p square at the top-left corner: 3p^2 values,
 *                        delta[c][r][q] at pixel (r, q).
 *   random_patch         the same square at (oy + r, ox + q), (oy, ox) chosen
 *                        per batch by the trainer: 3p^2 values.
 *   full                 the whole image: 3S^2 values, delta[c][i][j].
 * movl_prompt_index gives the mapping, movl_prompt_expand renders it.
 *
 * Forward, with v = sigmoid(delta) when desc.sigmoid is set, else v = delta:
 *   additive types (padding, patch, random_patch, full):  y = x + M * v
 *     (normalised space; note sigmoid(0) = 0.5, so zero init is the identity
 *     only without the sigmoid);
 *   shrink_pad: y = M ? (v - mean[c]) / std[c] : x — the data module already
 *     resized the image to s = S - 2p and centred it, so the border of width
 *     p is exactly the padding; v is a pixel-space ([0, 1]) value.
 * Backward: ddelta = sum over the batch (in order b = 0, 1, ...) of M * dy,
 * times sigmoid'(delta) when sigmoid is used and 1/std[c] for shrink_pad.
 * One work-item per delta element: deterministic, no atomics. */
#ifndef MOVL_PROMPT_H
#define MOVL_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include "device/device.h"
#include "kinds/adapt_kinds.h"

typedef struct movl_prompt_desc {
    movl_prompt_type type;
    int size;              /* S: image side */
    int p;                 /* border width (padding, shrink_pad) or square side (patch, random_patch); full: unused */
    int sigmoid;           /* v = sigmoid(delta) instead of delta */
    float mean[3], std[3]; /* shrink_pad only: the encoder's normalisation (pixel = x * std + mean) */
} movl_prompt_desc;

/* "padding", "shrink_pad", "patch", "random_patch", "full"; NULL when unknown. */
const char *movl_prompt_type_name(movl_prompt_type t);
/* Name -> type; MOVL_ERR_INPUT with "unknown prompt type 'X' (expected ...)" when unknown. */
int movl_prompt_type_parse(const char *name, movl_prompt_type *out, char *err);

/* Validates the desc: S >= 1; padding/shrink_pad 1 <= p and 2p <= S; patch and
 * random_patch 1 <= p <= S; shrink_pad std > 0. MOVL_ERR_INPUT with a message. */
int movl_prompt_check(const movl_prompt_desc *d, char *err);
/* Number of delta values (formulas above); 0 for an invalid desc. */
size_t movl_prompt_param_count(const movl_prompt_desc *d);

/* Index into delta of channel c, pixel (i, j), or -1 where the mask is 0.
 * (oy, ox): the patch position (random_patch only; ignored otherwise). */
long movl_prompt_index(const movl_prompt_desc *d, int oy, int ox, int c, int i, int j);

/* Renders delta as a full 3 x S x S image (for the prompt PNG): image gets v
 * (sigmoid(delta) when used) at masked elements and 0 elsewhere; mask (S x S,
 * may be NULL) gets 1 where the prompt acts. For additive types v is what is
 * added in normalised space; for shrink_pad it is the pixel value in [0,1]
 * units. random_patch is drawn at (oy, ox). */
void movl_prompt_expand(const movl_prompt_desc *d, int oy, int ox, const float *delta, float *image,
                        unsigned char *mask);

/* Host initial values of delta (param_count floats): zero, or normal(0, std)
 * from splitmix64(seed) with Box-Muller (two values per pair of draws).
 * Same seed, same values on every machine. */
void movl_prompt_init_host(const movl_prompt_desc *d, movl_prompt_init init, float std, uint64_t seed, float *delta);
/* The same, uploaded into the device buffer delta (blocking; for setup, not per step). */
int movl_prompt_init_device(movl_device *dev, const movl_prompt_desc *d, movl_prompt_init init, float std,
                            uint64_t seed, cl_mem delta, char *err);

/* A random_patch position, uniform over 0 <= oy, ox <= S - p, drawn from the
 * splitmix64 state *rng (advanced). Other types get (0, 0). */
void movl_prompt_random_position(const movl_prompt_desc *d, uint64_t *rng, int *oy, int *ox);

/* y = prompted x (rules above), over batch images. y may equal x (in place),
 * but MoVL keeps the plain image, so usually y is a separate buffer.
 * (oy, ox): random_patch position, ignored by the other types (patch is at
 * (0, 0)). Enqueues only. MOVL_ERR_RUN for a bad desc or position. */
int movl_prompt_forward(movl_device *dev, const movl_prompt_desc *d, int batch, int oy, int ox, cl_mem x,
                        cl_mem delta, cl_mem y, char *err);
/* ddelta (param_count floats, overwritten) from dy = dL/dy ([batch][3][S][S]).
 * delta is read only when sigmoid is used (may be NULL otherwise). */
int movl_prompt_backward(movl_device *dev, const movl_prompt_desc *d, int batch, int oy, int ox, cl_mem delta,
                         cl_mem dy, cl_mem ddelta, char *err);

#endif
