/* Launchers of the loss terms (cl/discrepancy.cl, see discrepancy.h). */
#include "adapt/discrepancy.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/common.h"

static const char *const disc_names[] = {"none", "feature_mse", "cosine", "kl", "plain_ce", "pixel"};

const char *movl_disc_name(movl_disc_kind k) { return ((unsigned)k < 6) ? disc_names[k] : NULL; }

int movl_disc_parse(const char *name, movl_disc_kind *out, char *err)
{
    for (int k = 0; k < 6; k++)
        if (name && !strcmp(name, disc_names[k])) {
            *out = (movl_disc_kind)k;
            return MOVL_OK;
        }
    movl_set_error(err, "unknown discrepancy '%s' (expected none, feature_mse, cosine, kl, plain_ce or pixel)",
                   name ? name : "");
    return MOVL_ERR_INPUT;
}

/* Kernel `name` of discrepancy.cl, after checking the device can run groups of MOVL_REDUCE_LOCAL. */
static cl_kernel get_kernel(movl_device *dev, const char *name, char *err)
{
    cl_kernel k = movl_kernel(dev, "discrepancy", "", name, err);
    if (!k)
        return NULL;
    size_t max = 0;
    if (clGetKernelWorkGroupInfo(k, dev->id, CL_KERNEL_WORK_GROUP_SIZE, sizeof max, &max, NULL) == CL_SUCCESS &&
        max < MOVL_REDUCE_LOCAL) {
        movl_set_error(err, "%s: the device runs work-groups of at most %zu work-items, the loss kernels need %d",
                       name, max, MOVL_REDUCE_LOCAL);
        return NULL;
    }
    return k;
}

/* One group of MOVL_REDUCE_LOCAL work-items. */
static int launch_one_group(movl_device *dev, cl_kernel k, char *err)
{
    size_t global = MOVL_REDUCE_LOCAL, local = MOVL_REDUCE_LOCAL;
    return movl_launch(dev, k, 1, &global, &local, err);
}

static int check_slot(const char *op, cl_mem out, int slot, char *err)
{
    if (out && slot < 0) {
        movl_set_error(err, "%s: output slot %d (expected >= 0)", op, slot);
        return 0;
    }
    return 1;
}

int movl_disc_mse(movl_device *dev, size_t count, cl_mem a, cl_mem b, float lambda, int accumulate, cl_mem grad,
                  cl_mem scratch, cl_mem out, int slot, char *err)
{
    if (count < 1) {
        movl_set_error(err, "disc_mse: %zu elements (expected >= 1)", count);
        return MOVL_ERR_RUN;
    }
    if (!check_slot("disc_mse", out, slot, err))
        return MOVL_ERR_RUN;
    if (!scratch) {
        movl_set_error(err, "disc_mse: a scratch buffer of %d floats is required", MOVL_REDUCE_SCRATCH_FLOATS);
        return MOVL_ERR_RUN;
    }
    if (!out && !grad)
        return MOVL_OK;
    cl_kernel k1 = get_kernel(dev, "mse_partial", err);
    if (!k1)
        return MOVL_ERR_RUN;
    const int groups = MOVL_REDUCE_SCRATCH_FLOATS;
    cl_ulong n = count, chunk = (count + groups - 1) / groups;
    float gscale = (float)(2.0 * lambda / (double)count);
    int acc = accumulate != 0;
    if (movl_set_args(k1, err, MOVL_ARG(n), MOVL_ARG(chunk), MOVL_ARG(gscale), MOVL_ARG(acc), MOVL_ARG(a), MOVL_ARG(b),
                      MOVL_ARG(grad), MOVL_ARG(scratch), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global = (size_t)groups * MOVL_REDUCE_LOCAL, local = MOVL_REDUCE_LOCAL;
    if (movl_launch(dev, k1, 1, &global, &local, err))
        return MOVL_ERR_RUN;
    if (!out)
        return MOVL_OK;
    cl_kernel k2 = get_kernel(dev, "sum_partials", err);
    if (!k2)
        return MOVL_ERR_RUN;
    float scale = (float)(1.0 / (double)count);
    if (movl_set_args(k2, err, MOVL_ARG(groups), MOVL_ARG(scale), MOVL_ARG(scratch), MOVL_ARG(out), MOVL_ARG(slot),
                      MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch_one_group(dev, k2, err);
}

/* Shape check of the per-row losses. */
static int check_rows(const char *op, int batch, int width, const char *what, char *err)
{
    if (batch < 1 || width < 1 || (double)batch * width > INT_MAX - 1024) {
        movl_set_error(err, "%s: bad shape batch=%d %s=%d (expected positive sizes, fewer than 2^31 values)", op,
                       batch, what, width);
        return 0;
    }
    return 1;
}

int movl_disc_cosine(movl_device *dev, int batch, int dim, cl_mem a, cl_mem b, float lambda, int accumulate,
                     cl_mem grad, cl_mem out, int slot, char *err)
{
    if (!check_rows("disc_cosine", batch, dim, "dim", err) || !check_slot("disc_cosine", out, slot, err))
        return MOVL_ERR_RUN;
    if (!out && !grad)
        return MOVL_OK;
    cl_kernel k = get_kernel(dev, "cosine_disc", err);
    if (!k)
        return MOVL_ERR_RUN;
    float gscale = (float)((double)lambda / batch);
    int acc = accumulate != 0;
    if (movl_set_args(k, err, MOVL_ARG(batch), MOVL_ARG(dim), MOVL_ARG(gscale), MOVL_ARG(acc), MOVL_ARG(a),
                      MOVL_ARG(b), MOVL_ARG(grad), MOVL_ARG(out), MOVL_ARG(slot), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch_one_group(dev, k, err);
}

int movl_disc_kl(movl_device *dev, int batch, int k, float temperature, cl_mem z_prompted, cl_mem z_plain,
                 float lambda, int accumulate, cl_mem grad, cl_mem out, int slot, char *err)
{
    if (!check_rows("disc_kl", batch, k, "classes", err) || !check_slot("disc_kl", out, slot, err))
        return MOVL_ERR_RUN;
    if (!(temperature > 0) || !isfinite(temperature)) {
        movl_set_error(err, "disc_kl: temperature %g (expected a finite value > 0)", temperature);
        return MOVL_ERR_RUN;
    }
    if (!out && !grad)
        return MOVL_OK;
    cl_kernel kern = get_kernel(dev, "kl_disc", err);
    if (!kern)
        return MOVL_ERR_RUN;
    float inv_t = (float)(1.0 / temperature), gscale = (float)((double)lambda / batch / temperature);
    int acc = accumulate != 0;
    if (movl_set_args(kern, err, MOVL_ARG(batch), MOVL_ARG(k), MOVL_ARG(inv_t), MOVL_ARG(gscale), MOVL_ARG(acc),
                      MOVL_ARG(z_prompted), MOVL_ARG(z_plain), MOVL_ARG(grad), MOVL_ARG(out), MOVL_ARG(slot),
                      MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch_one_group(dev, kern, err);
}

int movl_xent_mean(movl_device *dev, int batch, int k, cl_mem z, cl_mem labels, float lambda, int accumulate,
                   cl_mem grad, cl_mem out, int slot, char *err)
{
    if (!check_rows("xent_mean", batch, k, "classes", err) || !check_slot("xent_mean", out, slot, err))
        return MOVL_ERR_RUN;
    if (!out && !grad)
        return MOVL_OK;
    cl_kernel kern = get_kernel(dev, "xent_mean", err);
    if (!kern)
        return MOVL_ERR_RUN;
    float gscale = (float)((double)lambda / batch);
    int acc = accumulate != 0;
    if (movl_set_args(kern, err, MOVL_ARG(batch), MOVL_ARG(k), MOVL_ARG(gscale), MOVL_ARG(acc), MOVL_ARG(z),
                      MOVL_ARG(labels), MOVL_ARG(grad), MOVL_ARG(out), MOVL_ARG(slot), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch_one_group(dev, kern, err);
}
