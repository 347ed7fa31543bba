/* Visual prompts: parameter layout, host init/render helpers and the
 * launchers of cl/prompt.cl (see prompt.h). */
#include "adapt/prompt.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rng.h"
#include "device/launch_shape.h"

static const char *const type_names[] = {"padding", "shrink_pad", "patch", "random_patch", "full"};

const char *movl_prompt_type_name(movl_prompt_type t)
{
    return ((unsigned)t < 5) ? type_names[t] : NULL;
}

int movl_prompt_type_parse(const char *name, movl_prompt_type *out, char *err)
{
    for (int t = 0; t < 5; t++)
        if (name && !strcmp(name, type_names[t])) {
            *out = (movl_prompt_type)t;
            return MOVL_OK;
        }
    movl_set_error(err, "unknown prompt type '%s' (expected padding, shrink_pad, patch, random_patch or full)",
                   name ? name : "");
    return MOVL_ERR_INPUT;
}

static int is_border(movl_prompt_type t) { return t == MOVL_PROMPT_PADDING || t == MOVL_PROMPT_SHRINK_PAD; }
static int is_square(movl_prompt_type t) { return t == MOVL_PROMPT_PATCH || t == MOVL_PROMPT_RANDOM_PATCH; }

int movl_prompt_check(const movl_prompt_desc *d, char *err)
{
    const char *name = movl_prompt_type_name(d->type);
    if (!name) {
        movl_set_error(err, "prompt: unknown type %d (expected padding, shrink_pad, patch, random_patch or full)",
                       (int)d->type);
        return MOVL_ERR_INPUT;
    }
    /* 3 * S^2 values must index as int on the device. */
    if (d->size < 1 || d->size > 16384) {
        movl_set_error(err, "prompt %s: image size %d (expected 1..16384)", name, d->size);
        return MOVL_ERR_INPUT;
    }
    if (is_border(d->type) && (d->p < 1 || 2 * d->p > d->size)) {
        movl_set_error(err, "prompt %s: width %d for image size %d (expected 1 <= width <= size/2)", name, d->p,
                       d->size);
        return MOVL_ERR_INPUT;
    }
    if (is_square(d->type) && (d->p < 1 || d->p > d->size)) {
        movl_set_error(err, "prompt %s: side %d for image size %d (expected 1 <= side <= size)", name, d->p, d->size);
        return MOVL_ERR_INPUT;
    }
    if (d->type == MOVL_PROMPT_SHRINK_PAD)
        for (int c = 0; c < 3; c++)
            if (!(d->std[c] > 0) || !isfinite(d->mean[c]) || !isfinite(d->std[c])) {
                movl_set_error(err, "prompt shrink_pad: channel %d mean %g std %g (expected finite, std > 0)", c,
                               d->mean[c], d->std[c]);
                return MOVL_ERR_INPUT;
            }
    return MOVL_OK;
}

/* Delta values per channel. */
static size_t per_channel(const movl_prompt_desc *d)
{
    size_t S = (size_t)d->size, p = (size_t)d->p;
    if (is_border(d->type))
        return 4 * p * (S - p);
    if (is_square(d->type))
        return p * p;
    return S * S;
}

size_t movl_prompt_param_count(const movl_prompt_desc *d)
{
    if (movl_prompt_check(d, NULL) != MOVL_OK)
        return 0;
    return 3 * per_channel(d);
}

long movl_prompt_index(const movl_prompt_desc *d, int oy, int ox, int c, int i, int j)
{
    long S = d->size, p = d->p, n_c = (long)per_channel(d), r;
    if (i < 0 || i >= S || j < 0 || j >= S || c < 0 || c > 2)
        return -1;
    if (is_border(d->type)) {
        if (i >= p && i < S - p && j >= p && j < S - p)
            return -1;
        /* Masked pixels before row i, then those before column j in row i. */
        long before_row;
        if (i <= p)
            before_row = i * S;
        else if (i < S - p)
            before_row = p * S + (i - p) * 2 * p;
        else
            before_row = p * S + (S - 2 * p) * 2 * p + (i - (S - p)) * S;
        long in_row = (i < p || i >= S - p) ? j : (j < p ? j : j - (S - 2 * p));
        r = before_row + in_row;
    } else if (is_square(d->type)) {
        if (d->type == MOVL_PROMPT_PATCH)
            oy = ox = 0;
        if (i < oy || i >= oy + p || j < ox || j >= ox + p)
            return -1;
        r = (i - oy) * p + (j - ox);
    } else {
        r = i * S + j;
    }
    return c * n_c + r;
}

static float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

void movl_prompt_expand(const movl_prompt_desc *d, int oy, int ox, const float *delta, float *image,
                        unsigned char *mask)
{
    int S = d->size;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                long k = movl_prompt_index(d, oy, ox, c, i, j);
                float v = k < 0 ? 0.0f : (d->sigmoid ? sigmoid(delta[k]) : delta[k]);
                image[((size_t)c * S + i) * S + j] = v;
                if (mask && c == 0)
                    mask[(size_t)i * S + j] = k >= 0;
            }
}

void movl_prompt_init_host(const movl_prompt_desc *d, movl_prompt_init init, float std, uint64_t seed, float *delta)
{
    size_t n = movl_prompt_param_count(d);
    if (init != MOVL_PROMPT_INIT_NORMAL) {
        memset(delta, 0, n * sizeof *delta);
        return;
    }
    uint64_t state = seed;
    const double two_pi = 6.283185307179586476925;
    for (size_t i = 0; i < n; i += 2) {
        double u1 = 1.0 - movl_splitmix_uniform01(&state), u2 = movl_splitmix_uniform01(&state); /* u1 in (0, 1]: log is finite */
        double r = sqrt(-2.0 * log(u1));
        delta[i] = (float)(std * r * cos(two_pi * u2));
        if (i + 1 < n)
            delta[i + 1] = (float)(std * r * sin(two_pi * u2));
    }
}

int movl_prompt_init_device(movl_device *dev, const movl_prompt_desc *d, movl_prompt_init init, float std,
                            uint64_t seed, cl_mem delta, char *err)
{
    if (movl_prompt_check(d, err) != MOVL_OK)
        return MOVL_ERR_INPUT;
    size_t n = movl_prompt_param_count(d);
    float *host = malloc(n * sizeof *host);
    if (!host) {
        movl_set_error(err, "prompt init: out of host memory for %zu values", n);
        return MOVL_ERR_RUN;
    }
    movl_prompt_init_host(d, init, std, seed, host);
    int rc = movl_upload(dev, delta, host, n * sizeof *host, err);
    free(host);
    return rc ? MOVL_ERR_RUN : MOVL_OK;
}

void movl_prompt_random_position(const movl_prompt_desc *d, uint64_t *rng, int *oy, int *ox)
{
    *oy = *ox = 0;
    if (d->type != MOVL_PROMPT_RANDOM_PATCH || d->p < 1 || d->p > d->size)
        return;
    uint64_t range = (uint64_t)(d->size - d->p) + 1;
    *oy = (int)movl_splitmix_below(rng, range);
    *ox = (int)movl_splitmix_below(rng, range);
}

/* Shared argument checks of the launchers. */
static int check_launch(const movl_prompt_desc *d, int batch, int oy, int ox, const char *op, char *err)
{
    if (movl_prompt_check(d, err) != MOVL_OK)
        return MOVL_ERR_RUN;
    if (batch < 1 || (double)batch * 3 * d->size * d->size > (double)LLONG_MAX / 8) {
        movl_set_error(err, "%s: batch %d (expected >= 1)", op, batch);
        return MOVL_ERR_RUN;
    }
    if (d->type == MOVL_PROMPT_RANDOM_PATCH && (oy < 0 || ox < 0 || oy > d->size - d->p || ox > d->size - d->p)) {
        movl_set_error(err, "%s: random_patch position (%d, %d) for side %d in size %d (expected 0..%d)", op, oy, ox,
                       d->p, d->size, d->size - d->p);
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int movl_prompt_forward(movl_device *dev, const movl_prompt_desc *d, int batch, int oy, int ox, cl_mem x,
                        cl_mem delta, cl_mem y, char *err)
{
    if (check_launch(d, batch, oy, ox, "prompt_forward", err))
        return MOVL_ERR_RUN;
    cl_kernel k = movl_kernel(dev, "prompt", "", "prompt_forward", err);
    if (!k)
        return MOVL_ERR_RUN;
    int type = (int)d->type, S = d->size, p = d->p, sig = d->sigmoid != 0;
    if (d->type != MOVL_PROMPT_RANDOM_PATCH)
        oy = ox = 0;
    cl_ulong total = (cl_ulong)batch * 3 * S * S;
    float m0 = d->mean[0], m1 = d->mean[1], m2 = d->mean[2], s0 = 1, s1 = 1, s2 = 1;
    if (d->type == MOVL_PROMPT_SHRINK_PAD) {
        s0 = d->std[0];
        s1 = d->std[1];
        s2 = d->std[2];
    }
    if (movl_set_args(k, err, MOVL_ARG(type), MOVL_ARG(S), MOVL_ARG(p), MOVL_ARG(oy), MOVL_ARG(ox), MOVL_ARG(sig),
                      MOVL_ARG(total), MOVL_ARG(m0), MOVL_ARG(m1), MOVL_ARG(m2), MOVL_ARG(s0), MOVL_ARG(s1),
                      MOVL_ARG(s2), MOVL_ARG(x), MOVL_ARG(delta), MOVL_ARG(y), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global = (size_t)total, local = movl_ops_group_size(dev);
    return movl_launch(dev, k, 1, &global, &local, err);
}

int movl_prompt_backward(movl_device *dev, const movl_prompt_desc *d, int batch, int oy, int ox, cl_mem delta,
                         cl_mem dy, cl_mem ddelta, char *err)
{
    if (check_launch(d, batch, oy, ox, "prompt_backward", err))
        return MOVL_ERR_RUN;
    cl_kernel k = movl_kernel(dev, "prompt", "", "prompt_backward", err);
    if (!k)
        return MOVL_ERR_RUN;
    int type = (int)d->type, S = d->size, p = d->p, sig = d->sigmoid != 0, n = (int)movl_prompt_param_count(d);
    if (d->type != MOVL_PROMPT_RANDOM_PATCH)
        oy = ox = 0;
    float s0 = 1, s1 = 1, s2 = 1;
    if (d->type == MOVL_PROMPT_SHRINK_PAD) {
        s0 = 1.0f / d->std[0];
        s1 = 1.0f / d->std[1];
        s2 = 1.0f / d->std[2];
    }
    if (movl_set_args(k, err, MOVL_ARG(type), MOVL_ARG(S), MOVL_ARG(p), MOVL_ARG(oy), MOVL_ARG(ox), MOVL_ARG(sig),
                      MOVL_ARG(batch), MOVL_ARG(n), MOVL_ARG(s0), MOVL_ARG(s1), MOVL_ARG(s2), MOVL_ARG(delta),
                      MOVL_ARG(dy), MOVL_ARG(ddelta), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    /* Work-items of a group read neighbouring pixels of one channel plane. */
    size_t global = (size_t)n, local = dev->info.is_cpu ? 256 : 64;
    if (dev->info.max_work_group && local > dev->info.max_work_group)
        local = dev->info.max_work_group;
    return movl_launch(dev, k, 1, &global, &local, err);
}
